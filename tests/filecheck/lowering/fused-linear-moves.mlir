// A linear layer whose group only reshapes and transposes its result into a value that
// leaves the group (attention's packed q | k | v projection moved to (3, tokens, width),
// as torch's `_in_projection_packed` does): the linear kernel stores each run of 16
// columns of a row straight into that value's buffer, Y[r, c] at
// r * 16 + (c / 16) * 64 + c % 16, and there is no copy kernel. Left alone: a transpose
// that moves the last dim, and runs narrower than a vector of every target (16 lanes):
// there the moves are a copy kernel. Fusion off: one kernel per op.
// Attention's q, sliced from q | k | v stored that way, cut into heads, moved in front of
// the tokens and scaled by a constant: the linear kernel scales those columns in registers
// and stores them into q's buffer as well (runs of 16 again), and reads its input through
// the transpose of a size-1 dim in front of it; heads of 8 columns leave the scaling a
// kernel of its own. With the linear layer outside the group (`fuse{profile=false}`), the
// copy that materialises q | k | v scales q's rows and stores them into q as well.
// RUN: sparsec-opt %s -p 'convert-nn-to-loops{target=avx2}' --split-input-file | filecheck %s
// RUN: sparsec-opt %s -p 'convert-nn-to-loops{target=avx2 fusion=false}' --split-input-file | filecheck %s --check-prefix=OFF

func.func @main(%x: tensor<4x8xf32>, %w: tensor<48x8xf32>, %b: tensor<48xf32>) -> tensor<3x4x16xf32> {
  %f = nn.fused %x, %w, %b attributes {mapping = "many-to-many"} {
  ^bb0(%a: tensor<4x8xf32>, %lw: tensor<48x8xf32>, %lb: tensor<48xf32>):
    %y = nn.linear %a, %lw, %lb : (tensor<4x8xf32>, tensor<48x8xf32>, tensor<48xf32>) -> tensor<4x48xf32>
    %s = nn.reshape %y : (tensor<4x48xf32>) -> tensor<4x3x16xf32>
    %t = nn.transpose %s {permutation = array<i64: 1, 0, 2>} : (tensor<4x3x16xf32>) -> tensor<3x4x16xf32>
    nn.yield %t : tensor<3x4x16xf32>
  } : (tensor<4x8xf32>, tensor<48x8xf32>, tensor<48xf32>) -> tensor<3x4x16xf32>
  func.return %f : tensor<3x4x16xf32>
}

// CHECK:      \22kernels\22:[{\22name\22:\22linear_reshape_transpose_0\22,{{.*}}\22ops\22:[\22nn.linear\22,\22nn.reshape\22,\22nn.transpose\22],{{.*}}}],
// CHECK:      func.func @main(
// CHECK:        func.call @linear_reshape_transpose_0(%x, %w, %output0, %b,
// CHECK-NEXT:   func.return
// CHECK:      func.func private @linear_reshape_transpose_0(
// CHECK-DAG:    %[[C64:[0-9]+]] = arith.constant 64 : index
// CHECK-DAG:    %[[C16:[0-9]+]] = arith.constant 16 : index
// where a column vector starts: (col / 16) * 64 + col % 16 ...
// CHECK:        %[[PIECE:[0-9]+]] = arith.floordivsi %[[COL:[0-9]+]], %[[C16]] : index
// CHECK-NEXT:   %[[AT:[0-9]+]] = arith.muli %[[PIECE]], %[[C64]] : index
// CHECK-NEXT:   %[[IN:[0-9]+]] = arith.remsi %[[COL]], %[[C16]] : index
// CHECK-NEXT:   %[[START:[0-9]+]] = arith.addi %[[AT]], %[[IN]] : index
// CHECK:        func.call @gemm_
// ... and a row at row * 16; the bias is read at the column itself
// CHECK:        %[[ROW:[0-9]+]] = arith.muli %{{[0-9]+}}, %[[C16]] : index
// CHECK-NEXT:   %[[STORE:[0-9]+]] = arith.addi %[[ROW]], %[[START]] : index
// CHECK:        %[[BIAS:[0-9]+]] = vector.load %3[%[[COL]]] : memref<48xf32>, vector<8xf32>
// CHECK-NEXT:   %[[SUM:[0-9]+]] = arith.addf %{{[0-9]+}}, %[[BIAS]] : vector<8xf32>
// CHECK-NEXT:   vector.store %[[SUM]], %2[%[[STORE]]] : memref<192xf32>, vector<8xf32>
// CHECK-NOT:  func.func private @transpose

