// A layer_norm's prologue reads a folded view: attention's output rows (S * B, E) are
// reshaped to (S, B, E), transposed to (B, S, E) and added to the residual before the
// norm. Each row of the view is a row of the base, so the layer_norm kernel reads the
// base in place at the row's own base (row / S, row % S) and the group is one kernel.
// Where a transpose moves the normalised dim, rows are not contiguous: the transpose
// stays a copy kernel. Fusion off: one kernel per op.
// RUN: sparsec-opt %s -p 'convert-nn-to-loops{target=avx2}' --split-input-file | filecheck %s
// RUN: sparsec-opt %s -p 'convert-nn-to-loops{target=avx2 fusion=false}' --split-input-file | filecheck %s --check-prefix=OFF

func.func @main(%o: tensor<8x8xf32>, %x: tensor<2x4x8xf32>, %w: tensor<8xf32>, %b: tensor<8xf32>) -> tensor<2x4x8xf32> {
  %f = nn.fused %o, %x, %w, %b attributes {mapping = "one-to-one"} {
  ^bb0(%a: tensor<8x8xf32>, %r: tensor<2x4x8xf32>, %lw: tensor<8xf32>, %lb: tensor<8xf32>):
    %s = nn.reshape %a : (tensor<8x8xf32>) -> tensor<4x2x8xf32>
    %t = nn.transpose %s {permutation = array<i64: 1, 0, 2>} : (tensor<4x2x8xf32>) -> tensor<2x4x8xf32>
    %sum = nn.add %t, %r : (tensor<2x4x8xf32>, tensor<2x4x8xf32>) -> tensor<2x4x8xf32>
    %n = nn.layer_norm %sum, %lw, %lb {epsilon = 1.000000e-05 : f64} : (tensor<2x4x8xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<2x4x8xf32>
    nn.yield %n : tensor<2x4x8xf32>
  } : (tensor<8x8xf32>, tensor<2x4x8xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<2x4x8xf32>
  func.return %f : tensor<2x4x8xf32>
}

// CHECK:      \22kernels\22:[{\22name\22:\22reshape_transpose_add_0\22,{{.*}}\22ops\22:[\22nn.reshape\22,\22nn.transpose\22,\22nn.add\22,\22nn.layer_norm\22],\22flops\22:{{[0-9]+}},\22bytes\22:{{[0-9]+}},\22tiles\22:{{[0-9]+}}}],
// CHECK:      func.func @main(
// CHECK-NEXT:   func.call @reshape_transpose_add_0(%o, %x, %output0, %w, %b)
// CHECK-NEXT:   func.return
// CHECK:      func.func private @reshape_transpose_add_0(
// the view's row base: (row / 4 % 2) * 8 + (row % 4) * 16; the residual's: row * 8
// CHECK:        scf.for %[[ROW:[0-9]+]] =
// CHECK:          %[[S:[0-9]+]] = arith.remsi %[[ROW]], %{{[0-9]+}} : index
// CHECK-NEXT:     %[[Q:[0-9]+]] = arith.floordivsi %[[ROW]], %{{[0-9]+}} : index
// CHECK-NEXT:     %[[B:[0-9]+]] = arith.remsi %[[Q]], %{{[0-9]+}} : index
// CHECK-NEXT:     arith.floordivsi
// CHECK-NEXT:     %[[BO:[0-9]+]] = arith.muli %[[B]], %{{[0-9]+}} : index
// CHECK-NEXT:     %[[SO:[0-9]+]] = arith.muli %[[S]], %{{[0-9]+}} : index
// CHECK-NEXT:     %[[VIEW:[0-9]+]] = arith.addi %[[BO]], %[[SO]] : index
// CHECK-NEXT:     %[[RES:[0-9]+]] = arith.muli %[[ROW]], %{{[0-9]+}} : index
// CHECK:            %[[AT:[0-9]+]] = arith.addi %[[VIEW]], %{{[0-9]+}} : index
// CHECK-NEXT:       vector.load %{{[0-9]+}}[%[[AT]]] : memref<64xf32>, vector<8xf32>
// CHECK-NEXT:       %[[AT2:[0-9]+]] = arith.addi %[[RES]], %{{[0-9]+}} : index
// CHECK-NEXT:       vector.load %{{[0-9]+}}[%[[AT2]]] : memref<64xf32>, vector<8xf32>
// CHECK-NEXT:       arith.addf

// OFF:        func.call @transpose_0(
// OFF:        func.call @add_0(
// OFF:        func.call @layer_norm_0(

// -----

func.func @main(%o: tensor<2x8x4xf32>, %x: tensor<2x4x8xf32>, %w: tensor<8xf32>, %b: tensor<8xf32>) -> tensor<2x4x8xf32> {
  %f = nn.fused %o, %x, %w, %b attributes {mapping = "one-to-one"} {
  ^bb0(%a: tensor<2x8x4xf32>, %r: tensor<2x4x8xf32>, %lw: tensor<8xf32>, %lb: tensor<8xf32>):
    %t = nn.transpose %a {permutation = array<i64: 0, 2, 1>} : (tensor<2x8x4xf32>) -> tensor<2x4x8xf32>
    %sum = nn.add %t, %r : (tensor<2x4x8xf32>, tensor<2x4x8xf32>) -> tensor<2x4x8xf32>
    %n = nn.layer_norm %sum, %lw, %lb {epsilon = 1.000000e-05 : f64} : (tensor<2x4x8xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<2x4x8xf32>
    nn.yield %n : tensor<2x4x8xf32>
  } : (tensor<2x8x4xf32>, tensor<2x4x8xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<2x4x8xf32>
  func.return %f : tensor<2x4x8xf32>
}

// CHECK:      \22kernels\22:[{\22name\22:\22transpose_0\22,{{.*}}{\22name\22:\22add_layer_norm_0\22,{{.*}}\22ops\22:[\22nn.add\22,\22nn.layer_norm\22]
// CHECK:      func.call @transpose_0(
// CHECK:      func.call @add_layer_norm_0(

// -----

// Producer side: a transpose of the layer_norm's result that keeps the normalised dim
// last (an encoder layer's (B, S, E) output back to (S, B, E)) is stored by the
// layer_norm kernel at the permuted row base; the transpose is no kernel.

func.func @main(%x: tensor<2x4x8xf32>, %r: tensor<2x4x8xf32>, %w: tensor<8xf32>, %b: tensor<8xf32>) -> tensor<4x2x8xf32> {
  %f = nn.fused %x, %r, %w, %b attributes {mapping = "one-to-one"} {
  ^bb0(%a: tensor<2x4x8xf32>, %c: tensor<2x4x8xf32>, %lw: tensor<8xf32>, %lb: tensor<8xf32>):
    %sum = nn.add %a, %c : (tensor<2x4x8xf32>, tensor<2x4x8xf32>) -> tensor<2x4x8xf32>
    %n = nn.layer_norm %sum, %lw, %lb {epsilon = 1.000000e-05 : f64} : (tensor<2x4x8xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<2x4x8xf32>
    %t = nn.transpose %n {permutation = array<i64: 1, 0, 2>} : (tensor<2x4x8xf32>) -> tensor<4x2x8xf32>
    nn.yield %t : tensor<4x2x8xf32>
  } : (tensor<2x4x8xf32>, tensor<2x4x8xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<4x2x8xf32>
  func.return %f : tensor<4x2x8xf32>
}

// CHECK:      \22kernels\22:[{\22name\22:\22add_layer_norm_transpose_0\22,{{.*}}\22ops\22:[\22nn.add\22,\22nn.layer_norm\22,\22nn.transpose\22],\22flops\22:{{[0-9]+}},\22bytes\22:{{[0-9]+}},\22tiles\22:{{[0-9]+}}}],
// CHECK:      func.func @main(
// CHECK-NEXT:   func.call @add_layer_norm_transpose_0(%x, %r, %output0, %w, %b)
// CHECK-NEXT:   func.return
// the result's row base: (row / 4 % 2) * 8 + (row % 4) * 16
// CHECK:      func.func private @add_layer_norm_transpose_0(
// CHECK:        scf.for %[[ROW:[0-9]+]] =
// CHECK:          %[[S:[0-9]+]] = arith.remsi %[[ROW]], %{{[0-9]+}} : index
// CHECK-NEXT:     %[[Q:[0-9]+]] = arith.floordivsi %[[ROW]], %{{[0-9]+}} : index
// CHECK-NEXT:     %[[B:[0-9]+]] = arith.remsi %[[Q]], %{{[0-9]+}} : index
// CHECK-NEXT:     arith.floordivsi
// CHECK-NEXT:     %[[BO:[0-9]+]] = arith.muli %[[B]], %{{[0-9]+}} : index
// CHECK-NEXT:     %[[SO:[0-9]+]] = arith.muli %[[S]], %{{[0-9]+}} : index
// CHECK-NEXT:     %[[OUT:[0-9]+]] = arith.addi %[[BO]], %[[SO]] : index
// CHECK:          vector.store %{{[0-9]+}}, %{{[0-9]+}}[%[[OUT]]] : memref<64xf32>, vector<8xf32>

// -----

// The layer_norm's result is also read outside the group (returned here; the next
// encoder layer's residual in BERT): the kernel stores each row twice, as it is and into
// the transpose at the permuted row base; the transpose is still no kernel.

func.func @main(%x: tensor<2x4x8xf32>, %r: tensor<2x4x8xf32>, %w: tensor<8xf32>, %b: tensor<8xf32>) -> (tensor<4x2x8xf32>, tensor<2x4x8xf32>) {
  %f:2 = nn.fused %x, %r, %w, %b attributes {mapping = "one-to-one"} {
  ^bb0(%a: tensor<2x4x8xf32>, %c: tensor<2x4x8xf32>, %lw: tensor<8xf32>, %lb: tensor<8xf32>):
    %sum = nn.add %a, %c : (tensor<2x4x8xf32>, tensor<2x4x8xf32>) -> tensor<2x4x8xf32>
    %n = nn.layer_norm %sum, %lw, %lb {epsilon = 1.000000e-05 : f64} : (tensor<2x4x8xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<2x4x8xf32>
    %t = nn.transpose %n {permutation = array<i64: 1, 0, 2>} : (tensor<2x4x8xf32>) -> tensor<4x2x8xf32>
    nn.yield %t, %n : tensor<4x2x8xf32>, tensor<2x4x8xf32>
  } : (tensor<2x4x8xf32>, tensor<2x4x8xf32>, tensor<8xf32>, tensor<8xf32>) -> (tensor<4x2x8xf32>, tensor<2x4x8xf32>)
  func.return %f#0, %f#1 : tensor<4x2x8xf32>, tensor<2x4x8xf32>
}

// CHECK:      \22kernels\22:[{\22name\22:\22add_layer_norm_transpose_0\22,{{.*}}\22ops\22:[\22nn.add\22,\22nn.layer_norm\22,\22nn.transpose\22],\22flops\22:{{[0-9]+}},\22bytes\22:{{[0-9]+}},\22tiles\22:{{[0-9]+}}}],
// CHECK:      func.func @main(
// CHECK-NEXT:   func.call @add_layer_norm_transpose_0(%x, %r, %output1, %output0, %w, %b)
// CHECK-NEXT:   func.return
// CHECK:      func.func private @add_layer_norm_transpose_0(%{{[0-9]+}}: memref<64xf32> {llvm.noalias}, %{{[0-9]+}}: memref<64xf32> {llvm.noalias}, %[[Y:[0-9]+]]: memref<64xf32> {llvm.noalias}, %[[T:[0-9]+]]: memref<64xf32> {llvm.noalias},
// CHECK:        scf.for %[[ROW:[0-9]+]] =
// CHECK:          %[[BASE:[0-9]+]] = arith.muli %[[ROW]], %{{[0-9]+}} : index
// CHECK:          %[[S:[0-9]+]] = arith.remsi %[[ROW]], %{{[0-9]+}} : index
// CHECK-NEXT:     %[[Q:[0-9]+]] = arith.floordivsi %[[ROW]], %{{[0-9]+}} : index
// CHECK-NEXT:     %[[B:[0-9]+]] = arith.remsi %[[Q]], %{{[0-9]+}} : index
// CHECK-NEXT:     arith.floordivsi
// CHECK-NEXT:     %[[BO:[0-9]+]] = arith.muli %[[B]], %{{[0-9]+}} : index
// CHECK-NEXT:     %[[SO:[0-9]+]] = arith.muli %[[S]], %{{[0-9]+}} : index
// CHECK-NEXT:     %[[OUT:[0-9]+]] = arith.addi %[[BO]], %[[SO]] : index
// CHECK:          vector.store %[[V:[0-9]+]], %[[Y]][%[[BASE]]] : memref<64xf32>, vector<8xf32>
// CHECK-NEXT:     vector.store %[[V]], %[[T]][%[[OUT]]] : memref<64xf32>, vector<8xf32>
