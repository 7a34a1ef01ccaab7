// Packed weights (`sparsify`) lower to the sparse kernels: the format's arrays re-packed
// in the weights buffer, one kernel function per contraction with its epilogue fused.
// RUN: sparsec-opt %s -p 'sparsify{scheme=bcr block=4x4 rate=0.625},convert-nn-to-loops{target=avx2}' --split-input-file | filecheck %s --check-prefix=BCR
// RUN: sparsec-opt %s -p 'sparsify{scheme=bcr block=4x4 rate=0.75},convert-nn-to-loops{target=avx2}' --split-input-file | filecheck %s --check-prefix=BCRMEM
// RUN: sparsec-opt %s -p 'sparsify{scheme=csr rate=0.75},convert-nn-to-loops{target=avx2}' --split-input-file | filecheck %s --check-prefix=CSR
// RUN: sparsec-opt %s -p 'sparsify{scheme=pattern patterns=2 connectivity=1},convert-nn-to-loops{target=avx2}' --split-input-file | filecheck %s --check-prefix=PATTERN

// A linear layer on 3 rows. BCR 4x4 at 62.5%: every tile keeps 3 rows x 2 columns. The
// kernel transposes x into a panel (8x8 blocks, 3 rounds of shuffles), keeps a block
// row's 4 sums in registers across its tiles (one body for the 2-column tiles: 2 panel
// loads, 4 x 2 FMAs), and transposes the sums back for the fused relu and the store.
// At 75% the tiles keep 2 rows of 4, so the sums live in a stack block: a tile loads its
// 2 kept rows' sums, adds the outer product of each column with the rows' weights (2 x 2
// FMAs, no FMA on a pruned row, each column loaded once) and stores the 2 sums.
// With csr: one loop per row with its sum carried in a register, one FMA per weight.
func.func @main(%x: tensor<3x8xf32>) -> tensor<3x8xf32> {
  %w = nn.constant dense<[[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0], [9.0, 10.0, 11.0, 12.0, 13.0, 14.0, 15.0, 16.0], [17.0, 18.0, 19.0, 20.0, 21.0, 22.0, 23.0, 24.0], [25.0, 26.0, 27.0, 28.0, 29.0, 30.0, 31.0, 32.0], [-1.0, -2.0, -3.0, -4.0, -5.0, -6.0, -7.0, -8.0], [-9.0, -10.0, -11.0, -12.0, -13.0, -14.0, -15.0, -16.0], [-17.0, -18.0, -19.0, -20.0, -21.0, -22.0, -23.0, -24.0], [-25.0, -26.0, -27.0, -28.0, -29.0, -30.0, -31.0, -32.0]]> : tensor<8x8xf32>
  %y = nn.linear %x, %w : (tensor<3x8xf32>, tensor<8x8xf32>) -> tensor<3x8xf32>
  %r = nn.relu %y : (tensor<3x8xf32>) -> tensor<3x8xf32>
  func.return %r : tensor<3x8xf32>
}

// BCR:      func.func @main(%x: memref<24xf32>, %output0: memref<24xf32>, %weights: memref<{{[0-9]+}}xi8>, %arena: memref<0xi8>) {
// BCR:        func.call @linear_relu_0(%x, %output0,
// BCR:      func.func private @linear_relu_0(
// BCR:        scf.for
// BCR:          vector.shuffle {{.*}} [0, 8, 1, 9, 2, 10, 3, 11]
// BCR:          scf.for
// BCR:              = scf.for {{.*}} iter_args({{.*}}) -> (vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>) {
// BCR-COUNT-2:        vector.load {{.*}} : memref<{{[0-9]+}}xf32>, vector<8xf32>
// BCR-COUNT-8:        vector.fma {{.*}} : vector<8xf32>
// BCR-NEXT:           scf.yield
// BCR:          scf.for
// BCR:            vector.shuffle
// BCR:              arith.maxnumf
// BCR-NEXT:         vector.store
// BCR:              arith.maxnumf
// BCR-NEXT:         vector.maskedstore

