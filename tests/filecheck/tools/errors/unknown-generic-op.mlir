// The same in the generic form.
// RUN: not sparsec-opt %s 2>&1 >/dev/null | filecheck %s

// CHECK-NOT: Traceback
// CHECK:      unknown-generic-op.mlir:[[# @LINE + 5]]:9: error: Operation nn.conv3d is not registered
// CHECK-NEXT:   %y = "nn.conv3d"(%x) : (tensor<2xf32>) -> tensor<2xf32>
// CHECK-NEXT:         ^^^^^^^^^
// CHECK-NOT: Traceback
func.func @main(%x: tensor<2xf32>) -> tensor<2xf32> {
  %y = "nn.conv3d"(%x) : (tensor<2xf32>) -> tensor<2xf32>
  func.return %y : tensor<2xf32>
}