// OFF:        func.call @linear_0(
// OFF:        func.call @transpose_0(

// -----

// the transpose moves the last dim: a copy kernel
func.func @main(%x: tensor<4x8xf32>, %w: tensor<48x8xf32>) -> tensor<16x4x3xf32> {
  %f = nn.fused %x, %w attributes {mapping = "many-to-many"} {
  ^bb0(%a: tensor<4x8xf32>, %lw: tensor<48x8xf32>):
    %y = nn.linear %a, %lw : (tensor<4x8xf32>, tensor<48x8xf32>) -> tensor<4x48xf32>
    %s = nn.reshape %y : (tensor<4x48xf32>) -> tensor<4x3x16xf32>
    %t = nn.transpose %s {permutation = array<i64: 2, 0, 1>} : (tensor<4x3x16xf32>) -> tensor<16x4x3xf32>
    nn.yield %t : tensor<16x4x3xf32>
  } : (tensor<4x8xf32>, tensor<48x8xf32>) -> tensor<16x4x3xf32>
  func.return %f : tensor<16x4x3xf32>
}

// CHECK:      \22kernels\22:[{\22name\22:\22linear_0\22,{{.*}}{\22name\22:\22reshape_transpose_0\22,
// CHECK:      func.call @linear_0(
// CHECK:      func.call @reshape_transpose_0(

// -----

// runs of 8 columns: narrower than an AVX-512 vector, a copy kernel
func.func @main(%x: tensor<4x8xf32>, %w: tensor<24x8xf32>) -> tensor<3x4x8xf32> {
  %f = nn.fused %x, %w attributes {mapping = "many-to-many"} {
  ^bb0(%a: tensor<4x8xf32>, %lw: tensor<24x8xf32>):
    %y = nn.linear %a, %lw : (tensor<4x8xf32>, tensor<24x8xf32>) -> tensor<4x24xf32>
    %s = nn.reshape %y : (tensor<4x24xf32>) -> tensor<4x3x8xf32>
    %t = nn.transpose %s {permutation = array<i64: 1, 0, 2>} : (tensor<4x3x8xf32>) -> tensor<3x4x8xf32>
    nn.yield %t : tensor<3x4x8xf32>
  } : (tensor<4x8xf32>, tensor<24x8xf32>) -> tensor<3x4x8xf32>
  func.return %f : tensor<3x4x8xf32>
}

// CHECK:      func.call @linear_0(
// CHECK:      func.call @reshape_transpose_0(

// -----

func.func @main(%x: tensor<1x4x8xf32>, %w: tensor<96x8xf32>, %b: tensor<96xf32>) -> (tensor<2x4x16xf32>, tensor<3x4x1x32xf32>) {
  %f:2 = nn.fused %x, %w, %b attributes {mapping = "many-to-many"} {
  ^bb0(%a: tensor<1x4x8xf32>, %lw: tensor<96x8xf32>, %lb: tensor<96xf32>):
    %c = nn.constant dense<1.250000e-01> : tensor<f32>
    %at = nn.transpose %a {permutation = array<i64: 1, 0, 2>} : (tensor<1x4x8xf32>) -> tensor<4x1x8xf32>
    %y = nn.linear %at, %lw, %lb : (tensor<4x1x8xf32>, tensor<96x8xf32>, tensor<96xf32>) -> tensor<4x1x96xf32>
    %s = nn.reshape %y : (tensor<4x1x96xf32>) -> tensor<4x1x3x32xf32>
    %t = nn.transpose %s {permutation = array<i64: 2, 0, 1, 3>} : (tensor<4x1x3x32xf32>) -> tensor<3x4x1x32xf32>
    %q = nn.slice %t {start = array<i64: 0, 0, 0, 0>, end = array<i64: 1, 4, 1, 32>, step = array<i64: 1, 1, 1, 1>} : (tensor<3x4x1x32xf32>) -> tensor<1x4x1x32xf32>
    %h = nn.reshape %q : (tensor<1x4x1x32xf32>) -> tensor<4x2x16xf32>
    %ht = nn.transpose %h {permutation = array<i64: 1, 0, 2>} : (tensor<4x2x16xf32>) -> tensor<2x4x16xf32>
    %m = nn.mul %ht, %c : (tensor<2x4x16xf32>, tensor<f32>) -> tensor<2x4x16xf32>
    nn.yield %m, %t : tensor<2x4x16xf32>, tensor<3x4x1x32xf32>
  } : (tensor<1x4x8xf32>, tensor<96x8xf32>, tensor<96xf32>) -> (tensor<2x4x16xf32>, tensor<3x4x1x32xf32>)
  func.return %f#0, %f#1 : tensor<2x4x16xf32>, tensor<3x4x1x32xf32>
}

