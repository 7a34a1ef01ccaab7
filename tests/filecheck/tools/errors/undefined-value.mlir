// A use of a value nobody defines. (xDSL reports it at the end of the input.)
// RUN: not sparsec-opt %s 2>&1 >/dev/null | filecheck %s

// CHECK-NOT: Traceback
// CHECK: undefined-value.mlir:{{[0-9]+}}:{{[0-9]+}}: error: values used but not defined: [%w]
// CHECK-NOT: Traceback
func.func @main(%x: tensor<2xf32>) -> tensor<2xf32> {
  %y = nn.add %x, %w : (tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32>
  func.return %y : tensor<2xf32>
}
