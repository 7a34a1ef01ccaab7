// sparsify with no options on an already-pruned model: the structure is detected from the
// zeros and packed, losslessly. Here: a pattern-pruned conv (kernels keep {0,2,3,4} and
// {0,1,2,4}; filter 1 removed by connectivity pruning), a linear layer pruned with BCR
// 2x4 tiles at rate 0.75 (each tile keeps 1 row x 2 columns), and a matmul weight with
// unstructured zeros.
//
// RUN: sparsec-opt %s -p sparsify | filecheck %s
// RUN: sparsec-opt %s -p 'sparsify{scheme=detect block=2x2}' | filecheck %s --check-prefix=BLOCK

func.func @main(%x: tensor<1x2x2x2xf32>) -> tensor<1x4xf32> {
  %conv_w = nn.constant dense<[[[[-29.0, 0.0, 13.0], [-31.0, 26.0, 0.0], [0.0, 0.0, 0.0]], [[35.0, 5.0, -21.0], [0.0, -24.0, 0.0], [0.0, 0.0, 0.0]]], [[[0.0, 0.0, 0.0], [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]], [[0.0, 0.0, 0.0], [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]]]]> : tensor<2x2x3x3xf32>
  %fc_w = nn.constant dense<[[0.0, 0.0, 21.0, 28.0, 0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0, 24.0, 20.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0, 0.0, 19.0, 27.0, 0.0], [26.0, 0.0, 0.0, 22.0, 0.0, 0.0, 0.0, 0.0]]> : tensor<4x8xf32>
  %mm_w = nn.constant dense<[[1.0, 0.0, 0.0, 2.0], [0.0, 3.0, 0.0, 0.0], [0.0, 0.0, 0.0, 4.0], [5.0, 0.0, 6.0, 0.0]]> : tensor<4x4xf32>
  %c = nn.conv2d %x, %conv_w {stride = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>, dilation = array<i64: 1, 1>, groups = 1 : i64} : (tensor<1x2x2x2xf32>, tensor<2x2x3x3xf32>) -> tensor<1x2x2x2xf32>
  %f = nn.reshape %c : (tensor<1x2x2x2xf32>) -> tensor<1x8xf32>
  %l = nn.linear %f, %fc_w : (tensor<1x8xf32>, tensor<4x8xf32>) -> tensor<1x4xf32>
  %y = nn.matmul %l, %mm_w : (tensor<1x4xf32>, tensor<4x4xf32>) -> tensor<1x4xf32>
  func.return %y : tensor<1x4xf32>
}

// CHECK:      %conv_w = sparse.assemble {{.*}} -> tensor<2x2x3x3xf32, #sparse.pattern<patterns = {{\[\[}}0, 1, 2, 4], [0, 2, 3, 4]]>>
// The largest exact tiling of fc_w is the pruning's 2x4 (2x8 and 4x4 would store zeros):
// CHECK:      %rows = nn.constant dense<[0, 1, 3, 2]> : tensor<4xi32>
// CHECK-NEXT: %col_ptr = nn.constant dense<[0, 2, 4, 6, 8]> : tensor<5xi32>
// CHECK-NEXT: %cols = nn.constant dense<[2, 3, 4, 5, 0, 3, 5, 6]> : tensor<8xi32>
// CHECK:      %fc_w = sparse.assemble {{.*}} -> tensor<4x8xf32, #sparse.bcr<block = [2, 4]>>
// No tiling of mm_w is exact (tile [0:2, 0:2] holds the diagonal 1, 3): CSR.
// CHECK:      %mm_w = sparse.assemble {{.*}} -> tensor<4x4xf32, #sparse.csr>
// CHECK:      nn.conv2d %x, %conv_w
// CHECK:      nn.linear %f, %fc_w
// CHECK:      nn.matmul %l, %mm_w

// With a block, detection tries only that tile size for BCR:
// BLOCK: %fc_w = sparse.assemble {{.*}} -> tensor<4x8xf32, #sparse.bcr<block = [2, 2]>>
// BLOCK: %mm_w = sparse.assemble {{.*}} -> tensor<4x4xf32, #sparse.csr>
