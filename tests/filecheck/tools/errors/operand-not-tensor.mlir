// A type error the custom syntax finds while parsing (nn ops take tensors): reported like
// a verifier error, at the op, naming it.
// RUN: not sparsec-opt %s 2>&1 >/dev/null | filecheck %s

// CHECK-NOT: Traceback
// CHECK: operand-not-tensor.mlir:[[# @LINE + 3]]:3: error: nn.sigmoid: i32 should be of base attribute tensor
// CHECK-NOT: Traceback
func.func @main(%x: i32) -> i32 {
  %y = nn.sigmoid %x : (i32) -> i32
  func.return %y : i32
}
