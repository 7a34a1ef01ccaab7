// `fuse` puts a pooling (max_pool2d, avg_pool2d, adaptive_avg_pool2d) in the group of
// the dense convolution whose element-wise chain it pools: table.CONV_POOL, our one
// deviation from the reconstructed Table 3 (DNNFusion's Table 5 counts imply it). Every
// other Many-to-Many pair stays red.
// RUN: sparsec-opt %s -p fuse --split-input-file | filecheck %s
// RUN: sparsec-opt %s -p fuse --split-input-file --fusion-report 2>&1 >/dev/null | filecheck %s --check-prefix=REPORT

// conv + bias + relu + max_pool: one Many-to-Many group, only the pooled value leaves it.

func.func @conv_relu_max_pool(%x: tensor<1x4x6x6xf32>) -> tensor<1x4x3x3xf32> {
  %w = nn.constant dense<5.000000e-02> : tensor<4x4x3x3xf32>
  %b = nn.constant dense<[1.000000e-01, -2.000000e-01, 3.000000e-01, 0.000000e+00]> : tensor<4xf32>
  %c = nn.conv2d %x, %w, %b {stride = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>, dilation = array<i64: 1, 1>, groups = 1 : i64} : (tensor<1x4x6x6xf32>, tensor<4x4x3x3xf32>, tensor<4xf32>) -> tensor<1x4x6x6xf32>
  %r = nn.relu %c : (tensor<1x4x6x6xf32>) -> tensor<1x4x6x6xf32>
  %p = nn.max_pool2d %r {kernel = array<i64: 2, 2>, stride = array<i64: 2, 2>, padding = array<i64: 0, 0, 0, 0>, dilation = array<i64: 1, 1>, ceil_mode = false} : (tensor<1x4x6x6xf32>) -> tensor<1x4x3x3xf32>
  func.return %p : tensor<1x4x3x3xf32>
}

// CHECK-LABEL: func.func @conv_relu_max_pool(%x: tensor<1x4x6x6xf32>)
// CHECK-NEXT:    %w = nn.constant
// CHECK-NEXT:    %p = nn.fused %x, %w attributes {mapping = "many-to-many"} {
// CHECK:           %c = nn.conv2d
// CHECK-NEXT:      %r = nn.relu %c
// CHECK-NEXT:      %[[P:.+]] = nn.max_pool2d %r
// CHECK-NEXT:      nn.yield %[[P]] : tensor<1x4x3x3xf32>
// CHECK-NEXT:    } : (tensor<1x4x6x6xf32>, tensor<4x4x3x3xf32>) -> tensor<1x4x3x3xf32>
// CHECK-NEXT:    func.return %p

// REPORT:      fusion report for @conv_relu_max_pool: 1 group, 0 unfused operators
// REPORT-NEXT:   group 0: fused_conv2d_relu_max_pool2d (many-to-many, 3 ops, 1152 intermediate bytes removed)
// REPORT-NEXT:     nn.conv2d, nn.relu, nn.max_pool2d
// REPORT-NEXT: layers: 3 -> 1

// -----

// Squeeze-excite: the depthwise conv's group takes its global mean and has two
// results, the silu value (the multiply reads it) and the mean. The 1x1 conv after the
// pool is red (pool -> conv).

