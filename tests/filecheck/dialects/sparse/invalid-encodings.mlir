// Encodings that are not valid on their own are parse errors at the attribute, naming it.
// RUN: sparsec-opt %s --split-input-file --parsing-diagnostics | filecheck %s

func.func @f(%x: tensor<8x8xf32, #sparse.bcr<block = [0, 4]>>) {
  func.return
}
// CHECK: #sparse.bcr: block must be two positive integers [rows, columns], got [0, 4]

// -----

func.func @f(%x: tensor<8x8xf32, #sparse.bsr<block = [4, 4, 4]>>) {
  func.return
}
// CHECK: #sparse.bsr: block must be two positive integers [rows, columns], got [4, 4, 4]

// -----

func.func @f(%x: tensor<8x8x3x3xf32, #sparse.pattern<patterns = [[0, 1, 4]]>>) {
  func.return
}
// CHECK: #sparse.pattern: pattern 0 [0, 1, 4] keeps 3 weights; a pattern keeps 4

// -----

func.func @f(%x: tensor<8x8x3x3xf32, #sparse.pattern<patterns = [[0, 1, 4, 5], [0, 1, 2, 3]]>>) {
  func.return
}
// CHECK: #sparse.pattern: pattern 1 [0, 1, 2, 3] does not keep the centre (position 4)

// -----

func.func @f(%x: tensor<8x8x3x3xf32, #sparse.pattern<patterns = [[0, 1, 4, 5], [0, 1, 4, 5]]>>) {
  func.return
}
// CHECK: #sparse.pattern: pattern 1 [0, 1, 4, 5] repeats pattern 0

// -----

func.func @f(%x: tensor<8x8x3x3xf32, #sparse.pattern<patterns = [[0, 4, 5, 9]]>>) {
  func.return
}
// CHECK: #sparse.pattern: pattern 0 [0, 4, 5, 9] has a position outside 0..8 (a 3x3 kernel, row-major)

// -----

func.func @f(%x: tensor<8x8x3x3xf32, #sparse.pattern<patterns = []>>) {
  func.return
}
// CHECK: #sparse.pattern: the pattern set is empty
