// The sparse encodings on tensor types, and sparse.assemble for each format, feeding the
// nn ops that take weights. Every array is an ordinary nn.constant (inline here; large
// ones are dense_resource blobs in the trailer).
//
// RUN: sparsec-opt %s --split-input-file | filecheck %s
// RUN: sparsec-opt %s --split-input-file | sparsec-opt --split-input-file | filecheck %s
// RUN: SPARSEC_ROUNDTRIP
// RUN: SPARSEC_GENERIC_ROUNDTRIP
// RUN: sparsec-opt %s --split-input-file > %t.custom
// RUN: sparsec-opt %s --split-input-file --print-op-generic | sparsec-opt --split-input-file | diff %t.custom -

// Encodings are attributes of the type: function signatures carry them too.
func.func @encodings(%a: tensor<16x32xf32, #sparse.bcr<block = [8, 4]>>, %b: tensor<16x32xf32, #sparse.bsr<block = [4, 4]>>, %c: tensor<16x32xf32, #sparse.csr>, %d: tensor<8x4x3x3xf32, #sparse.pattern<patterns = [[0, 1, 3, 4], [1, 4, 5, 7]]>>) {
  func.return
}

// CHECK-LABEL: func.func @encodings
// CHECK-SAME: %a: tensor<16x32xf32, #sparse.bcr<block = [8, 4]>>
// CHECK-SAME: %b: tensor<16x32xf32, #sparse.bsr<block = [4, 4]>>
// CHECK-SAME: %c: tensor<16x32xf32, #sparse.csr>
// CHECK-SAME: %d: tensor<8x4x3x3xf32, #sparse.pattern<patterns = {{\[\[}}0, 1, 3, 4], [1, 4, 5, 7]]>>

// CHECK-GENERIC: "func.func"() <{sym_name = "encodings", function_type = (tensor<16x32xf32, #sparse.bcr<block = [8, 4]>>, tensor<16x32xf32, #sparse.bsr<block = [4, 4]>>, tensor<16x32xf32, #sparse.csr>, tensor<8x4x3x3xf32, #sparse.pattern<patterns = {{\[\[}}0, 1, 3, 4], [1, 4, 5, 7]]>>) -> ()}>

// -----

