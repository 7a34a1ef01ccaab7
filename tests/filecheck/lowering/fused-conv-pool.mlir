// A pooling in its convolution's group (`fuse`, table.CONV_POOL) is the plane epilogue of
// the convolution's kernel: one kernel per group. The kernel stores the convolution's
// value after its element-wise epilogue, then, per tile of whole output channels, pools
// those planes while they are in cache (lowering/kernels/pooling.per_plane). Where the
// pooling is that value's only reader, the value is never stored: the kernel keeps its
// channels' rows in a ring and pools the rows each chunk of panels completes.
// RUN: sparsec-opt %s -p 'fuse,convert-nn-to-loops{target=avx2}' --split-input-file | filecheck %s

// conv + bias + relu + max_pool (VGG's block end): one group, one kernel. The max_pool is
// the convolution's value's only reader: nothing in the arena, the value's rows go to a
// ring on the kernel's stack (%[[RING]], here the whole 6 rows of each of 4 channels).
func.func @main(%x: tensor<1x4x6x6xf32>) -> tensor<1x4x3x3xf32> {
  %w = nn.constant dense<5.000000e-02> : tensor<4x4x3x3xf32>
  %b = nn.constant dense<[1.000000e-01, -2.000000e-01, 3.000000e-01, 0.000000e+00]> : tensor<4xf32>
  %c = nn.conv2d %x, %w, %b {stride = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>, dilation = array<i64: 1, 1>, groups = 1 : i64} : (tensor<1x4x6x6xf32>, tensor<4x4x3x3xf32>, tensor<4xf32>) -> tensor<1x4x6x6xf32>
  %r = nn.relu %c : (tensor<1x4x6x6xf32>) -> tensor<1x4x6x6xf32>
  %p = nn.max_pool2d %r {kernel = array<i64: 2, 2>, stride = array<i64: 2, 2>, padding = array<i64: 0, 0, 0, 0>, dilation = array<i64: 1, 1>, ceil_mode = false} : (tensor<1x4x6x6xf32>) -> tensor<1x4x3x3xf32>
  func.return %p : tensor<1x4x3x3xf32>
}

// CHECK:      \22groups\22:[{\22name\22:\22fused_0\22,\22mapping\22:\22many-to-many\22,\22ops\22:[\22nn.conv2d\22,\22nn.relu\22,\22nn.max_pool2d\22],\22kernels\22:[\22conv2d_relu_max_pool2d_0\22]}],\22layers_before\22:3,\22layers_after\22:1
// CHECK:      func.func @main(%x: memref<144xf32>, %output0: memref<36xf32>, %weights: memref<{{[0-9]+}}xi8>, %arena: memref<0xi8>)
// CHECK:        func.call @conv2d_relu_max_pool2d_0(%{{.*}}, %x, %{{.*}}, %output0, %{{.*}}, %{{.*}})
// CHECK-NEXT:   func.return
// CHECK:      func.func private @conv2d_relu_max_pool2d_0(%{{.*}}: memref<144xf32> {llvm.noalias}, %{{.*}}: memref<144xf32> {llvm.noalias}, %{{.*}}: memref<4xf32> {llvm.noalias}, %[[OUT:.*]]: memref<36xf32> {llvm.noalias}, %[[LO:.*]]: index, %[[HI:.*]]: index)
// CHECK:        %[[RING:.*]] = memref.alloca() {alignment = 64 : i64} : memref<144xf32>
// The tiles: whole output channels (threads share them; none pools another's plane).
// CHECK:        scf.for %[[TILE:.*]] = %[[LO]] to %[[HI]] step
// The micro-kernel, then bias and relu in registers and one store into the ring, at
// (channel - the tile's first) * 36 + (row % 6) * 6 + column.
// CHECK:        func.call @gemm_4x16_set_1x4(
// CHECK:        arith.remsi %{{.*}}, %{{.*}} : index
// CHECK:        %[[BIASED:.*]] = arith.addf %{{.*}}, %{{.*}} : vector<8xf32>
// CHECK-NEXT:   %[[RELU:.*]] = arith.maxnumf %[[BIASED]], %{{.*}} : vector<8xf32>
// CHECK-NEXT:   vector.store %[[RELU]], %[[RING]][%{{.*}}] : memref<144xf32>, vector<8xf32>
// Then, after the chunk, the pooled rows it completes, per channel of the tile: the rows
// their windows need copied from the ring into the padded plane, four taps of max,
// stored to the pooled output. Still inside the tile loop, before the kernel returns.
// CHECK:        arith.select
// CHECK:        scf.for
// CHECK:        vector.maskedload %[[RING]][%{{.*}}], %{{.*}}, %{{.*}} : memref<144xf32>, vector<8xi1>, vector<8xf32> into vector<8xf32>
// CHECK:        %[[T0:.*]] = arith.maxnumf %{{.*}}, %{{.*}} : vector<8xf32>
// CHECK:        %[[T1:.*]] = arith.maxnumf %[[T0]], %{{.*}} : vector<8xf32>
// CHECK:        %[[T2:.*]] = arith.maxnumf %[[T1]], %{{.*}} : vector<8xf32>
// CHECK:        %[[T3:.*]] = arith.maxnumf %[[T2]], %{{.*}} : vector<8xf32>
// CHECK:        vector.maskedstore %[[OUT]][%{{.*}}], %{{.*}}, %[[T3]] : memref<36xf32>, vector<8xi1>, vector<8xf32>
// CHECK:        func.return

