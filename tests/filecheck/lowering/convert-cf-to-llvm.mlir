// `convert-cf-to-llvm`: branches keep their successors and block arguments.
// RUN: sparsec-opt %s -p convert-cf-to-llvm | filecheck %s

func.func @count(%n: i64) -> i64 {
  %zero = llvm.mlir.constant(0) : i64
  %one = llvm.mlir.constant(1) : i64
  cf.br ^loop(%zero : i64)
^loop(%i: i64):
  %more = llvm.icmp "slt" %i, %n : i64
  cf.cond_br %more, ^body, ^done(%i : i64)
^body:
  %next = llvm.add %i, %one : i64
  cf.br ^loop(%next : i64)
^done(%result: i64):
  func.return %result : i64
}

// CHECK:      llvm.br ^[[LOOP:.*]](%zero : i64)
// CHECK-NEXT: ^[[LOOP]](%i: i64):
// CHECK-NEXT:   %more = llvm.icmp "slt" %i, %n : i64
// CHECK-NEXT:   llvm.cond_br %more, ^[[BODY:.*]], ^[[DONE:.*]](%i : i64)
// CHECK-NEXT: ^[[BODY]]:
// CHECK-NEXT:   %next = llvm.add %i, %one : i64
// CHECK-NEXT:   llvm.br ^[[LOOP]](%next : i64)
// CHECK-NEXT: ^[[DONE]](%result: i64):
// CHECK-NOT:  cf.
