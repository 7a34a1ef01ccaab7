// MLIR accepts numeric block labels (^0); xDSL cannot name a block that way. Say so at
// the label instead of failing without a location.
// RUN: not sparsec-opt %s 2>&1 >/dev/null | filecheck %s

// CHECK-NOT: Traceback
// CHECK:      block-label.mlir:[[# @LINE + 6]]:3: error: block label ^0 is not supported: a block name must not start with a digit (write ^bb0)
// CHECK-NEXT:   ^0(%a: tensor<2xf32>):
// CHECK-NEXT:   ^^
// CHECK-NOT: Traceback
func.func @main(%x: tensor<2xf32>) -> tensor<2xf32> {
  %y = nn.fused %x attributes {mapping = "one-to-one"} {
  ^0(%a: tensor<2xf32>):
    nn.yield %a : tensor<2xf32>
  } : (tensor<2xf32>) -> tensor<2xf32>
  func.return %y : tensor<2xf32>
}