func.func @squeeze_excite(%x: tensor<1x4x6x6xf32>) -> tensor<1x4x6x6xf32> {
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

// CHECK-LABEL: func.func @squeeze_excite(%x: tensor<1x4x6x6xf32>)
// CHECK:         %a, %p = nn.fused %x, %w attributes {mapping = "many-to-many"} {
// CHECK:           %d = nn.conv2d
// CHECK-NEXT:      %n = nn.batch_norm %d
// CHECK-NEXT:      %[[A:.+]] = nn.silu %n
// CHECK-NEXT:      %[[P:.+]] = nn.adaptive_avg_pool2d %[[A]]
// CHECK-NEXT:      nn.yield %[[A]], %[[P]] : tensor<1x4x6x6xf32>, tensor<1x4x1x1xf32>
// CHECK:         %e = nn.conv2d %p, %g
// CHECK:         nn.mul %{{.*}}, %{{.*}} : (tensor<1x4x1x1xf32>, tensor<1x4x6x6xf32>)

// REPORT:      fusion report for @squeeze_excite: 2 groups, 1 unfused operator
// REPORT-NEXT:   group 0: fused_conv2d_batch_norm_silu_adaptive_avg_pool2d (many-to-many, 4 ops, 1152 intermediate bytes removed)
// REPORT-NEXT:     nn.conv2d, nn.batch_norm, nn.silu, nn.adaptive_avg_pool2d
// REPORT-NEXT:   group 1: fused_sigmoid_mul (one-to-many, 2 ops, 16 intermediate bytes removed)
// REPORT-NEXT:     nn.sigmoid, nn.mul
// REPORT-NEXT:   unfused: nn.conv2d

// -----

// conv -> max_pool with nothing between (no One-to-One seed reaches it: step 6 offers
// the pool to the conv); the conv after the pool stays out (red).

func.func @conv_max_pool_conv(%x: tensor<1x4x6x6xf32>) -> tensor<1x4x3x3xf32> {
  %w = nn.constant dense<5.000000e-02> : tensor<4x4x3x3xf32>
  %c = nn.conv2d %x, %w {stride = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>, dilation = array<i64: 1, 1>, groups = 1 : i64} : (tensor<1x4x6x6xf32>, tensor<4x4x3x3xf32>) -> tensor<1x4x6x6xf32>
  %p = nn.max_pool2d %c {kernel = array<i64: 2, 2>, stride = array<i64: 2, 2>, padding = array<i64: 0, 0, 0, 0>, dilation = array<i64: 1, 1>, ceil_mode = false} : (tensor<1x4x6x6xf32>) -> tensor<1x4x3x3xf32>
  %c2 = nn.conv2d %p, %w {stride = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>, dilation = array<i64: 1, 1>, groups = 1 : i64} : (tensor<1x4x3x3xf32>, tensor<4x4x3x3xf32>) -> tensor<1x4x3x3xf32>
  func.return %c2 : tensor<1x4x3x3xf32>
}

// CHECK-LABEL: func.func @conv_max_pool_conv(%x: tensor<1x4x6x6xf32>)
// CHECK:         %p = nn.fused %x, %w attributes {mapping = "many-to-many"} {
// CHECK:           %c = nn.conv2d
// CHECK-NEXT:      %[[P:.+]] = nn.max_pool2d %c
// CHECK-NEXT:      nn.yield %[[P]] : tensor<1x4x3x3xf32>
// CHECK:         %c2 = nn.conv2d %p, %w
// CHECK-NEXT:    func.return %c2

// REPORT:      fusion report for @conv_max_pool_conv: 1 group, 1 unfused operator
// REPORT-NEXT:   group 0: fused_conv2d_max_pool2d (many-to-many, 2 ops, 576 intermediate bytes removed)
// REPORT-NEXT:     nn.conv2d, nn.max_pool2d
// REPORT-NEXT:   unfused: nn.conv2d

// -----

// Left alone: the conv's value also feeds an add, so relu -> max_pool is not the end
// of the conv's epilogue chain; relu + max_pool are a group of their own (a pooling with
// an element-wise prologue).

func.func @conv_with_another_user(%x: tensor<1x4x6x6xf32>) -> (tensor<1x4x3x3xf32>, tensor<1x4x6x6xf32>) {
  %w = nn.constant dense<5.000000e-02> : tensor<4x4x3x3xf32>
  %c = nn.conv2d %x, %w {stride = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>, dilation = array<i64: 1, 1>, groups = 1 : i64} : (tensor<1x4x6x6xf32>, tensor<4x4x3x3xf32>) -> tensor<1x4x6x6xf32>
  %r = nn.relu %c : (tensor<1x4x6x6xf32>) -> tensor<1x4x6x6xf32>
  %p = nn.max_pool2d %r {kernel = array<i64: 2, 2>, stride = array<i64: 2, 2>, padding = array<i64: 0, 0, 0, 0>, dilation = array<i64: 1, 1>, ceil_mode = false} : (tensor<1x4x6x6xf32>) -> tensor<1x4x3x3xf32>
  %s = nn.add %c, %x : (tensor<1x4x6x6xf32>, tensor<1x4x6x6xf32>) -> tensor<1x4x6x6xf32>
  func.return %p, %s : tensor<1x4x3x3xf32>, tensor<1x4x6x6xf32>
}

// CHECK-LABEL: func.func @conv_with_another_user(%x: tensor<1x4x6x6xf32>)
// CHECK:         %c, %s = nn.fused %x, %w attributes {mapping = "many-to-many"} {
// CHECK:           nn.conv2d
// CHECK-NEXT:      nn.add
// CHECK:         %p = nn.fused %c attributes {mapping = "many-to-many"} {
// CHECK:           %r = nn.relu
// CHECK-NEXT:      nn.max_pool2d %r

// REPORT:      fusion report for @conv_with_another_user: 2 groups, 0 unfused operators
// REPORT-NEXT:   group 0: fused_conv2d_add (many-to-many, 2 ops, 0 intermediate bytes removed)
// REPORT-NEXT:     nn.conv2d, nn.add
// REPORT-NEXT:   group 1: fused_relu_max_pool2d (many-to-many, 2 ops, 576 intermediate bytes removed)
// REPORT-NEXT:     nn.relu, nn.max_pool2d