// CHECK:      \22kernels\22:[{\22name\22:\22transpose_linear_reshape_0\22,{{.*}}\22ops\22:[\22nn.transpose\22,\22nn.linear\22,\22nn.reshape\22,\22nn.transpose\22,\22nn.slice\22,\22nn.reshape\22,\22nn.transpose\22,\22nn.mul\22],{{.*}}}],
// CHECK:      func.func @main(
// CHECK:        func.call @transpose_linear_reshape_0(%x, %w, %output1, %b, %output0,
// CHECK-NEXT:   func.return
// CHECK:      func.func private @transpose_linear_reshape_0(
// CHECK-DAG:    %[[C64:[0-9]+]] = arith.constant 64 : index
// CHECK-DAG:    %[[SCALE:[0-9]+]] = arith.constant 1.250000e-01 : f32
// CHECK-DAG:    %[[C16:[0-9]+]] = arith.constant 16 : index
// CHECK-DAG:    %[[C32:[0-9]+]] = arith.constant 32 : index
// the input x read in place, rows 8 apart
// CHECK:        func.call @gemm_4x24_set_8x1(
// q | k | v stored, then columns [0, 32) scaled and stored into q at
// row * 16 + (col / 16) * 64 + col % 16
// CHECK:        %[[SUM:[0-9]+]] = arith.addf %{{[0-9]+}}, %{{[0-9]+}} : vector<8xf32>
// CHECK-NEXT:   vector.store %[[SUM]], %2[%{{[0-9]+}}] : memref<384xf32>, vector<8xf32>
// CHECK-NEXT:   %[[INSIDE:[0-9]+]] = arith.cmpi ult, %[[COL:[0-9]+]], %[[C32]] : index
// CHECK-NEXT:   scf.if %[[INSIDE]] {
// CHECK-NEXT:     %[[S:[0-9]+]] = vector.broadcast %[[SCALE]] : f32 to vector<8xf32>
// CHECK-NEXT:     %[[Q:[0-9]+]] = arith.mulf %[[SUM]], %[[S]] : vector<8xf32>
// CHECK-NEXT:     %[[ROW:[0-9]+]] = arith.muli %{{[0-9]+}}, %[[C16]] : index
// CHECK-NEXT:     %[[HEAD:[0-9]+]] = arith.floordivsi %[[COL]], %[[C16]] : index
// CHECK-NEXT:     %[[AT:[0-9]+]] = arith.muli %[[HEAD]], %[[C64]] : index
// CHECK-NEXT:     %[[LANE:[0-9]+]] = arith.remsi %[[COL]], %[[C16]] : index
// CHECK-NEXT:     %[[START:[0-9]+]] = arith.addi %[[AT]], %[[LANE]] : index
// CHECK-NEXT:     %[[STORE:[0-9]+]] = arith.addi %[[ROW]], %[[START]] : index
// CHECK-NEXT:     vector.store %[[Q]], %4[%[[STORE]]] : memref<128xf32>, vector<8xf32>
// CHECK-NOT:  func.func private @slice

// -----

