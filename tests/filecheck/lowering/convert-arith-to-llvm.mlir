// `convert-arith-to-llvm`: arith ops become llvm ops and `index` becomes i64 everywhere.
// RUN: sparsec-opt %s -p convert-arith-to-llvm --split-input-file --verify-diagnostics | filecheck %s

func.func @f(%i: index, %j: index, %x: f32) -> (index, i32, i32, f32) {
  %c3 = arith.constant 3 : index
  %a = arith.addi %i, %j : index
  %d = arith.floordivsi %a, %c3 : index
  %lt = arith.cmpi slt, %d, %j : index
  %s = arith.select %lt, %d, %j : index
  %y = arith.maxnumf %x, %x : f32
  %k = arith.index_cast %s : index to i32
  %t = arith.fptosi %y : f32 to i32
  func.return %s, %k, %t, %y : index, i32, i32, f32
}

// CHECK:      func.func @f(%i: i64, %j: i64, %x: f32) -> (i64, i32, i32, f32) {
// CHECK-NEXT:   %c3 = llvm.mlir.constant(3) : i64
// CHECK-NEXT:   %a = llvm.add %i, %j : i64
// floordiv: sdiv rounds towards zero; subtract 1 when the remainder is non-zero and its
// sign differs from the divisor's.
// CHECK-NEXT:   %[[Q:.*]] = llvm.sdiv %a, %c3 : i64
// CHECK-NEXT:   %[[R:.*]] = llvm.srem %a, %c3 : i64
// CHECK:        %[[ADJUST:.*]] = llvm.select %{{.*}}, %{{.*}}, %{{.*}} : i1, i64
// CHECK-NEXT:   %d = llvm.sub %[[Q]], %[[ADJUST]] : i64
// CHECK-NEXT:   %lt = llvm.icmp "slt" %d, %j : i64
// CHECK-NEXT:   %s = llvm.select %lt, %d, %j : i1, i64
// CHECK-NEXT:   %y = llvm.call_intrinsic "llvm.maxnum.f32"(%x, %x) : (f32, f32) -> f32
// index (i64) to i32 truncates; f32 to i32 saturates.
// CHECK-NEXT:   %k = llvm.trunc %s : i64 to i32
// CHECK-NEXT:   %t = llvm.call_intrinsic "llvm.fptosi.sat.i32.f32"(%y) : (f32) -> i32
// CHECK-NEXT:   func.return %s, %k, %t, %y : i64, i32, i32, f32

// -----

// memref (and scf, vector) ops need index operands: they must be lowered first.
func.func @g(%m: memref<4xf32>, %i: index) -> f32 {
  %x = memref.load %m[%i] : memref<4xf32>
  func.return %x : f32
}

// CHECK: convert-arith-to-llvm: memref.load needs index operands; run convert-scf-to-cf, convert-vector-to-llvm and convert-memref-to-llvm first