// BCRMEM:   func.func private @linear_relu_0(
// BCRMEM:            scf.for
// BCRMEM-COUNT-4:      memref.load {{.*}} : memref<16xi32>
// BCRMEM:              %[[S0:[0-9]+]] = vector.load %[[YB:[0-9]+]][%[[R0:[0-9]+]]] : memref<32xf32>, vector<8xf32>
// BCRMEM-NEXT:         %[[S1:[0-9]+]] = vector.load %[[YB]][%[[R1:[0-9]+]]] : memref<32xf32>, vector<8xf32>
// BCRMEM-NEXT:         %[[X0:[0-9]+]] = vector.load {{.*}} : memref<128xf32>, vector<8xf32>
// BCRMEM:              %[[T0:[0-9]+]] = vector.fma %{{[0-9]+}}, %[[X0]], %[[S0]]
// BCRMEM:              %[[T1:[0-9]+]] = vector.fma %{{[0-9]+}}, %[[X0]], %[[S1]]
// BCRMEM-NEXT:         %[[X1:[0-9]+]] = vector.load {{.*}} : memref<128xf32>, vector<8xf32>
// BCRMEM:              %[[U0:[0-9]+]] = vector.fma %{{[0-9]+}}, %[[X1]], %[[T0]]
// BCRMEM:              %[[U1:[0-9]+]] = vector.fma %{{[0-9]+}}, %[[X1]], %[[T1]]
// BCRMEM-NEXT:         vector.store %[[U0]], %[[YB]][%[[R0]]] : memref<32xf32>, vector<8xf32>
// BCRMEM-NEXT:         vector.store %[[U1]], %[[YB]][%[[R1]]] : memref<32xf32>, vector<8xf32>
// BCRMEM-NEXT:       }

// CSR:      func.func private @linear_relu_0(
// CSR:            %{{.*}} = scf.for {{.*}} iter_args({{.*}}) -> (vector<8xf32>) {
// CSR:              vector.broadcast
// CSR:              vector.load
// CSR-NEXT:         vector.fma
// CSR-NEXT:         scf.yield

// -----

// A 3x3 convolution, 2 patterns of 4 taps. Stride 1: the kernel copies a zero-padded band
// of input rows and reads every tap in place; one loop per pattern with its 4 tap offsets
// folded into the loads. The band copy loads a vector wholly inside an input row plainly
// and one that crosses its edge through a mask. The 5 output rows (padded to 8 columns
// each) are 40 columns: 5 vectors per filter (whole output rows), each summed in one
// register: 5 sums carried from one pattern's loop to the next, 4 x 5 FMAs per kernel,
// nothing to add up after; then relu and the store, masked where a vector passes the
// end of an output row.
func.func @main(%x: tensor<1x2x5x5xf32>) -> tensor<1x2x5x5xf32> {
  %w = nn.constant dense<[[[[-29.0, 18.0, 13.0], [-31.0, 26.0, -25.0], [4.0, -22.0, -12.0]], [[35.0, 5.0, -21.0], [1.0, -24.0, 33.0], [11.0, -30.0, 16.0]]], [[[36.0, 32.0, 23.0], [-14.0, 9.0, 10.0], [-19.0, 7.0, -2.0]], [[-27.0, -3.0, 28.0], [-34.0, 17.0, -15.0], [8.0, -6.0, 20.0]]]]> : tensor<2x2x3x3xf32>
  %c = nn.conv2d %x, %w {stride = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>, dilation = array<i64: 1, 1>, groups = 1 : i64} : (tensor<1x2x5x5xf32>, tensor<2x2x3x3xf32>) -> tensor<1x2x5x5xf32>
  %r = nn.relu %c : (tensor<1x2x5x5xf32>) -> tensor<1x2x5x5xf32>
  func.return %r : tensor<1x2x5x5xf32>
}

// PATTERN:      func.func private @conv2d_relu_0(
// PATTERN:            scf.if
// PATTERN-NEXT:         vector.load
// PATTERN:              vector.maskedload
// PATTERN:          %[[A:[0-9]+]], %[[B:[0-9]+]], %[[C:[0-9]+]], %[[D:[0-9]+]], %[[E:[0-9]+]] = scf.for {{.*}} iter_args({{.*}}) -> (vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>) {
// PATTERN-COUNT-20:   vector.fma
// PATTERN:          scf.for {{.*}} iter_args(%{{.*}} = %[[A]], %{{.*}} = %[[B]], %{{.*}} = %[[C]], %{{.*}} = %[[D]], %{{.*}} = %[[E]])
// PATTERN-COUNT-20:   vector.fma
// PATTERN-NOT:        arith.addf
// PATTERN:            arith.maxnumf
// PATTERN:            vector.maskedstore
