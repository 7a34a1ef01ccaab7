// `convert-func-to-llvm`: @main stays visible (external), kernels become internal,
// declarations external; argument attributes and the parallel mark carry over.
// RUN: sparsec-opt %s -p convert-func-to-llvm | filecheck %s

func.func @main(%x: !llvm.ptr, %n: i64) {
  %zero = llvm.mlir.constant(0) : i64
  func.call @kernel(%x, %zero, %n) {sparsec.parallel = 2 : i64} : (!llvm.ptr, i64, i64) -> ()
  %t = func.call @tick() : () -> i64
  func.return
}
func.func private @kernel(%p: !llvm.ptr {llvm.noalias}, %lo: i64, %hi: i64) {
  func.return
}
func.func private @tick() -> i64

// CHECK:      llvm.func @main(%x: !llvm.ptr, %n: i64) {
// CHECK:        llvm.call @kernel(%x, %zero, %n) {sparsec.parallel = 2 : i64} : (!llvm.ptr, i64, i64) -> ()
// CHECK-NEXT:   %t = llvm.call @tick() : () -> i64
// CHECK-NEXT:   llvm.return
// CHECK:      llvm.func internal @kernel(%p: !llvm.ptr {llvm.noalias}, %lo: i64, %hi: i64) {
// CHECK-NEXT:   llvm.return
// CHECK:      llvm.func @tick() -> i64
// CHECK-NOT:  func.
