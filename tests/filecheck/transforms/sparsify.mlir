// sparsify: prune constant weights to a scheme and pack them; weights the scheme does
// not fit, and (with no options) dense weights, are left alone.
//
// RUN: sparsec-opt %s -p 'sparsify{scheme=bcr block=2x4 rate=0.5}' | filecheck %s --check-prefix=BCR
// RUN: sparsec-opt %s -p 'sparsify{scheme=pattern patterns=2 connectivity=2 block=2x4 rate=0.5}' | filecheck %s --check-prefix=PATTERN
// RUN: sparsec-opt %s -p 'sparsify{scheme=csr rate=0.75}' | filecheck %s --check-prefix=CSR
// RUN: sparsec-opt %s -p sparsify | filecheck %s --check-prefix=DENSE
// RUN: sparsec-opt %s -p 'sparsify{scheme=bcr block=2x4}' | filecheck %s --check-prefix=DENSE
// The packed module prints and parses back unchanged, and is a fixed point of detection:
// RUN: sparsec-opt %s -p 'sparsify{scheme=pattern patterns=2 connectivity=2 block=2x4 rate=0.5}' > %t.mlir
// RUN: sparsec-opt %t.mlir | diff %t.mlir -
// RUN: sparsec-opt %t.mlir -p sparsify | diff %t.mlir -

// fc_w (4x8) in 2x4 tiles (the magnitudes are 1..32, so the choices can be checked by
// hand): each tile keeps 2 rows x 2 columns (rate 0.5: 1x4 and 2x2 tie on balance, more
// rows wins), the 2 columns with the largest L2 norm over the tile's rows.
func.func @main(%x: tensor<1x2x2x2xf32>) -> tensor<1x4xf32> {
  %conv_w = nn.constant dense<[[[[-29.0, 18.0, 13.0], [-31.0, 26.0, -25.0], [4.0, -22.0, -12.0]], [[35.0, 5.0, -21.0], [1.0, -24.0, 33.0], [11.0, -30.0, 16.0]]], [[[36.0, 32.0, 23.0], [-14.0, 9.0, 10.0], [-19.0, 7.0, -2.0]], [[-27.0, -3.0, 28.0], [-34.0, 17.0, -15.0], [8.0, -6.0, 20.0]]]]> : tensor<2x2x3x3xf32>
  %fc_w = nn.constant dense<[[18.0, 2.0, 21.0, 28.0, 23.0, 1.0, 11.0, 10.0], [8.0, 7.0, 17.0, 30.0, 24.0, 20.0, 12.0, 14.0], [31.0, 9.0, 13.0, 25.0, 15.0, 19.0, 27.0, 5.0], [26.0, 32.0, 29.0, 22.0, 4.0, 3.0, 16.0, 6.0]]> : tensor<4x8xf32>
  %c = nn.conv2d %x, %conv_w {stride = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>, dilation = array<i64: 1, 1>, groups = 1 : i64} : (tensor<1x2x2x2xf32>, tensor<2x2x3x3xf32>) -> tensor<1x2x2x2xf32>
  %r = nn.relu %c : (tensor<1x2x2x2xf32>) -> tensor<1x2x2x2xf32>
  %f = nn.reshape %r : (tensor<1x2x2x2xf32>) -> tensor<1x8xf32>
  %y = nn.linear %f, %fc_w : (tensor<1x8xf32>, tensor<4x8xf32>) -> tensor<1x4xf32>
  func.return %y : tensor<1x4xf32>
}

// The conv's 2x18 GEMM view is not divisible into 2x4 tiles: it stays dense.
// BCR:       %conv_w = nn.constant dense<{{.*}}> : tensor<2x2x3x3xf32>
// BCR-NEXT:  %reorder = nn.constant dense<[0, 1, 2, 3]> : tensor<4xi32>
// BCR-NEXT:  %row_ptr = nn.constant dense<[0, 2, 4, 6, 8]> : tensor<5xi32>
// BCR-NEXT:  %rows = nn.constant dense<[0, 1, 0, 1, 2, 3, 2, 3]> : tensor<8xi32>
// BCR-NEXT:  %col_ptr = nn.constant dense<[0, 2, 4, 6, 8]> : tensor<5xi32>
// BCR-NEXT:  %cols = nn.constant dense<[2, 3, 4, 5, 0, 3, 5, 6]> : tensor<8xi32>
// BCR-NEXT:  %val_ptr = nn.constant dense<[0, 4, 8, 12, 16]> : tensor<5xi32>
// BCR-NEXT:  %values = nn.constant dense<[2.100000e+01, 2.800000e+01, 1.700000e+01, 3.000000e+01, 2.300000e+01, 1.000000e+00, 2.400000e+01, 2.000000e+01, 3.100000e+01, 2.500000e+01, 2.600000e+01, 2.200000e+01, 1.900000e+01, 2.700000e+01, 3.000000e+00, 1.600000e+01]> : tensor<16xf32>
// BCR-NEXT:  %fc_w = sparse.assemble %reorder, %row_ptr, %rows, %col_ptr, %cols, %val_ptr, %values : (tensor<4xi32>, tensor<5xi32>, tensor<8xi32>, tensor<5xi32>, tensor<8xi32>, tensor<5xi32>, tensor<16xf32>) -> tensor<4x8xf32, #sparse.bcr<block = [2, 4]>>
// BCR:       %c = nn.conv2d %x, %conv_w {{.*}} : (tensor<1x2x2x2xf32>, tensor<2x2x3x3xf32>) -> tensor<1x2x2x2xf32>
// BCR:       %y = nn.linear %f, %fc_w : (tensor<1x8xf32>, tensor<4x8xf32, #sparse.bcr<block = [2, 4]>>) -> tensor<1x4xf32>