// -----

// Squeeze-excite (EfficientNet-B0): depthwise conv + batch_norm + silu + global mean.
// The silu value leaves the group (the multiply reads it): the kernel writes both, the
// plane (%[[ACT]]) and, right after each plane, its mean (%[[MEAN]]).
func.func @main(%x: tensor<1x4x6x6xf32>) -> tensor<1x4x6x6xf32> {
  %w = nn.constant dense<5.000000e-02> : tensor<4x1x3x3xf32>
  %s = nn.constant dense<[1.5, 0.5, 1.0, 2.0]> : tensor<4xf32>
  %t = nn.constant dense<[0.25, -0.25, 0.0, 0.5]> : tensor<4xf32>
  %m = nn.constant dense<[0.1, 0.2, 0.3, 0.4]> : tensor<4xf32>
  %v = nn.constant dense<[1.0, 2.0, 1.0, 2.0]> : tensor<4xf32>
  %g = nn.constant dense<1.000000e-01> : tensor<4x4x1x1xf32>
  %d = nn.conv2d %x, %w {stride = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>, dilation = array<i64: 1, 1>, groups = 4 : i64} : (tensor<1x4x6x6xf32>, tensor<4x1x3x3xf32>) -> tensor<1x4x6x6xf32>
  %n = nn.batch_norm %d, %s, %t, %m, %v {epsilon = 1.0e-05 : f64} : (tensor<1x4x6x6xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<1x4x6x6xf32>
  %a = nn.silu %n : (tensor<1x4x6x6xf32>) -> tensor<1x4x6x6xf32>
  %p = nn.adaptive_avg_pool2d %a {output_size = array<i64: 1, 1>} : (tensor<1x4x6x6xf32>) -> tensor<1x4x1x1xf32>
  %e = nn.conv2d %p, %g {stride = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilation = array<i64: 1, 1>, groups = 1 : i64} : (tensor<1x4x1x1xf32>, tensor<4x4x1x1xf32>) -> tensor<1x4x1x1xf32>
  %gate = nn.sigmoid %e : (tensor<1x4x1x1xf32>) -> tensor<1x4x1x1xf32>
  %y = nn.mul %gate, %a : (tensor<1x4x1x1xf32>, tensor<1x4x6x6xf32>) -> tensor<1x4x6x6xf32>
  func.return %y : tensor<1x4x6x6xf32>
}

// CHECK:      \22ops\22:[\22nn.conv2d\22,\22nn.batch_norm\22,\22nn.silu\22,\22nn.adaptive_avg_pool2d\22],\22kernels\22:[\22conv2d_batch_norm_silu_0\22]}
// CHECK:      func.func @main(
// CHECK:        func.call @conv2d_batch_norm_silu_0(%x, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}})
// CHECK:        func.call @conv2d_0(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}})
// CHECK:        func.call @mul_0(%{{.*}}, %{{.*}}, %output0)
// CHECK:      func.func private @conv2d_batch_norm_silu_0(%{{.*}}: memref<144xf32> {llvm.noalias}, %[[ACT:.*]]: memref<144xf32> {llvm.noalias}, %{{.*}}: memref<36xf32> {llvm.noalias}, %{{.*}}: memref<4xf32> {llvm.noalias}, %{{.*}}: memref<4xf32> {llvm.noalias}, %[[MEAN:.*]]: memref<4xf32> {llvm.noalias})
// CHECK:        scf.for
// silu(x) = x / (1 + exp(-x)), stored: the multiply reads it later.
// CHECK:        %[[SILU:.*]] = arith.divf %{{.*}}, %{{.*}} : vector<8xf32>
// CHECK-NEXT:   vector.store %[[SILU]], %[[ACT]][%{{.*}}] : memref<144xf32>, vector<8xf32>
// The plane's mean, once all its rows are stored.
// CHECK:        %[[SUM:.*]] = vector.reduction <add>, %{{.*}} : vector<8xf32> into f32
// CHECK-NEXT:   %[[AVG:.*]] = arith.divf %[[SUM]], %{{.*}} : f32
// CHECK-NEXT:   memref.store %[[AVG]], %[[MEAN]][%{{.*}}] : memref<4xf32>
// CHECK-NEXT: }
// CHECK-NEXT: func.return

// -----

// Left alone: the conv's value feeds an add too, so the conv's epilogue chain ends at
// the conv and relu -> max_pool cannot be its pool epilogue. relu + max_pool are a group
// of their own, one kernel: the pooling applies relu as it copies its padded plane.
func.func @main(%x: tensor<1x4x6x6xf32>) -> (tensor<1x4x3x3xf32>, tensor<1x4x6x6xf32>) {
  %w = nn.constant dense<5.000000e-02> : tensor<4x4x3x3xf32>
  %c = nn.conv2d %x, %w {stride = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>, dilation = array<i64: 1, 1>, groups = 1 : i64} : (tensor<1x4x6x6xf32>, tensor<4x4x3x3xf32>) -> tensor<1x4x6x6xf32>
  %r = nn.relu %c : (tensor<1x4x6x6xf32>) -> tensor<1x4x6x6xf32>
  %p = nn.max_pool2d %r {kernel = array<i64: 2, 2>, stride = array<i64: 2, 2>, padding = array<i64: 0, 0, 0, 0>, dilation = array<i64: 1, 1>, ceil_mode = false} : (tensor<1x4x6x6xf32>) -> tensor<1x4x3x3xf32>
  %s = nn.add %c, %x : (tensor<1x4x6x6xf32>, tensor<1x4x6x6xf32>) -> tensor<1x4x6x6xf32>
  func.return %p, %s : tensor<1x4x3x3xf32>, tensor<1x4x6x6xf32>
}

// CHECK:      \22ops\22:[\22nn.relu\22,\22nn.max_pool2d\22],\22kernels\22:[\22relu_max_pool2d_0\22]
// CHECK:      func.func @main(
// CHECK:        func.call @conv2d_0(
// CHECK:        func.call @add_0(
// CHECK:        func.call @relu_max_pool2d_0(%output0, %{{.*}})
// CHECK:      func.func private @relu_max_pool2d_0(
// CHECK:        %[[X:.*]] = vector.maskedload %{{.*}}[%{{.*}}], %[[M:.*]], %{{.*}} : memref<144xf32>, vector<8xi1>, vector<8xf32> into vector<8xf32>
// CHECK-NEXT:   %[[R:.*]] = arith.maxnumf %[[X]], %{{.*}} : vector<8xf32>
// CHECK-NEXT:   vector.maskedstore %{{.*}}[%{{.*}}], %[[M]], %[[R]] : memref<102xf32>, vector<8xi1>, vector<8xf32>
// CHECK:        arith.maxnumf
// CHECK:        func.return
