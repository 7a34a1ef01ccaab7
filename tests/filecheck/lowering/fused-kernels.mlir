// Kernels follow the `fuse` pass's nn.fused groups: one group, one kernel (one loop nest)
// where the code generator can; with `fusion=false` every operator is a kernel.
// RUN: sparsec-opt %s -p 'fuse,convert-nn-to-loops{target=avx2}' --split-input-file | filecheck %s
// RUN: sparsec-opt %s -p 'fuse,convert-nn-to-loops{target=avx2 fusion=false}' --split-input-file | filecheck %s --check-prefix=OFF

// One group {batch_norm, relu, conv2d, relu, add}: batch_norm and relu are a prologue,
// applied to the input while the im2col panel is packed (then the padding lanes are
// zeroed: batch_norm(0) is not 0); bias, relu and the residual add are the epilogue,
// applied to the accumulators before the single store. No intermediate reaches memory.
func.func @main(%x: tensor<1x2x5x5xf32>, %y: tensor<1x2x5x5xf32>) -> tensor<1x2x5x5xf32> {
  %s = nn.constant dense<[1.5, 0.5]> : tensor<2xf32>
  %t = nn.constant dense<[0.25, -0.25]> : tensor<2xf32>
  %m = nn.constant dense<[0.1, 0.2]> : tensor<2xf32>
  %v = nn.constant dense<[1.0, 2.0]> : tensor<2xf32>
  %w = nn.constant dense<0.5> : tensor<2x2x3x3xf32>
  %b = nn.constant dense<[1.0, 2.0]> : tensor<2xf32>
  %n = nn.batch_norm %x, %s, %t, %m, %v {epsilon = 1.0e-05 : f64} : (tensor<1x2x5x5xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<1x2x5x5xf32>
  %r = nn.relu %n : (tensor<1x2x5x5xf32>) -> tensor<1x2x5x5xf32>
  %c = nn.conv2d %r, %w, %b {stride = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>, dilation = array<i64: 1, 1>, groups = 1 : i64} : (tensor<1x2x5x5xf32>, tensor<2x2x3x3xf32>, tensor<2xf32>) -> tensor<1x2x5x5xf32>
  %q = nn.relu %c : (tensor<1x2x5x5xf32>) -> tensor<1x2x5x5xf32>
  %o = nn.add %q, %y : (tensor<1x2x5x5xf32>, tensor<1x2x5x5xf32>) -> tensor<1x2x5x5xf32>
  func.return %o : tensor<1x2x5x5xf32>
}

// CHECK:      sparsec.abi = "{{.*}}\22fusion\22:{\22mode\22:\22plan\22,\22groups\22:[{\22name\22:\22fused_0\22,\22mapping\22:\22many-to-many\22,\22ops\22:[\22nn.batch_norm\22,\22nn.relu\22,\22nn.conv2d\22,\22nn.relu\22,\22nn.add\22],\22kernels\22:[\22batch_norm_relu_conv2d_0\22]}],\22layers_before\22:5,\22layers_after\22:1,\22bytes_before\22:1000,\22bytes_after\22:200
// CHECK:      func.func @main(%x: memref<50xf32>, %y: memref<50xf32>, %output0: memref<50xf32>, %weights: memref<{{[0-9]+}}xi8>, %arena: memref<0xi8>)
// CHECK:        func.call @batch_norm_relu_conv2d_0(%{{.*}}, %x, %{{.*}}, %{{.*}}, %output0, %{{.*}}, %y, %{{.*}}, %{{.*}})
// CHECK-NEXT:   func.return
// CHECK:      func.func private @batch_norm_relu_conv2d_0(
// The prologue, in the packing loop: x through the padding mask, batch_norm's folded
// per-channel alpha and beta, relu, then the padding lanes zeroed.
// CHECK:        %[[X:.*]] = vector.maskedload %{{.*}}[%{{.*}}], %[[MASK:.*]], %{{.*}} : memref<50xf32>, vector<8xi1>, vector<8xf32> into vector<8xf32>
// CHECK:        %[[SCALED:.*]] = arith.mulf %[[X]], %{{.*}} : vector<8xf32>
// CHECK-NEXT:   %[[NORM:.*]] = arith.addf %[[SCALED]], %{{.*}} : vector<8xf32>
// CHECK-NEXT:   %[[RELU:.*]] = arith.maxnumf %[[NORM]], %{{.*}} : vector<8xf32>
// CHECK-NEXT:   vector.store %[[RELU]], %[[BLEND:.*]][%{{.*}}] : memref<8xf32>, vector<8xf32>
// CHECK-NEXT:   %[[ZEROED:.*]] = vector.maskedload %[[BLEND]][%{{.*}}], %[[MASK]], %{{.*}}
// CHECK:        vector.store %[[ZEROED]], %{{.*}}[%{{.*}}] : memref<864xf32>, vector<8xf32>
// The epilogue after the micro-kernel: bias, relu, + y, one store to the output.
// CHECK:        func.call @gemm_2x16_set_1x2(
// CHECK:        %[[ACC:.*]] = vector.load %{{.*}}[%{{.*}}] : memref<32xf32>, vector<8xf32>
// CHECK:        %[[BIASED:.*]] = arith.addf %[[ACC]], %{{.*}} : vector<8xf32>
// CHECK-NEXT:   %[[ACT:.*]] = arith.maxnumf %[[BIASED]], %{{.*}} : vector<8xf32>
// CHECK:        %[[Y:.*]] = vector.load %{{.*}}[%{{.*}}] : memref<50xf32>, vector<8xf32>
// CHECK-NEXT:   %[[SUM:.*]] = arith.addf %[[ACT]], %[[Y]] : vector<8xf32>
// CHECK-NEXT:   vector.store %[[SUM]], %{{.*}}[%{{.*}}] : memref<50xf32>, vector<8xf32>

// OFF:        \22mode\22:\22off\22
// OFF:        func.func @main(
// OFF-NEXT:     arith.constant
// OFF:          func.call @batch_norm_0(
// OFF:          func.call @relu_0(
// OFF:          func.call @conv2d_0(
// OFF:          func.call @relu_0(
// OFF:          func.call @add_0(
// OFF-NEXT:     func.return

// -----

// conv2d -> conv2d is a red cell (Many-to-Many then Many-to-Many): no group, two kernels
// (the same code: the second call reuses the first kernel's function).
func.func @main(%x: tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32> {
  %w = nn.constant dense<0.5> : tensor<2x2x1x1xf32>
  %c = nn.conv2d %x, %w {stride = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilation = array<i64: 1, 1>, groups = 1 : i64} : (tensor<1x2x4x4xf32>, tensor<2x2x1x1xf32>) -> tensor<1x2x4x4xf32>
  %d = nn.conv2d %c, %w {stride = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilation = array<i64: 1, 1>, groups = 1 : i64} : (tensor<1x2x4x4xf32>, tensor<2x2x1x1xf32>) -> tensor<1x2x4x4xf32>
  func.return %d : tensor<1x2x4x4xf32>
}

// CHECK:      \22mode\22:\22greedy\22,\22groups\22:[],\22layers_before\22:2,\22layers_after\22:2
// CHECK:      func.func @main(
// CHECK:        func.call @conv2d_0(%{{.*}}, %x, %{{.*}}, %{{.*}}, %{{.*}})
// CHECK:        func.call @conv2d_0(%{{.*}}, %{{.*}}, %output0, %{{.*}}, %{{.*}})
// CHECK-NEXT:   func.return

// -----

// relu's result is also returned, so it must be stored and the convolution reads it
// back: the convolution could not apply it as a prologue, so the planner does not put
// the convolution in {batch_norm, relu}'s group (which would be split into two kernels;
// a split group is in fused-conv-pool.mlir). Two kernels, one group, no split.
func.func @main(%x: tensor<1x2x4x4xf32>) -> (tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32>) {
  %s = nn.constant dense<[1.5, 0.5]> : tensor<2xf32>
  %w = nn.constant dense<0.5> : tensor<2x2x1x1xf32>
  %n = nn.batch_norm %x, %s, %s, %s, %s {epsilon = 1.0e-05 : f64} : (tensor<1x2x4x4xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<1x2x4x4xf32>
  %r = nn.relu %n : (tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
  %c = nn.conv2d %r, %w {stride = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilation = array<i64: 1, 1>, groups = 1 : i64} : (tensor<1x2x4x4xf32>, tensor<2x2x1x1xf32>) -> tensor<1x2x4x4xf32>
  func.return %r, %c : tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32>
}

// CHECK:      \22ops\22:[\22nn.batch_norm\22,\22nn.relu\22],\22kernels\22:[\22batch_norm_relu_0\22]}]
// CHECK:      func.func @main(
// CHECK:        func.call @batch_norm_relu_0(%x, %{{.*}}, %{{.*}}, %output0)
// CHECK:        func.call @conv2d_0(%{{.*}}, %output0, %output1,
// CHECK-NEXT:   func.return

// -----

// Shuffle folded into the consumer's index map: {reshape, transpose, add} is one
// element-wise kernel that reads the matmul's result (1x8x16 viewed as 1x8x2x8, then
// permuted to 1x2x8x8) at strides (., 8, 16, 1): a row of 8 is one vector load.
func.func @main(%x: tensor<1x8x16xf32>, %w: tensor<16x16xf32>, %y: tensor<1x2x8x8xf32>) -> tensor<1x2x8x8xf32> {
  %m = nn.matmul %x, %w : (tensor<1x8x16xf32>, tensor<16x16xf32>) -> tensor<1x8x16xf32>
  %r = nn.reshape %m : (tensor<1x8x16xf32>) -> tensor<1x8x2x8xf32>
  %t = nn.transpose %r {permutation = array<i64: 0, 2, 1, 3>} : (tensor<1x8x2x8xf32>) -> tensor<1x2x8x8xf32>
  %a = nn.add %t, %y : (tensor<1x2x8x8xf32>, tensor<1x2x8x8xf32>) -> tensor<1x2x8x8xf32>
  func.return %a : tensor<1x2x8x8xf32>
}

// CHECK:      \22kernels\22:[\22reshape_transpose_add_0\22]
// CHECK:      func.func @main(
// CHECK:        func.call @matmul_0(
// CHECK:        func.call @reshape_transpose_add_0(
// CHECK-NEXT:   func.return
// CHECK:      func.func private @reshape_transpose_add_0(
// CHECK:        scf.for %{{.*}} = %{{.*}} to %{{.*}} step %{{.*}} {
// CHECK:          scf.for %{{.*}} = %{{.*}} to %{{.*}} step %{{.*}} {
// CHECK:            vector.load %{{.*}}[%{{.*}}] : memref<128xf32>, vector<8xf32>
// CHECK-NEXT:       vector.load %{{.*}}[%{{.*}}] : memref<128xf32>, vector<8xf32>
// CHECK-NEXT:       arith.addf %{{.*}}, %{{.*}} : vector<8xf32>
// CHECK-NEXT:       vector.store

// -----

// A concat written in place: the convolution (4 channels of 30) and the sigmoid (3
// channels) store straight into their slices of the concat's arena buffer, at bytes 0
// and 480; the concat is no kernel, and exp reads the whole 210 floats.
func.func @main(%x: tensor<1x3x5x6xf32>) -> tensor<1x7x5x6xf32> {
  %w = nn.constant dense<0.5> : tensor<4x3x3x3xf32>
  %c = nn.conv2d %x, %w {stride = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>, dilation = array<i64: 1, 1>, groups = 1 : i64} : (tensor<1x3x5x6xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x5x6xf32>
  %r = nn.relu %c : (tensor<1x4x5x6xf32>) -> tensor<1x4x5x6xf32>
  %s = nn.sigmoid %x : (tensor<1x3x5x6xf32>) -> tensor<1x3x5x6xf32>
  %k = nn.concat %r, %s {axis = 1 : i64} : (tensor<1x4x5x6xf32>, tensor<1x3x5x6xf32>) -> tensor<1x7x5x6xf32>
  %e = nn.exp %k : (tensor<1x7x5x6xf32>) -> tensor<1x7x5x6xf32>
  func.return %e : tensor<1x7x5x6xf32>
}

// CHECK:      func.func @main(%x: memref<90xf32>, %output0: memref<210xf32>, %weights: memref<{{[0-9]+}}xi8>, %arena: memref<896xi8>)
// CHECK:        %[[C0:.*]] = arith.constant 0 : index
// CHECK:        %[[R:.*]] = memref.view %arena[%[[C0]]][] : memref<896xi8> to memref<120xf32>
// CHECK:        func.call @conv2d_relu_0(%{{.*}}, %x, %[[R]], %{{.*}}, %{{.*}})
// CHECK-NEXT:   %[[C480:.*]] = arith.constant 480 : index
// CHECK-NEXT:   %[[S:.*]] = memref.view %arena[%[[C480]]][] : memref<896xi8> to memref<90xf32>
// CHECK-NEXT:   func.call @sigmoid_concat_0(%x, %[[S]])
// CHECK:        %[[K:.*]] = memref.view %arena[%[[C0]]][] : memref<896xi8> to memref<210xf32>
// CHECK-NEXT:   func.call @exp_0(%[[K]], %output0)
// CHECK-NEXT:   func.return
