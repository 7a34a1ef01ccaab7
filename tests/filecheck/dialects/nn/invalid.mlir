// One case per verifier message of the nn dialect. Each diagnostic names the op and the
// offending shapes or values, at the op's file:line:column.
// RUN: sparsec-opt %s --split-input-file --verify-diagnostics --parsing-diagnostics | filecheck %s
// Without --verify-diagnostics the first error fails the run.
// RUN: not sparsec-opt %s --split-input-file 2>&1 | filecheck %s --check-prefix=FIRST
// FIRST: invalid.mlir:[[# @LINE + 10]]:3: error: nn.relu: i32 should be of base attribute tensor
// FIRST-NOT: error
// FIRST-NOT: Traceback

// === Rules every operator shares ===

// An operand that is not a tensor: the custom syntax checks operand types while parsing,
// the generic form when verifying.

func.func @operand_not_a_tensor(%x: i32) {
  %0 = nn.relu %x : (i32) -> i32
  func.return
}
// CHECK: invalid.mlir:[[# @LINE - 3]]:3: error: nn.relu: i32 should be of base attribute tensor

// -----

func.func @operand_not_a_tensor_generic(%x: i32) {
  %0 = "nn.relu"(%x) : (i32) -> i32
  func.return
}
// CHECK: invalid.mlir:[[# @LINE - 3]]:3: error: nn.relu: operand 'input' at position 0 does not verify: i32 should be of base attribute tensor

// -----

func.func @dynamic_shape(%x: tensor<?x3xf32>) {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: nn.relu: operands and results must have static shapes, got tensor<?x3xf32>
  %0 = nn.relu %x : (tensor<?x3xf32>) -> tensor<?x3xf32>
  func.return
}

// -----

func.func @result_type_unary(%x: tensor<2x3xf32>) {
  // CHECK: error: nn.sigmoid: result type tensor<2x3xf16> does not match the inferred type tensor<2x3xf32>
  %0 = nn.sigmoid %x : (tensor<2x3xf32>) -> tensor<2x3xf16>
  func.return
}

// -----

func.func @result_type_binary(%a: tensor<2x3xf32>, %b: tensor<3xf32>) {
  // CHECK: error: nn.mul: result type tensor<3xf32> does not match the inferred type tensor<2x3xf32>
  %0 = nn.mul %a, %b : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<3xf32>
  func.return
}

// -----

func.func @result_type_conv(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>) {
  // Without padding a 3x3 kernel takes 8x8 to 6x6.
  // CHECK: error: nn.conv2d: result type tensor<1x4x8x8xf32> does not match the inferred type tensor<1x4x6x6xf32>
  %0 = nn.conv2d %x, %w {stride = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilation = array<i64: 1, 1>, groups = 1 : i64} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x8x8xf32>
  func.return
}

// -----

func.func @result_type_reduce(%x: tensor<2x3x4xf32>) {
  // keepdim = false drops the reduced dim.
  // CHECK: error: nn.reduce_mean: result type tensor<2x1x4xf32> does not match the inferred type tensor<2x4xf32>
  %0 = nn.reduce_mean %x {axes = array<i64: 1>, keepdim = false} : (tensor<2x3x4xf32>) -> tensor<2x1x4xf32>
  func.return
}

// -----

func.func @missing_property(%x: tensor<2xf32>) {
  // CHECK: error: nn.clamp: property 'min' expected in operation 'nn.clamp'
  %0 = "nn.clamp"(%x) <{max = 6.0 : f64}> : (tensor<2xf32>) -> tensor<2xf32>
  func.return
}

// -----

func.func @property_of_wrong_type(%x: tensor<2xf32>) {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: nn.clamp: 6 : i64 should be of base attribute float
  %0 = nn.clamp %x {min = 0.0 : f64, max = 6 : i64} : (tensor<2xf32>) -> tensor<2xf32>
  func.return
}

// -----

func.func @unknown_property(%x: tensor<2xf32>) {
  // CHECK: error: nn.relu: property 'alpha' is not defined by the operation 'nn.relu'
  %0 = "nn.relu"(%x) <{alpha = 1.0 : f64}> : (tensor<2xf32>) -> tensor<2xf32>
  func.return
}