// Patterns: the 4 kernels' top-4 masks are {0,3,4,5}, {0,4,5,7}, {0,1,2,4}, {0,2,3,4}, each
// once, so the 2 patterns are the first two in order. Connectivity 2 keeps the 2 kernels
// with the largest norms, both in filter 0: kernel [0, 1] in pattern 0, kernel [0, 0] in
// pattern 1 (the larger kept norm). The linear layer gets BCR, as above.
// PATTERN:       %reorder = nn.constant dense<[0, 1]> : tensor<2xi32>
// PATTERN-NEXT:  %offsets = nn.constant dense<[0, 2, 2]> : tensor<3xi32>
// PATTERN-NEXT:  %strides = nn.constant dense<[0, 1, 2]> : tensor<3xi32>
// PATTERN-NEXT:  %pattern_ids = nn.constant dense<[0, 1]> : tensor<2xi32>
// PATTERN-NEXT:  %channels = nn.constant dense<[1, 0]> : tensor<2xi32>
// PATTERN-NEXT:  %weights = nn.constant dense<{{\[\[}}3.500000e+01, 5.000000e+00, -2.100000e+01, -2.400000e+01], [-2.900000e+01, 1.300000e+01, -3.100000e+01, 2.600000e+01]]> : tensor<2x4xf32>
// PATTERN-NEXT:  %conv_w = sparse.assemble %reorder, %offsets, %strides, %pattern_ids, %channels, %weights : (tensor<2xi32>, tensor<3xi32>, tensor<3xi32>, tensor<2xi32>, tensor<2xi32>, tensor<2x4xf32>) -> tensor<2x2x3x3xf32, #sparse.pattern<patterns = {{\[\[}}0, 1, 2, 4], [0, 2, 3, 4]]>>
// PATTERN:       %fc_w = sparse.assemble {{.*}} -> tensor<4x8xf32, #sparse.bcr<block = [2, 4]>>
// PATTERN:       nn.conv2d %x, %conv_w {{.*}} : (tensor<1x2x2x2xf32>, tensor<2x2x3x3xf32, #sparse.pattern<patterns = {{\[\[}}0, 1, 2, 4], [0, 2, 3, 4]]>>) -> tensor<1x2x2x2xf32>

// CSR at rate 0.75 keeps the round(0.25 * 32) = 8 largest magnitudes of fc_w: 25..32.
// CSR:       %conv_w = sparse.assemble {{.*}} -> tensor<2x2x3x3xf32, #sparse.csr>
// CSR:       %indptr_1 = nn.constant dense<[0, 1, 2, 5, 8]> : tensor<5xi32>
// CSR-NEXT:  %indices_1 = nn.constant dense<[3, 3, 0, 3, 6, 0, 1, 2]> : tensor<8xi32>
// CSR-NEXT:  %values_1 = nn.constant dense<[2.800000e+01, 3.000000e+01, 3.100000e+01, 2.500000e+01, 2.700000e+01, 2.600000e+01, 3.200000e+01, 2.900000e+01]> : tensor<8xf32>
// CSR-NEXT:  %fc_w = sparse.assemble %indptr_1, %indices_1, %values_1 : (tensor<5xi32>, tensor<8xi32>, tensor<8xf32>) -> tensor<4x8xf32, #sparse.csr>

// No options: detection; these weights have no zeros, so nothing changes. Nor does packing
// in a format without a rate (nothing is pruned, and dense weights stay dense).
// DENSE-NOT: sparse
// DENSE:     %conv_w = nn.constant dense<{{.*}}> : tensor<2x2x3x3xf32>
// DENSE-NEXT: %fc_w = nn.constant dense<{{.*}}> : tensor<4x8xf32>
// DENSE-NOT: sparse