// heads of 8 columns: q's scaling is a kernel of its own, reading q | k | v's buffer
func.func @main(%x: tensor<1x4x8xf32>, %w: tensor<96x8xf32>, %b: tensor<96xf32>) -> (tensor<4x4x8xf32>, tensor<3x4x1x32xf32>) {
  %f:2 = nn.fused %x, %w, %b attributes {mapping = "many-to-many"} {
  ^bb0(%a: tensor<1x4x8xf32>, %lw: tensor<96x8xf32>, %lb: tensor<96xf32>):
    %c = nn.constant dense<1.250000e-01> : tensor<f32>
    %at = nn.transpose %a {permutation = array<i64: 1, 0, 2>} : (tensor<1x4x8xf32>) -> tensor<4x1x8xf32>
    %y = nn.linear %at, %lw, %lb : (tensor<4x1x8xf32>, tensor<96x8xf32>, tensor<96xf32>) -> tensor<4x1x96xf32>
    %s = nn.reshape %y : (tensor<4x1x96xf32>) -> tensor<4x1x3x32xf32>
    %t = nn.transpose %s {permutation = array<i64: 2, 0, 1, 3>} : (tensor<4x1x3x32xf32>) -> tensor<3x4x1x32xf32>
    %q = nn.slice %t {start = array<i64: 0, 0, 0, 0>, end = array<i64: 1, 4, 1, 32>, step = array<i64: 1, 1, 1, 1>} : (tensor<3x4x1x32xf32>) -> tensor<1x4x1x32xf32>
    %h = nn.reshape %q : (tensor<1x4x1x32xf32>) -> tensor<4x4x8xf32>
    %ht = nn.transpose %h {permutation = array<i64: 1, 0, 2>} : (tensor<4x4x8xf32>) -> tensor<4x4x8xf32>
    %m = nn.mul %ht, %c : (tensor<4x4x8xf32>, tensor<f32>) -> tensor<4x4x8xf32>
    nn.yield %m, %t : tensor<4x4x8xf32>, tensor<3x4x1x32xf32>
  } : (tensor<1x4x8xf32>, tensor<96x8xf32>, tensor<96xf32>) -> (tensor<4x4x8xf32>, tensor<3x4x1x32xf32>)
  func.return %f#0, %f#1 : tensor<4x4x8xf32>, tensor<3x4x1x32xf32>
}

// CHECK:      \22kernels\22:[{\22name\22:\22transpose_linear_reshape_0\22,{{.*}}\22ops\22:[\22nn.transpose\22,\22nn.linear\22,\22nn.reshape\22,\22nn.transpose\22],{{.*}}{\22name\22:\22slice_reshape_transpose_0\22,{{.*}}\22ops\22:[\22nn.slice\22,\22nn.reshape\22,\22nn.transpose\22,\22nn.mul\22],
// CHECK:      func.call @transpose_linear_reshape_0(%x, %w, %output1, %b,
// CHECK-NEXT: func.call @slice_reshape_transpose_0(%output1, %output0)

// -----

// the linear layer in another group: the copy of q | k | v (rows p * 4 + token, read at
// p * 32 + token * 96) also stores rows [0, 4), scaled, into q at
// row * 16 + (col / 16) * 64 + col % 16
func.func @main(%y: tensor<4x96xf32>) -> (tensor<2x4x16xf32>, tensor<3x4x32xf32>) {
  %f:2 = nn.fused %y attributes {mapping = "reorganize"} {
  ^bb0(%a: tensor<4x96xf32>):
    %c = nn.constant dense<1.250000e-01> : tensor<f32>
    %s = nn.reshape %a : (tensor<4x96xf32>) -> tensor<4x3x32xf32>
    %t = nn.transpose %s {permutation = array<i64: 1, 0, 2>} : (tensor<4x3x32xf32>) -> tensor<3x4x32xf32>
    %q = nn.slice %t {start = array<i64: 0, 0, 0>, end = array<i64: 1, 4, 32>, step = array<i64: 1, 1, 1>} : (tensor<3x4x32xf32>) -> tensor<1x4x32xf32>
    %h = nn.reshape %q : (tensor<1x4x32xf32>) -> tensor<4x2x16xf32>
    %ht = nn.transpose %h {permutation = array<i64: 1, 0, 2>} : (tensor<4x2x16xf32>) -> tensor<2x4x16xf32>
    %m = nn.mul %ht, %c : (tensor<2x4x16xf32>, tensor<f32>) -> tensor<2x4x16xf32>
    nn.yield %m, %t : tensor<2x4x16xf32>, tensor<3x4x32xf32>
  } : (tensor<4x96xf32>) -> (tensor<2x4x16xf32>, tensor<3x4x32xf32>)
  func.return %f#0, %f#1 : tensor<2x4x16xf32>, tensor<3x4x32xf32>
}