// -----

// === Element-wise ===

func.func @clamp_min_above_max(%x: tensor<2xf32>) {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: nn.clamp: min 6.0 is greater than max 0.0
  %0 = nn.clamp %x {min = 6.0 : f64, max = 0.0 : f64} : (tensor<2xf32>) -> tensor<2xf32>
  func.return
}

// -----

func.func @gelu_approximation(%x: tensor<2xf32>) {
  // CHECK: error: nn.gelu: approximate must be "none" or "tanh", got "fast"
  %0 = nn.gelu %x {approximate = "fast"} : (tensor<2xf32>) -> tensor<2xf32>
  func.return
}

// -----

func.func @binary_element_types(%a: tensor<2xf32>, %b: tensor<2xf16>) {
  // CHECK: error: nn.add: element types differ: tensor<2xf32> and tensor<2xf16>
  %0 = nn.add %a, %b : (tensor<2xf32>, tensor<2xf16>) -> tensor<2xf32>
  func.return
}

// -----

func.func @binary_not_broadcastable(%a: tensor<2x3xf32>, %b: tensor<4xf32>) {
  // Trailing dims 3 and 4 are neither equal nor 1.
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: nn.sub: shapes 2x3 and 4 do not broadcast
  %0 = nn.sub %a, %b : (tensor<2x3xf32>, tensor<4xf32>) -> tensor<2x3xf32>
  func.return
}

// -----

// === Convolution and products ===

func.func @conv_rank(%x: tensor<3x8x8xf32>, %w: tensor<4x3x3x3xf32>) {
  // CHECK: error: nn.conv2d: input and weight must be 4-D (NCHW, OIHW), got (3, 8, 8) and (4, 3, 3, 3)
  %0 = nn.conv2d %x, %w {stride = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilation = array<i64: 1, 1>, groups = 1 : i64} : (tensor<3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<4x6x6xf32>
  func.return
}

// -----

func.func @conv_attribute_lengths(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>) {
  // padding takes 4 values, not 2.
  // CHECK: error: nn.conv2d: stride and dilation take 2 values, padding takes 4 (top, left, bottom, right), got stride (1, 1), dilation (1, 1), padding (1, 1)
  %0 = nn.conv2d %x, %w {stride = array<i64: 1, 1>, padding = array<i64: 1, 1>, dilation = array<i64: 1, 1>, groups = 1 : i64} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x8x8xf32>
  func.return
}

// -----

func.func @conv_zero_stride(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>) {
  // CHECK: error: nn.conv2d: stride (0, 1) and dilation (1, 1) must be positive, padding (0, 0, 0, 0) non-negative, groups 1 positive
  %0 = nn.conv2d %x, %w {stride = array<i64: 0, 1>, padding = array<i64: 0, 0, 0, 0>, dilation = array<i64: 1, 1>, groups = 1 : i64} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x6x6xf32>
  func.return
}

// -----

func.func @conv_negative_padding(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>) {
  // CHECK: error: nn.conv2d: stride (1, 1) and dilation (1, 1) must be positive, padding (0, -1, 0, 0) non-negative, groups 1 positive
  %0 = nn.conv2d %x, %w {stride = array<i64: 1, 1>, padding = array<i64: 0, -1, 0, 0>, dilation = array<i64: 1, 1>, groups = 1 : i64} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x6x5xf32>
  func.return
}

// -----

func.func @conv_groups(%x: tensor<1x4x8x8xf32>, %w: tensor<6x4x3x3xf32>) {
  // With groups = 2 each filter sees 4/2 = 2 input channels, so weight dim 1 must be 2.
  // CHECK: error: nn.conv2d: input channels 4 and weight (6, 4, 3, 3) do not fit groups=2 (weight dim 1 must be 4/2)
  %0 = nn.conv2d %x, %w {stride = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilation = array<i64: 1, 1>, groups = 2 : i64} : (tensor<1x4x8x8xf32>, tensor<6x4x3x3xf32>) -> tensor<1x6x6x6xf32>
  func.return
}

// -----

func.func @conv_bias(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>, %b: tensor<3xf32>) {
  // CHECK: error: nn.conv2d: bias shape (3,) must be (4,)
  %0 = nn.conv2d %x, %w, %b {stride = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilation = array<i64: 1, 1>, groups = 1 : i64} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>, tensor<3xf32>) -> tensor<1x4x6x6xf32>
  func.return
}