// CSR: [[0, 0, 1, 0], [2, 0, 0, 3]]
func.func @csr(%x: tensor<3x4xf32>) -> tensor<3x2xf32> {
  %indptr = nn.constant dense<[0, 1, 3]> : tensor<3xi32>
  %indices = nn.constant dense<[2, 0, 3]> : tensor<3xi32>
  %values = nn.constant dense<[1.0, 2.0, 3.0]> : tensor<3xf32>
  %w = sparse.assemble %indptr, %indices, %values : (tensor<3xi32>, tensor<3xi32>, tensor<3xf32>) -> tensor<2x4xf32, #sparse.csr>
  %y = nn.linear %x, %w : (tensor<3x4xf32>, tensor<2x4xf32, #sparse.csr>) -> tensor<3x2xf32>
  func.return %y : tensor<3x2xf32>
}

// CHECK-LABEL: func.func @csr
// CHECK:       %w = sparse.assemble %indptr, %indices, %values : (tensor<3xi32>, tensor<3xi32>, tensor<3xf32>) -> tensor<2x4xf32, #sparse.csr>
// CHECK-NEXT:  %y = nn.linear %x, %w : (tensor<3x4xf32>, tensor<2x4xf32, #sparse.csr>) -> tensor<3x2xf32>

// CHECK-GENERIC: %w = "sparse.assemble"(%indptr, %indices, %values) : (tensor<3xi32>, tensor<3xi32>, tensor<3xf32>) -> tensor<2x4xf32, #sparse.csr>

// -----

// BSR with 1x2 blocks: [[0, 0, 1, 2], [3, 4, 0, 0]], as the right operand of a matmul.
func.func @bsr(%x: tensor<3x2xf32>) -> tensor<3x4xf32> {
  %indptr = nn.constant dense<[0, 1, 2]> : tensor<3xi32>
  %indices = nn.constant dense<[1, 0]> : tensor<2xi32>
  %blocks = nn.constant dense<[[[1.0, 2.0]], [[3.0, 4.0]]]> : tensor<2x1x2xf32>
  %w = sparse.assemble %indptr, %indices, %blocks : (tensor<3xi32>, tensor<2xi32>, tensor<2x1x2xf32>) -> tensor<2x4xf32, #sparse.bsr<block = [1, 2]>>
  %y = nn.matmul %x, %w : (tensor<3x2xf32>, tensor<2x4xf32, #sparse.bsr<block = [1, 2]>>) -> tensor<3x4xf32>
  func.return %y : tensor<3x4xf32>
}

// CHECK-LABEL: func.func @bsr
// CHECK:       %w = sparse.assemble %indptr, %indices, %blocks : (tensor<3xi32>, tensor<2xi32>, tensor<2x1x2xf32>) -> tensor<2x4xf32, #sparse.bsr<block = [1, 2]>>
// CHECK-NEXT:  %y = nn.matmul %x, %w : (tensor<3x2xf32>, tensor<2x4xf32, #sparse.bsr<block = [1, 2]>>) -> tensor<3x4xf32>

// -----

// BCR with 2x2 tiles: [[0, 1, 0, 2], [0, 0, 0, 3]]. Tile 0 keeps row 0 x column 1, tile 1
// keeps rows 0..1 x column 3.
func.func @bcr(%x: tensor<3x4xf32>) -> tensor<3x2xf32> {
  %reorder = nn.constant dense<[0, 1]> : tensor<2xi32>
  %row_ptr = nn.constant dense<[0, 1, 3]> : tensor<3xi32>
  %rows = nn.constant dense<[0, 0, 1]> : tensor<3xi32>
  %col_ptr = nn.constant dense<[0, 1, 2]> : tensor<3xi32>
  %cols = nn.constant dense<[1, 3]> : tensor<2xi32>
  %val_ptr = nn.constant dense<[0, 1, 3]> : tensor<3xi32>
  %values = nn.constant dense<[1.0, 2.0, 3.0]> : tensor<3xf32>
  %w = sparse.assemble %reorder, %row_ptr, %rows, %col_ptr, %cols, %val_ptr, %values : (tensor<2xi32>, tensor<3xi32>, tensor<3xi32>, tensor<3xi32>, tensor<2xi32>, tensor<3xi32>, tensor<3xf32>) -> tensor<2x4xf32, #sparse.bcr<block = [2, 2]>>
  %y = nn.linear %x, %w : (tensor<3x4xf32>, tensor<2x4xf32, #sparse.bcr<block = [2, 2]>>) -> tensor<3x2xf32>
  func.return %y : tensor<3x2xf32>
}

// CHECK-LABEL: func.func @bcr
// CHECK:       %w = sparse.assemble %reorder, %row_ptr, %rows, %col_ptr, %cols, %val_ptr, %values : (tensor<2xi32>, tensor<3xi32>, tensor<3xi32>, tensor<3xi32>, tensor<2xi32>, tensor<3xi32>, tensor<3xf32>) -> tensor<2x4xf32, #sparse.bcr<block = [2, 2]>>
// CHECK-NEXT:  %y = nn.linear %x, %w : (tensor<3x4xf32>, tensor<2x4xf32, #sparse.bcr<block = [2, 2]>>) -> tensor<3x2xf32>

// -----

// Patterns (FKW): filter 0 keeps its kernel in pattern 1, filter 1 in pattern 0.
func.func @pattern(%x: tensor<1x1x4x4xf32>) -> tensor<1x2x2x2xf32> {
  %reorder = nn.constant dense<[0, 1]> : tensor<2xi32>
  %offsets = nn.constant dense<[0, 1, 2]> : tensor<3xi32>
  %strides = nn.constant dense<[0, 1, 2]> : tensor<3xi32>
  %pattern_ids = nn.constant dense<[1, 0]> : tensor<2xi32>
  %channels = nn.constant dense<[0, 0]> : tensor<2xi32>
  %weights = nn.constant dense<[[1.0, 2.0, 3.0, 4.0], [5.0, 6.0, 7.0, 8.0]]> : tensor<2x4xf32>
  %w = sparse.assemble %reorder, %offsets, %strides, %pattern_ids, %channels, %weights : (tensor<2xi32>, tensor<3xi32>, tensor<3xi32>, tensor<2xi32>, tensor<2xi32>, tensor<2x4xf32>) -> tensor<2x1x3x3xf32, #sparse.pattern<patterns = [[0, 1, 3, 4], [1, 4, 5, 7]]>>
  %y = nn.conv2d %x, %w {stride = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilation = array<i64: 1, 1>, groups = 1 : i64} : (tensor<1x1x4x4xf32>, tensor<2x1x3x3xf32, #sparse.pattern<patterns = [[0, 1, 3, 4], [1, 4, 5, 7]]>>) -> tensor<1x2x2x2xf32>
  func.return %y : tensor<1x2x2x2xf32>
}

// CHECK-LABEL: func.func @pattern
// CHECK:       %w = sparse.assemble %reorder, %offsets, %strides, %pattern_ids, %channels, %weights : (tensor<2xi32>, tensor<3xi32>, tensor<3xi32>, tensor<2xi32>, tensor<2xi32>, tensor<2x4xf32>) -> tensor<2x1x3x3xf32, #sparse.pattern<patterns = {{\[\[}}0, 1, 3, 4], [1, 4, 5, 7]]>>
// CHECK-NEXT:  %y = nn.conv2d %x, %w
