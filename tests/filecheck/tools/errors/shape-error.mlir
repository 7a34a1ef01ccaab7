// A shape error: the verifier names the op and both shapes.
// RUN: not sparsec-opt %s 2>&1 >/dev/null | filecheck %s
// RUN: not sparsec-opt %s 2>/dev/null | filecheck %s --check-prefix=STDOUT --allow-empty
// STDOUT-NOT: {{.}}
// Passes never run on invalid input:
// RUN: not sparsec-opt %s --pass classify 2>&1 | filecheck %s

// CHECK-NOT: Traceback
// CHECK: shape-error.mlir:[[# @LINE + 5]]:3: error: nn.matmul: contraction dims differ: (1, 8, 16) @ (32, 4)
// CHECK-NOT: Traceback
// CHECK-NOT: nn.mapping
func.func @main(%x: tensor<1x8x16xf32>, %w: tensor<32x4xf32>) -> tensor<1x8x4xf32> {
  %n = nn.softmax %x {axis = -1 : i64} : (tensor<1x8x16xf32>) -> tensor<1x8x16xf32>
  %y = nn.matmul %n, %w : (tensor<1x8x16xf32>, tensor<32x4xf32>) -> tensor<1x8x4xf32>
  func.return %y : tensor<1x8x4xf32>
}
