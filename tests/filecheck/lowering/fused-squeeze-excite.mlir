// Squeeze-excite's scaling x * s, s = sigmoid(conv1x1(silu(pooled))) of shape (N, C, 1, 1),
// in the excitation convolution's group: the broadcast multiply is the convolution's plane
// epilogue (lowering/kernels/pooling.per_plane): one kernel computes s for a tile of whole
// output channels, then those channels' planes of x * s, reading s[p] back from the
// buffer it has just stored. Left alone: a broadcast whose other operand is (N, 1, H, W),
// which does not share the planes of s: two kernels.
// RUN: sparsec-opt %s -p 'convert-nn-to-loops{target=avx2}' --split-input-file | filecheck %s

func.func @main(%x: tensor<1x4x6x6xf32>, %p: tensor<1x2x1x1xf32>) -> tensor<1x4x6x6xf32> {
  %f = nn.fused %p, %x attributes {mapping = "many-to-many"} {
  ^bb0(%q: tensor<1x2x1x1xf32>, %a: tensor<1x4x6x6xf32>):
    %g = nn.constant dense<1.000000e-01> : tensor<4x2x1x1xf32>
    %b = nn.constant dense<[1.000000e-01, -2.000000e-01, 3.000000e-01, 0.000000e+00]> : tensor<4xf32>
    %h = nn.silu %q : (tensor<1x2x1x1xf32>) -> tensor<1x2x1x1xf32>
    %e = nn.conv2d %h, %g, %b {stride = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilation = array<i64: 1, 1>, groups = 1 : i64} : (tensor<1x2x1x1xf32>, tensor<4x2x1x1xf32>, tensor<4xf32>) -> tensor<1x4x1x1xf32>
    %s = nn.sigmoid %e : (tensor<1x4x1x1xf32>) -> tensor<1x4x1x1xf32>
    %y = nn.mul %a, %s : (tensor<1x4x6x6xf32>, tensor<1x4x1x1xf32>) -> tensor<1x4x6x6xf32>
    nn.yield %y : tensor<1x4x6x6xf32>
  } : (tensor<1x2x1x1xf32>, tensor<1x4x6x6xf32>) -> tensor<1x4x6x6xf32>
  func.return %f : tensor<1x4x6x6xf32>
}

// CHECK:      \22kernels\22:[{\22name\22:\22silu_conv2d_sigmoid_0\22,{{.*}}\22ops\22:[\22nn.silu\22,\22nn.conv2d\22,\22nn.sigmoid\22,\22nn.mul\22],{{.*}}}],
// CHECK:      func.func @main(%x: memref<144xf32>, %p: memref<2xf32>, %output0: memref<144xf32>,
// CHECK:        %[[SBUF:[0-9]+]] = memref.view %arena[%{{[0-9]+}}][] : memref<64xi8> to memref<4xf32>
// CHECK:        func.call @silu_conv2d_sigmoid_0(%{{[0-9]+}}, %p, %[[SBUF]], %{{[0-9]+}}, %x, %output0,
// CHECK-NEXT:   func.return
// CHECK:      func.func private @silu_conv2d_sigmoid_0(%{{[0-9]+}}: memref<8xf32> {llvm.noalias}, %{{[0-9]+}}: memref<2xf32> {llvm.noalias}, %[[S:[0-9]+]]: memref<4xf32> {llvm.noalias}, %{{[0-9]+}}: memref<4xf32> {llvm.noalias}, %[[X:[0-9]+]]: memref<144xf32> {llvm.noalias}, %[[OUT:[0-9]+]]: memref<144xf32> {llvm.noalias}, %[[LO:[0-9]+]]: index, %[[HI:[0-9]+]]: index)
// CHECK:        scf.for %[[TILE:[0-9]+]] = %[[LO]] to %[[HI]] step
// s for the tile's channels: the GEMM, bias, sigmoid, a store of one lane per channel
// CHECK:        func.call @gemm_4x16_set_1x4(
// CHECK:        vector.maskedstore %[[S]][%{{[0-9]+}}], %{{[0-9]+}}, %{{[0-9]+}} : memref<4xf32>, vector<8xi1>, vector<8xf32>
// then, per channel of the tile, its plane of x * s (36 = 4 vectors and a masked tail)
// CHECK:        scf.for %[[C:[0-9]+]] =
// CHECK:          %[[PLANE:[0-9]+]] = arith.addi %{{[0-9]+}}, %[[C]] : index
// CHECK:          scf.for %[[J:[0-9]+]] =
// CHECK-NEXT:       %[[SP:[0-9]+]] = memref.load %[[S]][%[[PLANE]]] : memref<4xf32>
// CHECK-NEXT:       %[[SV:[0-9]+]] = vector.broadcast %[[SP]] : f32 to vector<8xf32>
// CHECK-NEXT:       %[[AT:[0-9]+]] = arith.addi %{{[0-9]+}}, %[[J]] : index
// CHECK-NEXT:       %[[XV:[0-9]+]] = vector.load %[[X]][%[[AT]]] : memref<144xf32>, vector<8xf32>
// CHECK-NEXT:       %[[Y:[0-9]+]] = arith.mulf %[[XV]], %[[SV]] : vector<8xf32>
// CHECK-NEXT:       %[[TO:[0-9]+]] = arith.addi %{{[0-9]+}}, %[[J]] : index
// CHECK-NEXT:       vector.store %[[Y]], %[[OUT]][%[[TO]]] : memref<144xf32>, vector<8xf32>
// CHECK:          vector.maskedstore %[[OUT]]
// CHECK:        func.return

// -----

func.func @main(%x: tensor<1x1x6x6xf32>, %p: tensor<1x2x1x1xf32>) -> tensor<1x4x6x6xf32> {
  %f = nn.fused %p, %x attributes {mapping = "many-to-many"} {
  ^bb0(%q: tensor<1x2x1x1xf32>, %a: tensor<1x1x6x6xf32>):
    %g = nn.constant dense<1.000000e-01> : tensor<4x2x1x1xf32>
    %b = nn.constant dense<[1.000000e-01, -2.000000e-01, 3.000000e-01, 0.000000e+00]> : tensor<4xf32>
    %h = nn.silu %q : (tensor<1x2x1x1xf32>) -> tensor<1x2x1x1xf32>
    %e = nn.conv2d %h, %g, %b {stride = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilation = array<i64: 1, 1>, groups = 1 : i64} : (tensor<1x2x1x1xf32>, tensor<4x2x1x1xf32>, tensor<4xf32>) -> tensor<1x4x1x1xf32>
    %s = nn.sigmoid %e : (tensor<1x4x1x1xf32>) -> tensor<1x4x1x1xf32>
    %y = nn.mul %a, %s : (tensor<1x1x6x6xf32>, tensor<1x4x1x1xf32>) -> tensor<1x4x6x6xf32>
    nn.yield %y : tensor<1x4x6x6xf32>
  } : (tensor<1x2x1x1xf32>, tensor<1x1x6x6xf32>) -> tensor<1x4x6x6xf32>
  func.return %f : tensor<1x4x6x6xf32>
}

// CHECK:      \22kernels\22:[{\22name\22:\22silu_conv2d_sigmoid_0\22,{{.*}}\22ops\22:[\22nn.silu\22,\22nn.conv2d\22,\22nn.sigmoid\22],{{.*}}{\22name\22:\22mul_0\22,{{.*}}\22ops\22:[\22nn.mul\22],
// CHECK:      func.call @silu_conv2d_sigmoid_0(
// CHECK:      func.call @mul_0(%x,
