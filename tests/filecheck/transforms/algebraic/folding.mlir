// `algebraic`, folding: constant folding (exact, on by default) and the inference
// rewrites that fold batch norm, scales and biases into the preceding conv/linear, and
// merge consecutive linears (rounding-changing: reassociate=true), except adding a bias
// to a conv/linear without one, which is exact.
// RUN: sparsec-opt %s -p algebraic --split-input-file | filecheck %s --check-prefixes=CHECK,EXACT
// RUN: sparsec-opt %s -p 'algebraic{reassociate=true}' --split-input-file | filecheck %s --check-prefixes=CHECK,REASSOC

// A transposed weight and a sum of constants fold; exp of a constant does not (libm's
// exp is not the same everywhere), and neither does anything that reads %x.
func.func @constant_folding(%x: tensor<2x3xf32>) -> (tensor<2x2xf32>, tensor<2xf32>) {
  %w = nn.constant dense<[[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]> : tensor<3x2xf32>
  %wt = nn.transpose %w {permutation = array<i64: 1, 0>} : (tensor<3x2xf32>) -> tensor<2x3xf32>
  %y = nn.linear %x, %wt : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x2xf32>
  %a = nn.constant dense<[1.0, 2.0]> : tensor<2xf32>
  %b = nn.constant dense<0.5> : tensor<f32>
  %sum = nn.add %a, %b : (tensor<2xf32>, tensor<f32>) -> tensor<2xf32>
  %e = nn.exp %sum : (tensor<2xf32>) -> tensor<2xf32>
  func.return %y, %e : tensor<2x2xf32>, tensor<2xf32>
}
// CHECK-LABEL: func.func @constant_folding
// CHECK-NEXT:    %wt = nn.constant dense<{{\[}}[1.000000e+00, 3.000000e+00, 5.000000e+00], [2.000000e+00, 4.000000e+00, 6.000000e+00]]> : tensor<2x3xf32>
// CHECK-NEXT:    %y = nn.linear %x, %wt
// CHECK-NEXT:    %sum = nn.constant dense<[1.500000e+00, 2.500000e+00]> : tensor<2xf32>
// CHECK-NEXT:    %e = nn.exp %sum
// CHECK-NEXT:    func.return %y, %e

// -----

// batch_norm(conv(x, w)) -> conv(x, w*a, (0 - mean)*a + beta), a = scale/sqrt(var+eps):
// a = [2/sqrt(4), 3/sqrt(1)] = [1, 3] (eps = 0 here, so the numbers are round).
func.func @batch_norm_into_conv(%x: tensor<1x1x3x3xf32>) -> tensor<1x2x3x3xf32> {
  %w = nn.constant dense<[[[[1.0]]], [[[2.0]]]]> : tensor<2x1x1x1xf32>
  %scale = nn.constant dense<[2.0, 3.0]> : tensor<2xf32>
  %beta = nn.constant dense<[0.5, -1.0]> : tensor<2xf32>
  %mean = nn.constant dense<[1.0, 2.0]> : tensor<2xf32>
  %var = nn.constant dense<[4.0, 1.0]> : tensor<2xf32>
  %c = nn.conv2d %x, %w {stride = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilation = array<i64: 1, 1>, groups = 1 : i64} : (tensor<1x1x3x3xf32>, tensor<2x1x1x1xf32>) -> tensor<1x2x3x3xf32>
  %y = nn.batch_norm %c, %scale, %beta, %mean, %var {epsilon = 0.0 : f64} : (tensor<1x2x3x3xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<1x2x3x3xf32>
  func.return %y : tensor<1x2x3x3xf32>
}
// CHECK-LABEL:   func.func @batch_norm_into_conv
// EXACT:           %y = nn.batch_norm %c
// REASSOC-NEXT:    %folded_weight = nn.constant dense<{{\[\[\[\[}}1.000000e+00]]], {{\[\[\[}}6.000000e+00]]]]> : tensor<2x1x1x1xf32>
// REASSOC-NEXT:    %folded_bias = nn.constant dense<[-5.000000e-01, -7.000000e+00]> : tensor<2xf32>
// REASSOC-NEXT:    %y = nn.conv2d %x, %folded_weight, %folded_bias
// REASSOC-NEXT:    func.return %y
// REASSOC-NOT:     nn.batch_norm

// -----

// Left alone even with reassociate: the conv's result has another user, which would
// keep the conv alive next to the folded one.
func.func @batch_norm_of_a_shared_conv(%x: tensor<1x1x3x3xf32>) -> (tensor<1x2x3x3xf32>, tensor<1x2x3x3xf32>) {
  %w = nn.constant dense<[[[[1.0]]], [[[2.0]]]]> : tensor<2x1x1x1xf32>
  %s = nn.constant dense<[2.0, 3.0]> : tensor<2xf32>
  %c = nn.conv2d %x, %w {stride = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilation = array<i64: 1, 1>, groups = 1 : i64} : (tensor<1x1x3x3xf32>, tensor<2x1x1x1xf32>) -> tensor<1x2x3x3xf32>
  %y = nn.batch_norm %c, %s, %s, %s, %s {epsilon = 0.0 : f64} : (tensor<1x2x3x3xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<1x2x3x3xf32>
  func.return %y, %c : tensor<1x2x3x3xf32>, tensor<1x2x3x3xf32>
}
// CHECK-LABEL: func.func @batch_norm_of_a_shared_conv
// CHECK:         %c = nn.conv2d %x, %w
// CHECK-NEXT:    %y = nn.batch_norm %c

// -----

// Left alone: batch norm normalises axis 1, which is not a rank-3 linear's features.
func.func @batch_norm_of_a_rank_3_linear(%x: tensor<2x2x3xf32>) -> tensor<2x2x2xf32> {
  %w = nn.constant dense<1.0> : tensor<2x3xf32>
  %s = nn.constant dense<[2.0, 3.0]> : tensor<2xf32>
  %l = nn.linear %x, %w : (tensor<2x2x3xf32>, tensor<2x3xf32>) -> tensor<2x2x2xf32>
  %y = nn.batch_norm %l, %s, %s, %s, %s {epsilon = 0.0 : f64} : (tensor<2x2x2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<2x2x2xf32>
  func.return %y : tensor<2x2x2xf32>
}
// CHECK-LABEL: func.func @batch_norm_of_a_rank_3_linear
// CHECK:         %y = nn.batch_norm %l

// -----

// A per-channel scale and shift after a conv without bias: the add becomes the conv's
// bias exactly (always on); the mul folds into the weights only with reassociate.
func.func @scale_and_shift_after_conv(%x: tensor<1x1x3x3xf32>) -> tensor<1x2x3x3xf32> {
  %w = nn.constant dense<[[[[1.0]]], [[[2.0]]]]> : tensor<2x1x1x1xf32>
  %k = nn.constant dense<[[[3.0]], [[0.5]]]> : tensor<2x1x1xf32>
  %t = nn.constant dense<[[[0.25]], [[-1.0]]]> : tensor<2x1x1xf32>
  %c = nn.conv2d %x, %w {stride = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilation = array<i64: 1, 1>, groups = 1 : i64} : (tensor<1x1x3x3xf32>, tensor<2x1x1x1xf32>) -> tensor<1x2x3x3xf32>
  %m = nn.mul %k, %c : (tensor<2x1x1xf32>, tensor<1x2x3x3xf32>) -> tensor<1x2x3x3xf32>
  %y = nn.add %m, %t : (tensor<1x2x3x3xf32>, tensor<2x1x1xf32>) -> tensor<1x2x3x3xf32>
  func.return %y : tensor<1x2x3x3xf32>
}
// CHECK-LABEL:   func.func @scale_and_shift_after_conv
// EXACT:           %c = nn.conv2d %x, %w
// EXACT-NEXT:      %m = nn.mul %k, %c
// EXACT-NEXT:      %y = nn.add %m, %t
// REASSOC-NEXT:    %folded_weight = nn.constant dense<{{\[\[\[\[}}3.000000e+00]]], {{\[\[\[}}1.000000e+00]]]]> : tensor<2x1x1x1xf32>
// REASSOC-NEXT:    %folded_bias = nn.constant dense<[2.500000e-01, -1.000000e+00]> : tensor<2xf32>
// REASSOC-NEXT:    %y = nn.conv2d %x, %folded_weight, %folded_bias
// REASSOC-NEXT:    func.return %y

// -----

func.func @shift_after_conv_without_bias(%x: tensor<1x1x3x3xf32>) -> tensor<1x2x3x3xf32> {
  %w = nn.constant dense<[[[[1.0]]], [[[2.0]]]]> : tensor<2x1x1x1xf32>
  %t = nn.constant dense<[[[0.25]], [[-1.0]]]> : tensor<2x1x1xf32>
  %c = nn.conv2d %x, %w {stride = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilation = array<i64: 1, 1>, groups = 1 : i64} : (tensor<1x1x3x3xf32>, tensor<2x1x1x1xf32>) -> tensor<1x2x3x3xf32>
  %y = nn.sub %c, %t : (tensor<1x2x3x3xf32>, tensor<2x1x1xf32>) -> tensor<1x2x3x3xf32>
  func.return %y : tensor<1x2x3x3xf32>
}
// CHECK-LABEL: func.func @shift_after_conv_without_bias
// CHECK:         %folded_bias = nn.constant dense<[-2.500000e-01, 1.000000e+00]> : tensor<2xf32>
// CHECK-NEXT:    %y = nn.conv2d %x, %w, %folded_bias
// CHECK-NEXT:    func.return %y

// -----

// With a bias already there, b + c is rounded ahead of time: reassociate only.
func.func @shift_after_linear_with_bias(%x: tensor<4x3xf32>) -> tensor<4x2xf32> {
  %w = nn.constant dense<1.0> : tensor<2x3xf32>
  %b = nn.constant dense<[1.0, 2.0]> : tensor<2xf32>
  %t = nn.constant dense<[0.5, 0.25]> : tensor<2xf32>
  %l = nn.linear %x, %w, %b : (tensor<4x3xf32>, tensor<2x3xf32>, tensor<2xf32>) -> tensor<4x2xf32>
  %y = nn.add %t, %l : (tensor<2xf32>, tensor<4x2xf32>) -> tensor<4x2xf32>
  func.return %y : tensor<4x2xf32>
}
// CHECK-LABEL:   func.func @shift_after_linear_with_bias
// EXACT:           %y = nn.add %t, %l
// REASSOC:         %folded_bias = nn.constant dense<[1.500000e+00, 2.250000e+00]> : tensor<2xf32>
// REASSOC-NEXT:    %y = nn.linear %x, %w, %folded_bias

// -----

// Two linears 3 -> 8 -> 2 without a nonlinearity: 2*4*(3*8 + 8*2) = 320 multiply-add
// FLOPs (plus biases) against 2*4*3*2 = 48 merged. w = w2 @ w1, b = w2 @ b1 + b2.
func.func @linears_merge(%x: tensor<4x3xf32>) -> tensor<4x2xf32> {
  %w1 = nn.constant dense<1.0> : tensor<8x3xf32>
  %b1 = nn.constant dense<0.5> : tensor<8xf32>
  %w2 = nn.constant dense<0.25> : tensor<2x8xf32>
  %b2 = nn.constant dense<[1.0, -1.0]> : tensor<2xf32>
  %h = nn.linear %x, %w1, %b1 : (tensor<4x3xf32>, tensor<8x3xf32>, tensor<8xf32>) -> tensor<4x8xf32>
  %y = nn.linear %h, %w2, %b2 : (tensor<4x8xf32>, tensor<2x8xf32>, tensor<2xf32>) -> tensor<4x2xf32>
  func.return %y : tensor<4x2xf32>
}
// CHECK-LABEL:   func.func @linears_merge
// EXACT:           %h = nn.linear %x, %w1, %b1
// EXACT-NEXT:      %y = nn.linear %h, %w2, %b2
// REASSOC-NEXT:    %folded_weight = nn.constant dense<2.000000e+00> : tensor<2x3xf32>
// REASSOC-NEXT:    %folded_bias = nn.constant dense<[2.000000e+00, 0.000000e+00]> : tensor<2xf32>
// REASSOC-NEXT:    %y = nn.linear %x, %folded_weight, %folded_bias : (tensor<4x3xf32>, tensor<2x3xf32>, tensor<2xf32>) -> tensor<4x2xf32>
// REASSOC-NEXT:    func.return %y

// -----

// Left alone even with reassociate: 8 -> 2 -> 8 costs 2*4*(8*2 + 2*8) = 256 FLOPs,
// merged 2*4*8*8 = 512.
func.func @linears_through_a_bottleneck(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %w1 = nn.constant dense<1.0> : tensor<2x8xf32>
  %w2 = nn.constant dense<0.25> : tensor<8x2xf32>
  %h = nn.linear %x, %w1 : (tensor<4x8xf32>, tensor<2x8xf32>) -> tensor<4x2xf32>
  %y = nn.linear %h, %w2 : (tensor<4x2xf32>, tensor<8x2xf32>) -> tensor<4x8xf32>
  func.return %y : tensor<4x8xf32>
}
// CHECK-LABEL: func.func @linears_through_a_bottleneck
// CHECK:         %h = nn.linear %x, %w1
// CHECK-NEXT:    %y = nn.linear %h, %w2
