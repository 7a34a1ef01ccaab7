// A type error found by the verifier: the op's location, its name, both types.
// RUN: not sparsec-opt %s 2>&1 >/dev/null | filecheck %s
// RUN: not sparsec-opt %s 2>/dev/null | filecheck %s --check-prefix=STDOUT --allow-empty
// STDOUT-NOT: {{.}}

// CHECK-NOT: Traceback
// CHECK: type-error.mlir:[[# @LINE + 4]]:3: error: nn.add: element types differ: tensor<2xf32> and tensor<2xf16>
// CHECK-NOT: Traceback
func.func @main(%a: tensor<2xf32>, %b: tensor<2xf16>) -> tensor<2xf32> {
  %y = nn.relu %a : (tensor<2xf32>) -> tensor<2xf32>
  %s = nn.add %y, %b : (tensor<2xf32>, tensor<2xf16>) -> tensor<2xf32>
  func.return %s : tensor<2xf32>
}