// CHECK:      \22kernels\22:[{\22name\22:\22reshape_transpose_slice_0\22,{{.*}}\22ops\22:[\22nn.reshape\22,\22nn.transpose\22,\22nn.slice\22,\22nn.reshape\22,\22nn.transpose\22,\22nn.mul\22],{{.*}}}],
// CHECK:      func.call @reshape_transpose_slice_0(%y, %output1, %output0)
// CHECK-NEXT: func.return
// CHECK:      func.func private @reshape_transpose_slice_0(%[[Y:[0-9]+]]: memref<384xf32> {llvm.noalias}, %[[QKV:[0-9]+]]: memref<384xf32> {llvm.noalias}, %[[Q:[0-9]+]]: memref<128xf32> {llvm.noalias})
// CHECK-DAG:    %[[C64:[0-9]+]] = arith.constant 64 : index
// CHECK-DAG:    %[[C16:[0-9]+]] = arith.constant 16 : index
// CHECK-DAG:    %[[SCALE:[0-9]+]] = arith.constant 1.250000e-01 : f32
// CHECK-DAG:    %[[C32:[0-9]+]] = arith.constant 32 : index
// CHECK-DAG:    %[[C4:[0-9]+]] = arith.constant 4 : index
// CHECK:        scf.for %[[ROW:[0-9]+]] =
// CHECK:          scf.for %[[COL:[0-9]+]] =
// CHECK-NEXT:       %[[FROM:[0-9]+]] = arith.addi %{{[0-9]+}}, %[[COL]] : index
// CHECK-NEXT:       %[[V:[0-9]+]] = vector.load %[[Y]][%[[FROM]]] : memref<384xf32>, vector<8xf32>
// CHECK-NEXT:       %[[TO:[0-9]+]] = arith.addi %{{[0-9]+}}, %[[COL]] : index
// CHECK-NEXT:       vector.store %[[V]], %[[QKV]][%[[TO]]] : memref<384xf32>, vector<8xf32>
// CHECK-NEXT:       %[[INROWS:[0-9]+]] = arith.cmpi ult, %[[ROW]], %[[C4]] : index
// CHECK-NEXT:       %[[INCOLS:[0-9]+]] = arith.cmpi ult, %[[COL]], %[[C32]] : index
// CHECK-NEXT:       %[[IN:[0-9]+]] = arith.andi %[[INROWS]], %[[INCOLS]] : i1
// CHECK-NEXT:       scf.if %[[IN]] {
// CHECK-NEXT:         %[[S:[0-9]+]] = vector.broadcast %[[SCALE]] : f32 to vector<8xf32>
// CHECK-NEXT:         %[[SCALED:[0-9]+]] = arith.mulf %[[V]], %[[S]] : vector<8xf32>
// CHECK-NEXT:         %[[R:[0-9]+]] = arith.muli %[[ROW]], %[[C16]] : index
// CHECK-NEXT:         %[[HEAD:[0-9]+]] = arith.floordivsi %[[COL]], %[[C16]] : index
// CHECK-NEXT:         %[[AT:[0-9]+]] = arith.muli %[[HEAD]], %[[C64]] : index
// CHECK-NEXT:         %[[LANE:[0-9]+]] = arith.remsi %[[COL]], %[[C16]] : index
// CHECK-NEXT:         %[[IN_ROW:[0-9]+]] = arith.addi %[[AT]], %[[LANE]] : index
// CHECK-NEXT:         %[[STORE:[0-9]+]] = arith.addi %[[R]], %[[IN_ROW]] : index
// CHECK-NEXT:         vector.store %[[SCALED]], %[[Q]][%[[STORE]]] : memref<128xf32>, vector<8xf32>