// -----

func.func @conv_kernel_too_big(%x: tensor<1x3x2x2xf32>, %w: tensor<4x3x3x3xf32>) {
  // CHECK: error: nn.conv2d: kernel 3x3 does not fit the padded input 2x2
  %0 = nn.conv2d %x, %w {stride = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilation = array<i64: 1, 1>, groups = 1 : i64} : (tensor<1x3x2x2xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x1x1xf32>
  func.return
}

// -----

func.func @conv_element_types(%x: tensor<1x3x4x4xf32>, %w: tensor<2x3x1x1xf16>) {
  // CHECK: error: nn.conv2d: element types differ: tensor<1x3x4x4xf32> and tensor<2x3x1x1xf16>
  %0 = nn.conv2d %x, %w {stride = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilation = array<i64: 1, 1>, groups = 1 : i64} : (tensor<1x3x4x4xf32>, tensor<2x3x1x1xf16>) -> tensor<1x2x4x4xf32>
  func.return
}

// -----

func.func @matmul_rank(%a: tensor<3xf32>, %b: tensor<3x2xf32>) {
  // CHECK: error: nn.matmul: operands must have rank >= 2, got (3,) and (3, 2)
  %0 = nn.matmul %a, %b : (tensor<3xf32>, tensor<3x2xf32>) -> tensor<2xf32>
  func.return
}

// -----

func.func @matmul_contraction(%a: tensor<2x3xf32>, %b: tensor<4x5xf32>) {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: nn.matmul: contraction dims differ: (2, 3) @ (4, 5)
  %0 = nn.matmul %a, %b : (tensor<2x3xf32>, tensor<4x5xf32>) -> tensor<2x5xf32>
  func.return
}

// -----

func.func @matmul_batch(%a: tensor<2x3x4xf32>, %b: tensor<5x4x6xf32>) {
  // Batch dims 2 and 5 do not broadcast.
  // CHECK: error: nn.matmul: shapes 2 and 5 do not broadcast
  %0 = nn.matmul %a, %b : (tensor<2x3x4xf32>, tensor<5x4x6xf32>) -> tensor<2x3x6xf32>
  func.return
}

// -----

func.func @matmul_element_types(%a: tensor<2x3xf32>, %b: tensor<3x4xi64>) {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: nn.matmul: element types differ: tensor<2x3xf32> and tensor<3x4xi64>
  %0 = nn.matmul %a, %b : (tensor<2x3xf32>, tensor<3x4xi64>) -> tensor<2x4xf32>
  func.return
}

// -----

func.func @linear_weight(%x: tensor<2x4xf32>, %w: tensor<5x3xf32>) {
  // CHECK: error: nn.linear: input (2, 4) and weight (5, 3) do not fit: weight must be [out, 4]
  %0 = nn.linear %x, %w : (tensor<2x4xf32>, tensor<5x3xf32>) -> tensor<2x5xf32>
  func.return
}

// -----

func.func @linear_bias(%x: tensor<2x4xf32>, %w: tensor<5x4xf32>, %b: tensor<4xf32>) {
  // CHECK: error: nn.linear: bias shape (4,) must be (5,)
  %0 = nn.linear %x, %w, %b : (tensor<2x4xf32>, tensor<5x4xf32>, tensor<4xf32>) -> tensor<2x5xf32>
  func.return
}

// -----

func.func @linear_element_types(%x: tensor<2x4xf32>, %w: tensor<5x4xf32>, %b: tensor<5xf64>) {
  // CHECK: error: nn.linear: element types differ: tensor<2x4xf32> and tensor<5x4xf32> and tensor<5xf64>
  %0 = nn.linear %x, %w, %b : (tensor<2x4xf32>, tensor<5x4xf32>, tensor<5xf64>) -> tensor<2x5xf32>
  func.return
}

// -----

// === Normalisation ===

func.func @batch_norm_rank(%x: tensor<4xf32>, %p: tensor<4xf32>) {
  // CHECK: error: nn.batch_norm: input must have rank >= 2 (N, C, ...), got (4,)
  %0 = nn.batch_norm %x, %p, %p, %p, %p {epsilon = 1.0e-05 : f64} : (tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  func.return
}

// -----

func.func @batch_norm_statistics(%x: tensor<1x4x2x2xf32>, %p: tensor<4xf32>, %mean: tensor<3xf32>) {
  // CHECK: error: nn.batch_norm: mean shape (3,) must be (4,) for input (1, 4, 2, 2)
  %0 = nn.batch_norm %x, %p, %p, %mean, %p {epsilon = 1.0e-05 : f64} : (tensor<1x4x2x2xf32>, tensor<4xf32>, tensor<4xf32>, tensor<3xf32>, tensor<4xf32>) -> tensor<1x4x2x2xf32>
  func.return
}

// -----

func.func @batch_norm_element_types(%x: tensor<1x4x2x2xf32>, %p: tensor<4xf16>) {
  // CHECK: error: nn.batch_norm: element types differ: tensor<1x4x2x2xf32> and tensor<4xf16> and tensor<4xf16> and tensor<4xf16> and tensor<4xf16>
  %0 = nn.batch_norm %x, %p, %p, %p, %p {epsilon = 1.0e-05 : f64} : (tensor<1x4x2x2xf32>, tensor<4xf16>, tensor<4xf16>, tensor<4xf16>, tensor<4xf16>) -> tensor<1x4x2x2xf32>
  func.return
}

// -----

func.func @layer_norm_shape(%x: tensor<2x3x4xf32>, %w: tensor<3xf32>) {
  // The weight must span the trailing dims (4, or 3x4), not 3.
  // CHECK: error: nn.layer_norm: weight (3,) and bias (3,) must equal the trailing dims of the input (2, 3, 4)
  %0 = nn.layer_norm %x, %w, %w {epsilon = 1.0e-05 : f64} : (tensor<2x3x4xf32>, tensor<3xf32>, tensor<3xf32>) -> tensor<2x3x4xf32>
  func.return
}

// -----

func.func @layer_norm_element_types(%x: tensor<2x4xf16>, %w: tensor<4xf32>) {
  // CHECK: error: nn.layer_norm: element types differ: tensor<2x4xf16> and tensor<4xf32> and tensor<4xf32>
  %0 = nn.layer_norm %x, %w, %w {epsilon = 1.0e-05 : f64} : (tensor<2x4xf16>, tensor<4xf32>, tensor<4xf32>) -> tensor<2x4xf16>
  func.return
}

// -----

func.func @softmax_axis(%x: tensor<2x3xf32>) {
  // CHECK: error: nn.softmax: axis 2 is out of range for rank 2
  %0 = nn.softmax %x {axis = 2 : i64} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  func.return
}

// -----

// === Pooling and reductions ===

func.func @pool_rank(%x: tensor<4x8x8xf32>) {
  // CHECK: error: nn.max_pool2d: input must be 4-D (NCHW), got (4, 8, 8)
  %0 = nn.max_pool2d %x {kernel = array<i64: 2, 2>, stride = array<i64: 2, 2>, padding = array<i64: 0, 0, 0, 0>, dilation = array<i64: 1, 1>, ceil_mode = false} : (tensor<4x8x8xf32>) -> tensor<4x4x4xf32>
  func.return
}

// -----

func.func @pool_attribute_lengths(%x: tensor<1x4x8x8xf32>) {
  // CHECK: error: nn.avg_pool2d: kernel and stride take 2 values, padding takes 4 (top, left, bottom, right), got kernel (2,), stride (2, 2), padding (0, 0, 0, 0)
  %0 = nn.avg_pool2d %x {kernel = array<i64: 2>, stride = array<i64: 2, 2>, padding = array<i64: 0, 0, 0, 0>, ceil_mode = false, count_include_pad = true} : (tensor<1x4x8x8xf32>) -> tensor<1x4x4x4xf32>
  func.return
}

// -----

func.func @pool_zero_kernel(%x: tensor<1x4x8x8xf32>) {
  // CHECK: error: nn.avg_pool2d: kernel (0, 2), stride (2, 2) and dilation (1, 1) must be positive and padding (0, 0, 0, 0) non-negative
  %0 = nn.avg_pool2d %x {kernel = array<i64: 0, 2>, stride = array<i64: 2, 2>, padding = array<i64: 0, 0, 0, 0>, ceil_mode = false, count_include_pad = true} : (tensor<1x4x8x8xf32>) -> tensor<1x4x4x4xf32>
  func.return
}

// -----

func.func @pool_padding_over_half_kernel(%x: tensor<1x4x8x8xf32>) {
  // PyTorch's rule: padding at most kernel / 2.
  // CHECK: error: nn.max_pool2d: padding (2, 0, 2, 0) must be at most half the kernel (3, 3)
  %0 = nn.max_pool2d %x {kernel = array<i64: 3, 3>, stride = array<i64: 1, 1>, padding = array<i64: 2, 0, 2, 0>, dilation = array<i64: 1, 1>, ceil_mode = false} : (tensor<1x4x8x8xf32>) -> tensor<1x4x10x6xf32>
  func.return
}

// -----

func.func @pool_kernel_too_big(%x: tensor<1x4x2x2xf32>) {
  // CHECK: error: nn.max_pool2d: kernel (3, 3) does not fit the padded input 2x2
  %0 = nn.max_pool2d %x {kernel = array<i64: 3, 3>, stride = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilation = array<i64: 1, 1>, ceil_mode = false} : (tensor<1x4x2x2xf32>) -> tensor<1x4x1x1xf32>
  func.return
}

// -----

func.func @max_pool_dilation_length(%x: tensor<1x4x8x8xf32>) {
  // CHECK: error: nn.max_pool2d: dilation takes 2 values, got (1, 1, 1)
  %0 = nn.max_pool2d %x {kernel = array<i64: 2, 2>, stride = array<i64: 2, 2>, padding = array<i64: 0, 0, 0, 0>, dilation = array<i64: 1, 1, 1>, ceil_mode = false} : (tensor<1x4x8x8xf32>) -> tensor<1x4x4x4xf32>
  func.return
}

// -----

func.func @adaptive_pool_output_size(%x: tensor<1x4x8x8xf32>) {
  // CHECK: error: nn.adaptive_avg_pool2d: needs a 4-D input and 2 positive output sizes, got (1, 4, 8, 8) and (0, 1)
  %0 = nn.adaptive_avg_pool2d %x {output_size = array<i64: 0, 1>} : (tensor<1x4x8x8xf32>) -> tensor<1x4x0x1xf32>
  func.return
}

// -----

func.func @reduce_axis_range(%x: tensor<2x3xf32>) {
  // CHECK: error: nn.reduce_sum: axis -3 is out of range for rank 2
  %0 = nn.reduce_sum %x {axes = array<i64: -3>, keepdim = false} : (tensor<2x3xf32>) -> tensor<3xf32>
  func.return
}

// -----

func.func @reduce_axes_repeated(%x: tensor<2x3xf32>) {
  // -1 and 1 are the same axis of a rank-2 input.
  // CHECK: error: nn.reduce_max: axes (1, -1) must be non-empty and distinct
  %0 = nn.reduce_max %x {axes = array<i64: 1, -1>, keepdim = false} : (tensor<2x3xf32>) -> tensor<2xf32>
  func.return
}

// -----

func.func @reduce_axes_empty(%x: tensor<2x3xf32>) {
  // CHECK: error: nn.reduce_mean: axes () must be non-empty and distinct
  %0 = nn.reduce_mean %x {axes = array<i64>, keepdim = false} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  func.return
}

// -----

// === Data movement ===

func.func @reshape_element_count(%x: tensor<2x3xf32>) {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: nn.reshape: cannot reshape (2, 3) (6 elements) to (4, 2) (8 elements)
  %0 = nn.reshape %x : (tensor<2x3xf32>) -> tensor<4x2xf32>
  func.return
}

// -----

func.func @reshape_element_type(%x: tensor<2x3xf32>) {
  // CHECK: error: nn.reshape: element types differ: tensor<2x3xf32> -> tensor<6xf16>
  %0 = nn.reshape %x : (tensor<2x3xf32>) -> tensor<6xf16>
  func.return
}

// -----

func.func @expand_not_broadcastable(%x: tensor<3x2xf32>) {
  // CHECK: error: nn.expand: cannot broadcast (3, 2) to (3, 4)
  %0 = nn.expand %x : (tensor<3x2xf32>) -> tensor<3x4xf32>
  func.return
}

// -----

func.func @upsample_channels(%x: tensor<1x4x2x2xf32>) {
  // CHECK: error: nn.upsample_nearest: needs NCHW input and output with equal N and C, got (1, 4, 2, 2) -> (1, 8, 4, 4)
  %0 = nn.upsample_nearest %x : (tensor<1x4x2x2xf32>) -> tensor<1x8x4x4xf32>
  func.return
}

// -----

func.func @transpose_repeated_dim(%x: tensor<2x3x4xf32>) {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: nn.transpose: permutation (0, 0, 1) is not a permutation of the 3 dims of (2, 3, 4)
  %0 = nn.transpose %x {permutation = array<i64: 0, 0, 1>} : (tensor<2x3x4xf32>) -> tensor<2x2x3xf32>
  func.return
}

// -----

func.func @transpose_wrong_length(%x: tensor<2x3x4xf32>) {
  // CHECK: error: nn.transpose: permutation (1, 0) is not a permutation of the 3 dims of (2, 3, 4)
  %0 = nn.transpose %x {permutation = array<i64: 1, 0>} : (tensor<2x3x4xf32>) -> tensor<3x2xf32>
  func.return
}

// -----

func.func @concat_no_inputs() {
  // CHECK: error: nn.concat: needs at least one input
  %0 = nn.concat {axis = 0 : i64} : () -> tensor<0xf32>
  func.return
}

// -----

func.func @concat_axis(%a: tensor<2x3xf32>) {
  // CHECK: error: nn.concat: axis 2 is out of range for rank 2
  %0 = nn.concat %a, %a {axis = 2 : i64} : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x6xf32>
  func.return
}

// -----

func.func @concat_shapes(%a: tensor<2x3xf32>, %b: tensor<3x3xf32>) {
  // Along axis 1 the other dims (2 and 3) must agree.
  // CHECK: error: nn.concat: input shapes [(2, 3), (3, 3)] differ outside axis 1
  %0 = nn.concat %a, %b {axis = 1 : i64} : (tensor<2x3xf32>, tensor<3x3xf32>) -> tensor<2x6xf32>
  func.return
}

// -----

func.func @concat_element_types(%a: tensor<2x3xf32>, %b: tensor<2x3xf16>) {
  // CHECK: error: nn.concat: inputs have different element types: tensor<2x3xf32>, tensor<2x3xf16>
  %0 = nn.concat %a, %b {axis = 0 : i64} : (tensor<2x3xf32>, tensor<2x3xf16>) -> tensor<4x3xf32>
  func.return
}

// -----

func.func @slice_lengths(%x: tensor<4x4xf32>) {
  // CHECK: error: nn.slice: start, end and step need one value per dim of (4, 4)
  %0 = nn.slice %x {start = array<i64: 0>, end = array<i64: 2>, step = array<i64: 1>} : (tensor<4x4xf32>) -> tensor<2x4xf32>
  func.return
}

// -----

func.func @slice_out_of_range(%x: tensor<4x4xf32>) {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: nn.slice: slice 2:6:1 is out of range for a dim of size 4
  %0 = nn.slice %x {start = array<i64: 0, 2>, end = array<i64: 4, 6>, step = array<i64: 1, 1>} : (tensor<4x4xf32>) -> tensor<4x4xf32>
  func.return
}

// -----

func.func @slice_zero_step(%x: tensor<4x4xf32>) {
  // CHECK: error: nn.slice: slice 0:4:0 is out of range for a dim of size 4
  %0 = nn.slice %x {start = array<i64: 0, 0>, end = array<i64: 4, 4>, step = array<i64: 0, 1>} : (tensor<4x4xf32>) -> tensor<4x4xf32>
  func.return
}

// -----

func.func @pad_negative(%x: tensor<2x3xf32>) {
  // CHECK: error: nn.pad: low and high need one non-negative value per dim of (2, 3)
  %0 = nn.pad %x {low = array<i64: 0, -1>, high = array<i64: 0, 0>, value = 0.0 : f64} : (tensor<2x3xf32>) -> tensor<2x2xf32>
  func.return
}

// -----

func.func @pad_lengths(%x: tensor<2x3xf32>) {
  // CHECK: error: nn.pad: low and high need one non-negative value per dim of (2, 3)
  %0 = nn.pad %x {low = array<i64: 1>, high = array<i64: 1>, value = 0.0 : f64} : (tensor<2x3xf32>) -> tensor<4x3xf32>
  func.return
}

// -----

func.func @gather_float_indices(%table: tensor<10x4xf32>, %idx: tensor<3xf32>) {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: nn.gather: indices must be integers, got tensor<3xf32>
  %0 = nn.gather %table, %idx {axis = 0 : i64} : (tensor<10x4xf32>, tensor<3xf32>) -> tensor<3x4xf32>
  func.return
}

// -----

func.func @gather_axis(%table: tensor<10x4xf32>, %idx: tensor<3xi64>) {
  // CHECK: error: nn.gather: axis 2 is out of range for rank 2
  %0 = nn.gather %table, %idx {axis = 2 : i64} : (tensor<10x4xf32>, tensor<3xi64>) -> tensor<10x4x3xf32>
  func.return
}

// -----

// === Constants ===

func.func @constant_type() {
  // CHECK: error: nn.constant: value type tensor<2xf32> does not match result type tensor<3xf32>
  %0 = "nn.constant"() <{value = dense<1.0> : tensor<2xf32>}> : () -> tensor<3xf32>
  func.return
}

// -----

func.func @constant_not_dense() {
  // A parse error: --parsing-diagnostics prints the line with a caret under the attribute.
  // CHECK:      invalid.mlir:[[# @LINE + 4]]:20
  // CHECK-NEXT:   %0 = nn.constant 1.0 : f32
  // CHECK-NEXT:                    ^
  // CHECK-NEXT:                    nn.constant expects dense<...> or dense_resource<...>, got 1.000000e+00 : f32
  %0 = nn.constant 1.0 : f32
  func.return
}

// -----

// Errors in a weight's data name its resource key, at the nn.constant that uses it.
// Here the key is not in the trailer (each --split-input-file chunk has its own).

func.func @resource_missing() {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: dense_resource<absent> has no data in the dialect_resources trailer
  %0 = nn.constant dense_resource<absent> : tensor<3xf32>
  func.return
}

// -----

// 3 x f32 needs 12 bytes after the 4-byte header; the blob has 8.

func.func @resource_byte_count() {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: short: resource blob holds 8 bytes of data after its 4-byte header, but tensor<3xf32> needs 12
  %0 = nn.constant dense_resource<short> : tensor<3xf32>
  func.return
}

{-#
  dialect_resources: {
    builtin: {
      short: "0x040000000000803F00000040"
    }
  }
#-}

// -----

// xDSL checks the 0x prefix while parsing the trailer (a parse error), sparsec the digits.

func.func @resource_not_hex() {
  %0 = nn.constant dense_resource<text> : tensor<1xf32>
  func.return
}

// The error points at the brace closing the builtin entries.
// CHECK: invalid.mlir:[[# @LINE + 6]]:5
// CHECK: got an error when parsing a resource: Blob must be a hex string, got: one point five
{-#
  dialect_resources: {
    builtin: {
      text: "one point five"
    }
  }
#-}

// -----

func.func @resource_bad_hex_digits() {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: digits: non-hexadecimal number found in fromhex() arg at position 12
  %0 = nn.constant dense_resource<digits> : tensor<1xf32>
  func.return
}

{-#
  dialect_resources: {
    builtin: {
      digits: "0x040000000000XX3F"
    }
  }
#-}

// -----

func.func @resource_element_type() {
  // numpy has no bfloat16, so sparsec cannot hold a bf16 weight.
  // CHECK: error: bf: no numpy dtype for element type bf16
  %0 = nn.constant dense_resource<bf> : tensor<1xbf16>
  func.return
}

{-#
  dialect_resources: {
    builtin: {
      bf: "0x02000000803F"
    }
  }
#-}

// -----

// === Fusion groups ===

func.func @fused_unknown_mapping(%x: tensor<2xf32>) {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: nn.fused: unknown mapping type "one-to-all" (known: one-to-one, one-to-many, many-to-many, reorganize, shuffle)
  %0 = nn.fused %x attributes {mapping = "one-to-all"} {
  ^bb0(%a: tensor<2xf32>):
    nn.yield %a : tensor<2xf32>
  } : (tensor<2xf32>) -> tensor<2xf32>
  func.return
}

// -----

func.func @fused_missing_mapping(%x: tensor<2xf32>) {
  // CHECK: error: nn.fused: property 'mapping' expected in operation 'nn.fused'
  %0 = "nn.fused"(%x) ({
  ^bb0(%a: tensor<2xf32>):
    nn.yield %a : tensor<2xf32>
  }) : (tensor<2xf32>) -> tensor<2xf32>
  func.return
}

// -----

func.func @fused_block_arguments(%x: tensor<2xf32>) {
  // CHECK: error: nn.fused: block argument types (tensor<3xf32>) must equal the input types (tensor<2xf32>)
  %0 = nn.fused %x attributes {mapping = "one-to-one"} {
  ^bb0(%a: tensor<3xf32>):
    %r = nn.relu %a : (tensor<3xf32>) -> tensor<3xf32>
    nn.yield %r : tensor<3xf32>
  } : (tensor<2xf32>) -> tensor<2xf32>
  func.return
}

// -----

func.func @fused_yield_types(%x: tensor<2xf32>) {
  // CHECK: error: nn.fused: nn.yield types (tensor<2xf32>) must equal the result types (tensor<2xf32>, tensor<2xf32>)
  %0, %1 = nn.fused %x attributes {mapping = "one-to-one"} {
  ^bb0(%a: tensor<2xf32>):
    nn.yield %a : tensor<2xf32>
  } : (tensor<2xf32>) -> (tensor<2xf32>, tensor<2xf32>)
  func.return
}

// -----

// The body must end with nn.yield (SingleBlockImplicitTerminator checks this before
// nn.fused's own verifier).

func.func @fused_without_yield(%x: tensor<2xf32>) {
  // CHECK: error: nn.fused: 'nn.fused' terminates with operation nn.relu instead of nn.yield
  %0 = nn.fused %x attributes {mapping = "one-to-one"} {
  ^bb0(%a: tensor<2xf32>):
    %r = nn.relu %a : (tensor<2xf32>) -> tensor<2xf32>
  } : (tensor<2xf32>) -> tensor<2xf32>
  func.return
}

// -----

func.func @fused_empty_body(%x: tensor<2xf32>) {
  // CHECK: error: nn.fused: 'nn.fused' contains empty block instead of at least terminating with nn.yield
  %0 = nn.fused %x attributes {mapping = "one-to-one"} {
  ^bb0(%a: tensor<2xf32>):
  } : (tensor<2xf32>) -> tensor<2xf32>
  func.return
}

// -----

func.func @fused_uses_outer_value(%x: tensor<2xf32>) {
  // CHECK: error: nn.fused: Operation using value defined out of its IsolatedFromAbove parent: ReluOp(%r = nn.relu %x
  %0 = nn.fused %x attributes {mapping = "one-to-one"} {
  ^bb0(%a: tensor<2xf32>):
    %r = nn.relu %x : (tensor<2xf32>) -> tensor<2xf32>
    nn.yield %r : tensor<2xf32>
  } : (tensor<2xf32>) -> tensor<2xf32>
  func.return
}

// -----

func.func @yield_outside_fused(%x: tensor<2xf32>) -> tensor<2xf32> {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: nn.yield: 'nn.yield' expects parent op 'nn.fused'
  nn.yield %x : tensor<2xf32>
}
