// `convert-nn-to-loops` bufferizes @main (flat memrefs: inputs, outputs, weights, arena)
// and turns each op, with the element-wise ops it can carry, into a private kernel.
// RUN: sparsec-opt %s -p 'convert-nn-to-loops{target=avx2}' --split-input-file | filecheck %s

// add(broadcast) -> relu -> exp is one kernel: 8-lane vectors along the 11-wide rows, the
// last 3 lanes through masked loads and a masked store. The transpose reads it back from
// the arena and writes the output buffer directly.
func.func @main(%x: tensor<2x11xf32>, %y: tensor<11xf32>) -> tensor<11x2xf32> {
  %s = nn.add %x, %y : (tensor<2x11xf32>, tensor<11xf32>) -> tensor<2x11xf32>
  %r = nn.relu %s : (tensor<2x11xf32>) -> tensor<2x11xf32>
  %e = nn.exp %r : (tensor<2x11xf32>) -> tensor<2x11xf32>
  %t = nn.transpose %e {permutation = array<i64: 1, 0>} : (tensor<2x11xf32>) -> tensor<11x2xf32>
  func.return %t : tensor<11x2xf32>
}

// CHECK:      func.func @main(%x: memref<22xf32>, %y: memref<11xf32>, %output0: memref<22xf32>, %weights: memref<0xi8>, %arena: memref<128xi8>) {
// CHECK:        %[[TMP:.*]] = memref.view %arena[%{{.*}}][] : memref<128xi8> to memref<22xf32>
// CHECK-NEXT:   func.call @add_relu_exp_0(%x, %y, %[[TMP]])
// CHECK:        %[[AGAIN:.*]] = memref.view %arena[%{{.*}}][] : memref<128xi8> to memref<22xf32>
// CHECK-NEXT:   func.call @transpose_0(%output0, %[[AGAIN]])
// CHECK-NEXT:   func.return
// CHECK:      func.func private @add_relu_exp_0(%{{.*}}: memref<22xf32> {llvm.noalias}, %{{.*}}: memref<11xf32> {llvm.noalias}, %{{.*}}: memref<22xf32> {llvm.noalias})
// CHECK:        dense<[true, true, true, false, false, false, false, false]> : vector<8xi1>
// CHECK:        scf.for
// CHECK:          vector.load {{.*}} : memref<22xf32>, vector<8xf32>
// CHECK:          arith.addf {{.*}} : vector<8xf32>
// CHECK-NEXT:     arith.maxnumf {{.*}} : vector<8xf32>
// CHECK-NEXT:     math.exp {{.*}} : vector<8xf32>
// CHECK-NEXT:     vector.store
// CHECK:          vector.maskedload
// CHECK:          vector.maskedstore
// CHECK:      func.func private @transpose_0
// CHECK:        scf.for
// CHECK:          scf.for
// CHECK:            memref.load
// CHECK:            memref.store

// -----

// A convolution with a constant weight: the weight goes to the weights buffer, packed for
// the micro-kernel as [rows][K][3] (3 output channels, K = 2): 6 floats. Bias and relu
// ride along in the epilogue; the kernel's last two arguments are its range of tiles.
func.func @main(%x: tensor<1x2x5x5xf32>) -> tensor<1x3x5x5xf32> {
  %w = nn.constant dense<0.5> : tensor<3x2x1x1xf32>
  %b = nn.constant dense<[1.0, 2.0, 3.0]> : tensor<3xf32>
  %c = nn.conv2d %x, %w, %b {stride = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilation = array<i64: 1, 1>, groups = 1 : i64} : (tensor<1x2x5x5xf32>, tensor<3x2x1x1xf32>, tensor<3xf32>) -> tensor<1x3x5x5xf32>
  %r = nn.relu %c : (tensor<1x3x5x5xf32>) -> tensor<1x3x5x5xf32>
  func.return %r : tensor<1x3x5x5xf32>
}

// CHECK:      builtin.module attributes {sparsec.weights = dense_resource<__sparsec_weights> : tensor<{{[0-9]+}}xi8>, sparsec.abi = "{{.*}}conv2d_relu_0
// CHECK:      func.func @main(%x: memref<50xf32>, %output0: memref<75xf32>, %weights: memref<{{[0-9]+}}xi8>, %arena: memref<0xi8>)
// CHECK:        %[[A:.*]] = memref.view %weights[%{{.*}}][] : memref<{{[0-9]+}}xi8> to memref<6xf32>
// CHECK:        %[[BIAS:.*]] = memref.view %weights[%{{.*}}][] : memref<{{[0-9]+}}xi8> to memref<3xf32>
// CHECK:        func.call @conv2d_relu_0(%[[A]], %x, %output0, %[[BIAS]], %{{.*}}, %{{.*}}) : (memref<6xf32>, memref<50xf32>, memref<75xf32>, memref<3xf32>, index, index) -> ()
// The kernel packs im2col panels into a stack buffer, calls the shared micro-kernel for
// its 3 x 16 block (A rows 1 apart, 3 apart per k), then adds the bias, applies relu and
// stores: a plain store for full vectors, a masked one for the 5-wide output rows.
// CHECK:      func.func private @conv2d_relu_0(
// CHECK:        memref.alloca() {alignment = 64 : i64} : memref<{{[0-9]+}}xf32>
// CHECK:        func.call @gemm_3x16_set_1x3(
// CHECK:        arith.maxnumf
// CHECK:        vector.store
// CHECK:        vector.maskedstore
// CHECK:      func.func private @gemm_3x16_set_1x3({{.*}}) attributes {sparsec.noinline} {
// CHECK:        scf.for
// CHECK-COUNT-6: vector.fma {{.*}} : vector<8xf32>

// -----

// An output that is an input needs a copy; a reshape aliases its input's buffer.
func.func @main(%x: tensor<2x3xf32>) -> (tensor<2x3xf32>, tensor<3x2xf32>) {
  %r = nn.reshape %x : (tensor<2x3xf32>) -> tensor<3x2xf32>
  %n = nn.neg %r : (tensor<3x2xf32>) -> tensor<3x2xf32>
  func.return %x, %n : tensor<2x3xf32>, tensor<3x2xf32>
}

// CHECK:      func.func @main(%x: memref<6xf32>, %output0: memref<6xf32>, %output1: memref<6xf32>, %weights: memref<0xi8>, %arena: memref<0xi8>)
// CHECK-NEXT:   func.call @neg_0(%x, %output1)
// CHECK-NEXT:   func.call @copy_0(%x, %output0)
