// Malformed MLIR: `file:line:col: error:` on stderr, the source line with the offending
// token underlined, nothing on stdout, exit code 1, no Python traceback.
// RUN: not sparsec-opt %s 2>&1 >/dev/null | filecheck %s
// RUN: not sparsec-opt %s 2>/dev/null | filecheck %s --check-prefix=STDOUT --allow-empty
// STDOUT-NOT: {{.}}
// From stdin the file is called "stdin":
// RUN: not sparsec-opt < %s 2>&1 | filecheck %s --check-prefix=STDIN

// CHECK-NOT: Traceback
// CHECK:      syntax-error.mlir:[[# @LINE + 6]]:18: error: Expected ':'
// CHECK-NEXT:   func.return %y tensor<2xf32>
// CHECK-NEXT:                  ^^^^^^
// STDIN:      stdin:[[# @LINE + 3]]:18: error: Expected ':'
func.func @main(%x: tensor<2xf32>) -> tensor<2xf32> {
  %y = nn.relu %x : (tensor<2xf32>) -> tensor<2xf32>
  func.return %y tensor<2xf32>
}
// CHECK-NOT: Traceback
