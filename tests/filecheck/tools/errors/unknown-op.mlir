// An op no registered dialect defines: the error points at its name.
// RUN: not sparsec-opt %s 2>&1 >/dev/null | filecheck %s
// RUN: not sparsec-opt %s 2>/dev/null | filecheck %s --check-prefix=STDOUT --allow-empty
// STDOUT-NOT: {{.}}

// CHECK-NOT: Traceback
// CHECK:      unknown-op.mlir:[[# @LINE + 5]]:8: error: Operation nn.frobnicate is not registered
// CHECK-NEXT:   %y = nn.frobnicate %x : (tensor<2xf32>) -> tensor<2xf32>
// CHECK-NEXT:        ^^^^^^^^^^^^^
// CHECK-NOT: Traceback
func.func @main(%x: tensor<2xf32>) -> tensor<2xf32> {
  %y = nn.frobnicate %x : (tensor<2xf32>) -> tensor<2xf32>
  func.return %y : tensor<2xf32>
}
