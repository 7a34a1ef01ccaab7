// A linear layer whose group only reshapes and transposes its result into a value that
// leaves the group (attention's packed q | k | v projection moved to (3, tokens, width),
// as torch's `_in_projection_packed` does): the linear kernel stores each run of 16
// columns of a row straight into that value's buffer, Y[r, c] at
// r * 16 + (c / 16) * 64 + c % 16, and there is no copy kernel. Left alone: a transpose
// that moves the last dim, and runs narrower than a vector of every target (16 lanes):
// there the moves are a copy kernel. Fusion off: one kernel per op.
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
