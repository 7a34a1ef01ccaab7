// Every nn op in its custom syntax (CHECK) and its generic form (CHECK-GENERIC).
//
// Custom syntax: `%r = nn.op %a, %b {properties} : (operand types) -> result type`, the
// properties written in the attribute dictionary. Generic form: the same properties in
// `<{...}>` and no attribute dictionary.
//
// 1. custom -> custom, and custom -> custom -> custom (the printed form parses back):
// RUN: sparsec-opt %s --split-input-file | filecheck %s
// RUN: sparsec-opt %s --split-input-file | sparsec-opt --split-input-file | filecheck %s
// 2. custom -> generic -> custom:
// RUN: SPARSEC_ROUNDTRIP
// 3. the generic form itself:
// RUN: SPARSEC_GENERIC_ROUNDTRIP
// 4. generic parsed back prints exactly what the custom input prints:
// RUN: sparsec-opt %s --split-input-file > %t.custom
// RUN: sparsec-opt %s --split-input-file --print-op-generic | sparsec-opt --split-input-file | diff %t.custom -

// Unary element-wise ops: one operand, same type out.

func.func @unary(%x: tensor<2x3xf32>, %h: tensor<f16>) -> tensor<2x3xf32> {
  %relu = nn.relu %x : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %clamp = nn.clamp %x {min = 0.000000e+00 : f64, max = 6.000000e+00 : f64} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %clamp_inf = nn.clamp %x {min = 0xFFF0000000000000 : f64, max = 1.5 : f64} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %sigmoid = nn.sigmoid %x : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %tanh = nn.tanh %x : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %gelu = nn.gelu %x {approximate = "none"} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %gelu_tanh = nn.gelu %x {approximate = "tanh"} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %silu = nn.silu %x : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %hardswish = nn.hardswish %x : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %hardsigmoid = nn.hardsigmoid %x : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %exp = nn.exp %x : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %log = nn.log %x : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %sqrt = nn.sqrt %x : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %rsqrt = nn.rsqrt %x : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %reciprocal = nn.reciprocal %x : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %neg = nn.neg %x : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %abs = nn.abs %x : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %erf = nn.erf %h : (tensor<f16>) -> tensor<f16>
  %noted = nn.clamp %x {note = "relu6", min = 0.000000e+00 : f64, max = 6.000000e+00 : f64} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  func.return %relu : tensor<2x3xf32>
}

// CHECK-LABEL: func.func @unary(%x: tensor<2x3xf32>, %h: tensor<f16>) -> tensor<2x3xf32>
// CHECK-NEXT:    %relu = nn.relu %x : (tensor<2x3xf32>) -> tensor<2x3xf32>
// Float properties print in MLIR's exponent form; -inf as its f64 bit pattern.
// CHECK-NEXT:    %clamp = nn.clamp %x {min = 0.000000e+00 : f64, max = 6.000000e+00 : f64} : (tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK-NEXT:    %clamp_inf = nn.clamp %x {min = 0xfff0000000000000 : f64, max = 1.500000e+00 : f64} : (tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK-NEXT:    %sigmoid = nn.sigmoid %x : (tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK-NEXT:    %tanh = nn.tanh %x : (tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK-NEXT:    %gelu = nn.gelu %x {approximate = "none"} : (tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK-NEXT:    %gelu_tanh = nn.gelu %x {approximate = "tanh"} : (tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK-NEXT:    %silu = nn.silu %x : (tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK-NEXT:    %hardswish = nn.hardswish %x : (tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK-NEXT:    %hardsigmoid = nn.hardsigmoid %x : (tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK-NEXT:    %exp = nn.exp %x : (tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK-NEXT:    %log = nn.log %x : (tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK-NEXT:    %sqrt = nn.sqrt %x : (tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK-NEXT:    %rsqrt = nn.rsqrt %x : (tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK-NEXT:    %reciprocal = nn.reciprocal %x : (tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK-NEXT:    %neg = nn.neg %x : (tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK-NEXT:    %abs = nn.abs %x : (tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK-NEXT:    %erf = nn.erf %h : (tensor<f16>) -> tensor<f16>
// A discardable attribute shares the dictionary with the properties.
// CHECK-NEXT:    %noted = nn.clamp %x {note = "relu6", min = 0.000000e+00 : f64, max = 6.000000e+00 : f64} : (tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK-NEXT:    func.return %relu : tensor<2x3xf32>

// CHECK-GENERIC-LABEL: "func.func"() <{sym_name = "unary"
// CHECK-GENERIC:         %relu = "nn.relu"(%x) : (tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK-GENERIC-NEXT:    %clamp = "nn.clamp"(%x) <{min = 0.000000e+00 : f64, max = 6.000000e+00 : f64}> : (tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK-GENERIC-NEXT:    %clamp_inf = "nn.clamp"(%x) <{min = 0xfff0000000000000 : f64, max = 1.500000e+00 : f64}> : (tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK-GENERIC-NEXT:    %sigmoid = "nn.sigmoid"(%x) : (tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK-GENERIC-NEXT:    %tanh = "nn.tanh"(%x) : (tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK-GENERIC-NEXT:    %gelu = "nn.gelu"(%x) <{approximate = "none"}> : (tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK-GENERIC-NEXT:    %gelu_tanh = "nn.gelu"(%x) <{approximate = "tanh"}> : (tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK-GENERIC-NEXT:    %silu = "nn.silu"(%x) : (tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK-GENERIC-NEXT:    %hardswish = "nn.hardswish"(%x) : (tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK-GENERIC-NEXT:    %hardsigmoid = "nn.hardsigmoid"(%x) : (tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK-GENERIC-NEXT:    %exp = "nn.exp"(%x) : (tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK-GENERIC-NEXT:    %log = "nn.log"(%x) : (tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK-GENERIC-NEXT:    %sqrt = "nn.sqrt"(%x) : (tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK-GENERIC-NEXT:    %rsqrt = "nn.rsqrt"(%x) : (tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK-GENERIC-NEXT:    %reciprocal = "nn.reciprocal"(%x) : (tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK-GENERIC-NEXT:    %neg = "nn.neg"(%x) : (tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK-GENERIC-NEXT:    %abs = "nn.abs"(%x) : (tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK-GENERIC-NEXT:    %erf = "nn.erf"(%h) : (tensor<f16>) -> tensor<f16>
// CHECK-GENERIC-NEXT:    %noted = "nn.clamp"(%x) <{min = 0.000000e+00 : f64, max = 6.000000e+00 : f64}> {note = "relu6"} : (tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK-GENERIC-NEXT:    "func.return"(%relu) : (tensor<2x3xf32>) -> ()

// -----

// Binary element-wise ops with numpy broadcasting: 2x3 op 3 -> 2x3, 3 op 2x1 -> 2x3.

func.func @binary(%a: tensor<2x3xf32>, %b: tensor<3xf32>, %c: tensor<2x1xf32>, %i: tensor<2x3xi32>) -> tensor<2x3xf32> {
  %add = nn.add %a, %a : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  %sub = nn.sub %a, %b : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  %mul = nn.mul %b, %c : (tensor<3xf32>, tensor<2x1xf32>) -> tensor<2x3xf32>
  %div = nn.div %a, %c : (tensor<2x3xf32>, tensor<2x1xf32>) -> tensor<2x3xf32>
  %max = nn.max %a, %b : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  %min = nn.min %c, %b : (tensor<2x1xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  %pow = nn.pow %a, %a : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  %iadd = nn.add %i, %i : (tensor<2x3xi32>, tensor<2x3xi32>) -> tensor<2x3xi32>
  %noted = nn.mul %a, %a {note = "square"} : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  func.return %add : tensor<2x3xf32>
}

// CHECK-LABEL: func.func @binary
// CHECK-NEXT:    %add = nn.add %a, %a : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK-NEXT:    %sub = nn.sub %a, %b : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
// CHECK-NEXT:    %mul = nn.mul %b, %c : (tensor<3xf32>, tensor<2x1xf32>) -> tensor<2x3xf32>
// CHECK-NEXT:    %div = nn.div %a, %c : (tensor<2x3xf32>, tensor<2x1xf32>) -> tensor<2x3xf32>
// CHECK-NEXT:    %max = nn.max %a, %b : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
// CHECK-NEXT:    %min = nn.min %c, %b : (tensor<2x1xf32>, tensor<3xf32>) -> tensor<2x3xf32>
// CHECK-NEXT:    %pow = nn.pow %a, %a : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK-NEXT:    %iadd = nn.add %i, %i : (tensor<2x3xi32>, tensor<2x3xi32>) -> tensor<2x3xi32>
// CHECK-NEXT:    %noted = nn.mul %a, %a {note = "square"} : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>

// CHECK-GENERIC-LABEL: "func.func"() <{sym_name = "binary"
// CHECK-GENERIC:         %add = "nn.add"(%a, %a) : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK-GENERIC-NEXT:    %sub = "nn.sub"(%a, %b) : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
// CHECK-GENERIC-NEXT:    %mul = "nn.mul"(%b, %c) : (tensor<3xf32>, tensor<2x1xf32>) -> tensor<2x3xf32>
// CHECK-GENERIC-NEXT:    %div = "nn.div"(%a, %c) : (tensor<2x3xf32>, tensor<2x1xf32>) -> tensor<2x3xf32>
// CHECK-GENERIC-NEXT:    %max = "nn.max"(%a, %b) : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
// CHECK-GENERIC-NEXT:    %min = "nn.min"(%c, %b) : (tensor<2x1xf32>, tensor<3xf32>) -> tensor<2x3xf32>
// CHECK-GENERIC-NEXT:    %pow = "nn.pow"(%a, %a) : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK-GENERIC-NEXT:    %iadd = "nn.add"(%i, %i) : (tensor<2x3xi32>, tensor<2x3xi32>) -> tensor<2x3xi32>
// CHECK-GENERIC-NEXT:    %noted = "nn.mul"(%a, %a) {note = "square"} : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>

// -----

// Convolution and products.
// conv %y: groups 2 (weight dim 1 = 4/2), stride 2x1, padding top 1 left 0 bottom 1
// right 2, dilation 1x2: OH = (6+1+1 - 1*2 - 1)/2 + 1 = 3, OW = (6+0+2 - 2*2 - 1)/1 + 1 = 4.
// matmul: batch dims 2x1 and 5 broadcast to 2x5; 3x4 @ 4x2 -> 3x2.

func.func @linear_algebra(%x: tensor<1x4x6x6xf32>, %w: tensor<6x2x3x3xf32>, %bias: tensor<6xf32>, %w1: tensor<8x4x1x1xf32>, %p: tensor<2x1x3x4xf32>, %q: tensor<5x4x2xf32>, %v: tensor<2x3x4xf32>, %lw: tensor<5x4xf32>, %lb: tensor<5xf32>) -> tensor<1x6x3x4xf32> {
  %conv = nn.conv2d %x, %w, %bias {stride = array<i64: 2, 1>, padding = array<i64: 1, 0, 1, 2>, dilation = array<i64: 1, 2>, groups = 2 : i64} : (tensor<1x4x6x6xf32>, tensor<6x2x3x3xf32>, tensor<6xf32>) -> tensor<1x6x3x4xf32>
  %conv_nobias = nn.conv2d %x, %w1 {stride = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilation = array<i64: 1, 1>, groups = 1 : i64} : (tensor<1x4x6x6xf32>, tensor<8x4x1x1xf32>) -> tensor<1x8x6x6xf32>
  %matmul = nn.matmul %p, %q : (tensor<2x1x3x4xf32>, tensor<5x4x2xf32>) -> tensor<2x5x3x2xf32>
  %linear = nn.linear %v, %lw, %lb : (tensor<2x3x4xf32>, tensor<5x4xf32>, tensor<5xf32>) -> tensor<2x3x5xf32>
  %linear_nobias = nn.linear %v, %lw : (tensor<2x3x4xf32>, tensor<5x4xf32>) -> tensor<2x3x5xf32>
  func.return %conv : tensor<1x6x3x4xf32>
}

// CHECK-LABEL: func.func @linear_algebra
// CHECK-NEXT:    %conv = nn.conv2d %x, %w, %bias {stride = array<i64: 2, 1>, padding = array<i64: 1, 0, 1, 2>, dilation = array<i64: 1, 2>, groups = 2 : i64} : (tensor<1x4x6x6xf32>, tensor<6x2x3x3xf32>, tensor<6xf32>) -> tensor<1x6x3x4xf32>
// CHECK-NEXT:    %conv_nobias = nn.conv2d %x, %w1 {stride = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilation = array<i64: 1, 1>, groups = 1 : i64} : (tensor<1x4x6x6xf32>, tensor<8x4x1x1xf32>) -> tensor<1x8x6x6xf32>
// CHECK-NEXT:    %matmul = nn.matmul %p, %q : (tensor<2x1x3x4xf32>, tensor<5x4x2xf32>) -> tensor<2x5x3x2xf32>
// CHECK-NEXT:    %linear = nn.linear %v, %lw, %lb : (tensor<2x3x4xf32>, tensor<5x4xf32>, tensor<5xf32>) -> tensor<2x3x5xf32>
// CHECK-NEXT:    %linear_nobias = nn.linear %v, %lw : (tensor<2x3x4xf32>, tensor<5x4xf32>) -> tensor<2x3x5xf32>

// CHECK-GENERIC-LABEL: "func.func"() <{sym_name = "linear_algebra"
// CHECK-GENERIC:         %conv = "nn.conv2d"(%x, %w, %bias) <{stride = array<i64: 2, 1>, padding = array<i64: 1, 0, 1, 2>, dilation = array<i64: 1, 2>, groups = 2 : i64}> : (tensor<1x4x6x6xf32>, tensor<6x2x3x3xf32>, tensor<6xf32>) -> tensor<1x6x3x4xf32>
// CHECK-GENERIC-NEXT:    %conv_nobias = "nn.conv2d"(%x, %w1) <{stride = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilation = array<i64: 1, 1>, groups = 1 : i64}> : (tensor<1x4x6x6xf32>, tensor<8x4x1x1xf32>) -> tensor<1x8x6x6xf32>
// CHECK-GENERIC-NEXT:    %matmul = "nn.matmul"(%p, %q) : (tensor<2x1x3x4xf32>, tensor<5x4x2xf32>) -> tensor<2x5x3x2xf32>
// CHECK-GENERIC-NEXT:    %linear = "nn.linear"(%v, %lw, %lb) : (tensor<2x3x4xf32>, tensor<5x4xf32>, tensor<5xf32>) -> tensor<2x3x5xf32>
// CHECK-GENERIC-NEXT:    %linear_nobias = "nn.linear"(%v, %lw) : (tensor<2x3x4xf32>, tensor<5x4xf32>) -> tensor<2x3x5xf32>

// -----

// Normalisations and softmax keep the input's type. 1.0e-3 prints as 1.000000e-03.

func.func @normalization(%x: tensor<1x4x6x6xf32>, %s: tensor<4xf32>, %b: tensor<4xf32>, %m: tensor<4xf32>, %var: tensor<4xf32>, %v: tensor<2x3x4xf32>, %lw: tensor<3x4xf32>, %lb: tensor<3x4xf32>) -> tensor<1x4x6x6xf32> {
  %bn = nn.batch_norm %x, %s, %b, %m, %var {epsilon = 1.0e-3 : f64} : (tensor<1x4x6x6xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<1x4x6x6xf32>
  %ln = nn.layer_norm %v, %lw, %lb {epsilon = 1.000000e-05 : f64} : (tensor<2x3x4xf32>, tensor<3x4xf32>, tensor<3x4xf32>) -> tensor<2x3x4xf32>
  %softmax = nn.softmax %v {axis = -1 : i64} : (tensor<2x3x4xf32>) -> tensor<2x3x4xf32>
  func.return %bn : tensor<1x4x6x6xf32>
}

// CHECK-LABEL: func.func @normalization
// CHECK-NEXT:    %bn = nn.batch_norm %x, %s, %b, %m, %var {epsilon = 1.000000e-03 : f64} : (tensor<1x4x6x6xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<1x4x6x6xf32>
// CHECK-NEXT:    %ln = nn.layer_norm %v, %lw, %lb {epsilon = 1.000000e-05 : f64} : (tensor<2x3x4xf32>, tensor<3x4xf32>, tensor<3x4xf32>) -> tensor<2x3x4xf32>
// CHECK-NEXT:    %softmax = nn.softmax %v {axis = -1 : i64} : (tensor<2x3x4xf32>) -> tensor<2x3x4xf32>

// CHECK-GENERIC-LABEL: "func.func"() <{sym_name = "normalization"
// CHECK-GENERIC:         %bn = "nn.batch_norm"(%x, %s, %b, %m, %var) <{epsilon = 1.000000e-03 : f64}> : (tensor<1x4x6x6xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<1x4x6x6xf32>
// CHECK-GENERIC-NEXT:    %ln = "nn.layer_norm"(%v, %lw, %lb) <{epsilon = 1.000000e-05 : f64}> : (tensor<2x3x4xf32>, tensor<3x4xf32>, tensor<3x4xf32>) -> tensor<2x3x4xf32>
// CHECK-GENERIC-NEXT:    %softmax = "nn.softmax"(%v) <{axis = -1 : i64}> : (tensor<2x3x4xf32>) -> tensor<2x3x4xf32>

// -----

// Pooling and reductions on a 1x4x6x6 input.
// %max: 3x3 window, stride 2, padding 1: (6+2-2-1)/2 + 1 = 3.
// %max_dilated: 2x2 window dilated 2, stride 1, ceil: ceil((6-2-1)/1) + 1 = 4.
// %avg_ceil: 3x3 window, stride 2, padding 1, ceil: ceil(5/2) + 1 = 4 (the last window
// starts at 6 < 6 + 1, inside the input and left padding, so it is kept).

func.func @pooling(%x: tensor<1x4x6x6xf32>) -> tensor<1x4x3x3xf32> {
  %max = nn.max_pool2d %x {kernel = array<i64: 3, 3>, stride = array<i64: 2, 2>, padding = array<i64: 1, 1, 1, 1>, dilation = array<i64: 1, 1>, ceil_mode = false} : (tensor<1x4x6x6xf32>) -> tensor<1x4x3x3xf32>
  %max_dilated = nn.max_pool2d %x {kernel = array<i64: 2, 2>, stride = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilation = array<i64: 2, 2>, ceil_mode = true} : (tensor<1x4x6x6xf32>) -> tensor<1x4x4x4xf32>
  %avg = nn.avg_pool2d %x {kernel = array<i64: 2, 2>, stride = array<i64: 2, 2>, padding = array<i64: 0, 0, 0, 0>, ceil_mode = false, count_include_pad = true} : (tensor<1x4x6x6xf32>) -> tensor<1x4x3x3xf32>
  %avg_ceil = nn.avg_pool2d %x {kernel = array<i64: 3, 3>, stride = array<i64: 2, 2>, padding = array<i64: 1, 1, 1, 1>, ceil_mode = true, count_include_pad = false} : (tensor<1x4x6x6xf32>) -> tensor<1x4x4x4xf32>
  %adaptive = nn.adaptive_avg_pool2d %x {output_size = array<i64: 3, 2>} : (tensor<1x4x6x6xf32>) -> tensor<1x4x3x2xf32>
  %sum = nn.reduce_sum %x {axes = array<i64: -1, 1>, keepdim = true} : (tensor<1x4x6x6xf32>) -> tensor<1x1x6x1xf32>
  %mean = nn.reduce_mean %x {axes = array<i64: 2, 3>, keepdim = false} : (tensor<1x4x6x6xf32>) -> tensor<1x4xf32>
  %rmax = nn.reduce_max %x {axes = array<i64: 0>, keepdim = false} : (tensor<1x4x6x6xf32>) -> tensor<4x6x6xf32>
  func.return %max : tensor<1x4x3x3xf32>
}

// CHECK-LABEL: func.func @pooling
// CHECK-NEXT:    %max = nn.max_pool2d %x {kernel = array<i64: 3, 3>, stride = array<i64: 2, 2>, padding = array<i64: 1, 1, 1, 1>, dilation = array<i64: 1, 1>, ceil_mode = false} : (tensor<1x4x6x6xf32>) -> tensor<1x4x3x3xf32>
// CHECK-NEXT:    %max_dilated = nn.max_pool2d %x {kernel = array<i64: 2, 2>, stride = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilation = array<i64: 2, 2>, ceil_mode = true} : (tensor<1x4x6x6xf32>) -> tensor<1x4x4x4xf32>
// CHECK-NEXT:    %avg = nn.avg_pool2d %x {kernel = array<i64: 2, 2>, stride = array<i64: 2, 2>, padding = array<i64: 0, 0, 0, 0>, ceil_mode = false, count_include_pad = true} : (tensor<1x4x6x6xf32>) -> tensor<1x4x3x3xf32>
// CHECK-NEXT:    %avg_ceil = nn.avg_pool2d %x {kernel = array<i64: 3, 3>, stride = array<i64: 2, 2>, padding = array<i64: 1, 1, 1, 1>, ceil_mode = true, count_include_pad = false} : (tensor<1x4x6x6xf32>) -> tensor<1x4x4x4xf32>
// CHECK-NEXT:    %adaptive = nn.adaptive_avg_pool2d %x {output_size = array<i64: 3, 2>} : (tensor<1x4x6x6xf32>) -> tensor<1x4x3x2xf32>
// CHECK-NEXT:    %sum = nn.reduce_sum %x {axes = array<i64: -1, 1>, keepdim = true} : (tensor<1x4x6x6xf32>) -> tensor<1x1x6x1xf32>
// CHECK-NEXT:    %mean = nn.reduce_mean %x {axes = array<i64: 2, 3>, keepdim = false} : (tensor<1x4x6x6xf32>) -> tensor<1x4xf32>
// CHECK-NEXT:    %rmax = nn.reduce_max %x {axes = array<i64: 0>, keepdim = false} : (tensor<1x4x6x6xf32>) -> tensor<4x6x6xf32>

// CHECK-GENERIC-LABEL: "func.func"() <{sym_name = "pooling"
// CHECK-GENERIC:         %max = "nn.max_pool2d"(%x) <{kernel = array<i64: 3, 3>, stride = array<i64: 2, 2>, padding = array<i64: 1, 1, 1, 1>, dilation = array<i64: 1, 1>, ceil_mode = false}> : (tensor<1x4x6x6xf32>) -> tensor<1x4x3x3xf32>
// CHECK-GENERIC-NEXT:    %max_dilated = "nn.max_pool2d"(%x) <{kernel = array<i64: 2, 2>, stride = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilation = array<i64: 2, 2>, ceil_mode = true}> : (tensor<1x4x6x6xf32>) -> tensor<1x4x4x4xf32>
// CHECK-GENERIC-NEXT:    %avg = "nn.avg_pool2d"(%x) <{kernel = array<i64: 2, 2>, stride = array<i64: 2, 2>, padding = array<i64: 0, 0, 0, 0>, ceil_mode = false, count_include_pad = true}> : (tensor<1x4x6x6xf32>) -> tensor<1x4x3x3xf32>
// CHECK-GENERIC-NEXT:    %avg_ceil = "nn.avg_pool2d"(%x) <{kernel = array<i64: 3, 3>, stride = array<i64: 2, 2>, padding = array<i64: 1, 1, 1, 1>, ceil_mode = true, count_include_pad = false}> : (tensor<1x4x6x6xf32>) -> tensor<1x4x4x4xf32>
// CHECK-GENERIC-NEXT:    %adaptive = "nn.adaptive_avg_pool2d"(%x) <{output_size = array<i64: 3, 2>}> : (tensor<1x4x6x6xf32>) -> tensor<1x4x3x2xf32>
// CHECK-GENERIC-NEXT:    %sum = "nn.reduce_sum"(%x) <{axes = array<i64: -1, 1>, keepdim = true}> : (tensor<1x4x6x6xf32>) -> tensor<1x1x6x1xf32>
// CHECK-GENERIC-NEXT:    %mean = "nn.reduce_mean"(%x) <{axes = array<i64: 2, 3>, keepdim = false}> : (tensor<1x4x6x6xf32>) -> tensor<1x4xf32>
// CHECK-GENERIC-NEXT:    %rmax = "nn.reduce_max"(%x) <{axes = array<i64: 0>, keepdim = false}> : (tensor<1x4x6x6xf32>) -> tensor<4x6x6xf32>

// -----

// Data movement. %slice: [0:2:1, 1:3:1, 0:4:2] of 2x3x4 is 2x2x2. %pad: 2x3x4 with
// low 0,1,0 and high 1,0,2 is 3x4x6. %gather: rows of a 10x4 table picked by 2x3 indices.

func.func @data_movement(%v: tensor<2x3x4xf32>, %v1: tensor<2x1x4xf32>, %e: tensor<3x1xf32>, %table: tensor<10x4xf32>, %idx: tensor<2x3xi64>, %col: tensor<5xi32>, %img: tensor<1x4x6x6xf32>) -> tensor<6x4xf32> {
  %reshape = nn.reshape %v : (tensor<2x3x4xf32>) -> tensor<6x4xf32>
  %expand = nn.expand %e : (tensor<3x1xf32>) -> tensor<2x3x5xf32>
  %transpose = nn.transpose %v {permutation = array<i64: 2, 0, 1>} : (tensor<2x3x4xf32>) -> tensor<4x2x3xf32>
  %concat = nn.concat %v, %v1 {axis = 1 : i64} : (tensor<2x3x4xf32>, tensor<2x1x4xf32>) -> tensor<2x4x4xf32>
  %concat_neg = nn.concat %v1, %v, %v1 {axis = -2 : i64} : (tensor<2x1x4xf32>, tensor<2x3x4xf32>, tensor<2x1x4xf32>) -> tensor<2x5x4xf32>
  %slice = nn.slice %v {start = array<i64: 0, 1, 0>, end = array<i64: 2, 3, 4>, step = array<i64: 1, 1, 2>} : (tensor<2x3x4xf32>) -> tensor<2x2x2xf32>
  %pad = nn.pad %v {low = array<i64: 0, 1, 0>, high = array<i64: 1, 0, 2>, value = -1.000000e+00 : f64} : (tensor<2x3x4xf32>) -> tensor<3x4x6xf32>
  %gather = nn.gather %table, %idx {axis = 0 : i64} : (tensor<10x4xf32>, tensor<2x3xi64>) -> tensor<2x3x4xf32>
  %gather_cols = nn.gather %table, %col {axis = -1 : i64} : (tensor<10x4xf32>, tensor<5xi32>) -> tensor<10x5xf32>
  %upsample = nn.upsample_nearest %img : (tensor<1x4x6x6xf32>) -> tensor<1x4x12x9xf32>
  func.return %reshape : tensor<6x4xf32>
}

// CHECK-LABEL: func.func @data_movement
// CHECK-NEXT:    %reshape = nn.reshape %v : (tensor<2x3x4xf32>) -> tensor<6x4xf32>
// CHECK-NEXT:    %expand = nn.expand %e : (tensor<3x1xf32>) -> tensor<2x3x5xf32>
// CHECK-NEXT:    %transpose = nn.transpose %v {permutation = array<i64: 2, 0, 1>} : (tensor<2x3x4xf32>) -> tensor<4x2x3xf32>
// CHECK-NEXT:    %concat = nn.concat %v, %v1 {axis = 1 : i64} : (tensor<2x3x4xf32>, tensor<2x1x4xf32>) -> tensor<2x4x4xf32>
// CHECK-NEXT:    %concat_neg = nn.concat %v1, %v, %v1 {axis = -2 : i64} : (tensor<2x1x4xf32>, tensor<2x3x4xf32>, tensor<2x1x4xf32>) -> tensor<2x5x4xf32>
// CHECK-NEXT:    %slice = nn.slice %v {start = array<i64: 0, 1, 0>, end = array<i64: 2, 3, 4>, step = array<i64: 1, 1, 2>} : (tensor<2x3x4xf32>) -> tensor<2x2x2xf32>
// CHECK-NEXT:    %pad = nn.pad %v {low = array<i64: 0, 1, 0>, high = array<i64: 1, 0, 2>, value = -1.000000e+00 : f64} : (tensor<2x3x4xf32>) -> tensor<3x4x6xf32>
// CHECK-NEXT:    %gather = nn.gather %table, %idx {axis = 0 : i64} : (tensor<10x4xf32>, tensor<2x3xi64>) -> tensor<2x3x4xf32>
// CHECK-NEXT:    %gather_cols = nn.gather %table, %col {axis = -1 : i64} : (tensor<10x4xf32>, tensor<5xi32>) -> tensor<10x5xf32>
// CHECK-NEXT:    %upsample = nn.upsample_nearest %img : (tensor<1x4x6x6xf32>) -> tensor<1x4x12x9xf32>

// CHECK-GENERIC-LABEL: "func.func"() <{sym_name = "data_movement"
// CHECK-GENERIC:         %reshape = "nn.reshape"(%v) : (tensor<2x3x4xf32>) -> tensor<6x4xf32>
// CHECK-GENERIC-NEXT:    %expand = "nn.expand"(%e) : (tensor<3x1xf32>) -> tensor<2x3x5xf32>
// CHECK-GENERIC-NEXT:    %transpose = "nn.transpose"(%v) <{permutation = array<i64: 2, 0, 1>}> : (tensor<2x3x4xf32>) -> tensor<4x2x3xf32>
// CHECK-GENERIC-NEXT:    %concat = "nn.concat"(%v, %v1) <{axis = 1 : i64}> : (tensor<2x3x4xf32>, tensor<2x1x4xf32>) -> tensor<2x4x4xf32>
// CHECK-GENERIC-NEXT:    %concat_neg = "nn.concat"(%v1, %v, %v1) <{axis = -2 : i64}> : (tensor<2x1x4xf32>, tensor<2x3x4xf32>, tensor<2x1x4xf32>) -> tensor<2x5x4xf32>
// CHECK-GENERIC-NEXT:    %slice = "nn.slice"(%v) <{start = array<i64: 0, 1, 0>, end = array<i64: 2, 3, 4>, step = array<i64: 1, 1, 2>}> : (tensor<2x3x4xf32>) -> tensor<2x2x2xf32>
// CHECK-GENERIC-NEXT:    %pad = "nn.pad"(%v) <{low = array<i64: 0, 1, 0>, high = array<i64: 1, 0, 2>, value = -1.000000e+00 : f64}> : (tensor<2x3x4xf32>) -> tensor<3x4x6xf32>
// CHECK-GENERIC-NEXT:    %gather = "nn.gather"(%table, %idx) <{axis = 0 : i64}> : (tensor<10x4xf32>, tensor<2x3xi64>) -> tensor<2x3x4xf32>
// CHECK-GENERIC-NEXT:    %gather_cols = "nn.gather"(%table, %col) <{axis = -1 : i64}> : (tensor<10x4xf32>, tensor<5xi32>) -> tensor<10x5xf32>
// CHECK-GENERIC-NEXT:    %upsample = "nn.upsample_nearest"(%img) : (tensor<1x4x6x6xf32>) -> tensor<1x4x12x9xf32>

// -----

// Constants: inline dense<...> (splat and list; f32, f16, i64, i1) and dense_resource
// with its blob in the trailer: 4-byte alignment header 04000000, then 1.0, 2.0, -0.5,
// 0.25, 8.0, 0.0 as little-endian f32.

func.func @constants() -> tensor<2x3xf32> {
  %splat = nn.constant dense<0.125> : tensor<4x4x3x3xf32>
  %list = nn.constant dense<[1.0, 0.5, -2.0]> : tensor<3xf32>
  %half = nn.constant dense<1.5> : tensor<2xf16>
  %idx = nn.constant dense<[[0, 2], [1, -1]]> : tensor<2x2xi64>
  %mask = nn.constant dense<[true, false]> : tensor<2xi1>
  %scalar = nn.constant dense<3.0> : tensor<f32>
  %blob = nn.constant dense_resource<weight> : tensor<2x3xf32>
  %tagged = nn.constant {origin = "bn1.running_var"} dense<1.0> : tensor<4xf32>
  func.return %blob : tensor<2x3xf32>
}

{-#
  dialect_resources: {
    builtin: {
      weight: "0x040000000000803F00000040000000BF0000803E0000004100000000"
    }
  }
#-}

// CHECK-LABEL: func.func @constants() -> tensor<2x3xf32>
// CHECK-NEXT:    %splat = nn.constant dense<1.250000e-01> : tensor<4x4x3x3xf32>
// CHECK-NEXT:    %list = nn.constant dense<[1.000000e+00, 5.000000e-01, -2.000000e+00]> : tensor<3xf32>
// CHECK-NEXT:    %half = nn.constant dense<1.500000e+00> : tensor<2xf16>
// CHECK-NEXT:    %idx = nn.constant dense<{{\[\[}}0, 2], [1, -1]]> : tensor<2x2xi64>
// CHECK-NEXT:    %mask = nn.constant dense<[true, false]> : tensor<2xi1>
// CHECK-NEXT:    %scalar = nn.constant dense<3.000000e+00> : tensor<f32>
// CHECK-NEXT:    %blob = nn.constant dense_resource<weight> : tensor<2x3xf32>
// Discardable attributes come before the value, as in arith.constant.
// CHECK-NEXT:    %tagged = nn.constant {origin = "bn1.running_var"} dense<1.000000e+00> : tensor<4xf32>
// CHECK-NEXT:    func.return %blob : tensor<2x3xf32>
// CHECK-NEXT:  }
// CHECK-NEXT: }
// CHECK-EMPTY:
// CHECK-NEXT: {-#
// CHECK-NEXT:   dialect_resources: {
// CHECK-NEXT:     builtin: {
// CHECK-NEXT:       weight: "0x040000000000803F00000040000000BF0000803E0000004100000000"
// CHECK-NEXT:     }
// CHECK-NEXT:   }
// CHECK-NEXT: #-}

// CHECK-GENERIC-LABEL: "func.func"() <{sym_name = "constants"
// CHECK-GENERIC:         %splat = "nn.constant"() <{value = dense<1.250000e-01> : tensor<4x4x3x3xf32>}> : () -> tensor<4x4x3x3xf32>
// CHECK-GENERIC-NEXT:    %list = "nn.constant"() <{value = dense<[1.000000e+00, 5.000000e-01, -2.000000e+00]> : tensor<3xf32>}> : () -> tensor<3xf32>
// CHECK-GENERIC-NEXT:    %half = "nn.constant"() <{value = dense<1.500000e+00> : tensor<2xf16>}> : () -> tensor<2xf16>
// CHECK-GENERIC-NEXT:    %idx = "nn.constant"() <{value = dense<{{\[\[}}0, 2], [1, -1]]> : tensor<2x2xi64>}> : () -> tensor<2x2xi64>
// CHECK-GENERIC-NEXT:    %mask = "nn.constant"() <{value = dense<[true, false]> : tensor<2xi1>}> : () -> tensor<2xi1>
// CHECK-GENERIC-NEXT:    %scalar = "nn.constant"() <{value = dense<3.000000e+00> : tensor<f32>}> : () -> tensor<f32>
// CHECK-GENERIC-NEXT:    %blob = "nn.constant"() <{value = dense_resource<weight> : tensor<2x3xf32>}> : () -> tensor<2x3xf32>
// CHECK-GENERIC-NEXT:    %tagged = "nn.constant"() <{value = dense<1.000000e+00> : tensor<4xf32>}> {origin = "bn1.running_var"} : () -> tensor<4xf32>
// The generic form keeps the weights too.
// CHECK-GENERIC:       weight: "0x040000000000803F00000040000000BF0000803E0000004100000000"

// -----

// A fusion group: block arguments are the inputs in order, nn.yield returns the outputs
// in order; `mapping` is written after the `attributes` keyword.

func.func @fused(%x: tensor<2x3xf32>, %b: tensor<3xf32>) -> (tensor<2x3xf32>, tensor<2x3xf32>) {
  %y, %z = nn.fused %x, %b attributes {mapping = "one-to-many"} {
  ^bb0(%xa: tensor<2x3xf32>, %ba: tensor<3xf32>):
    %s = nn.add %xa, %ba : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
    %r = nn.relu %s : (tensor<2x3xf32>) -> tensor<2x3xf32>
    nn.yield %s, %r : tensor<2x3xf32>, tensor<2x3xf32>
  } : (tensor<2x3xf32>, tensor<3xf32>) -> (tensor<2x3xf32>, tensor<2x3xf32>)
  func.return %y, %z : tensor<2x3xf32>, tensor<2x3xf32>
}

// CHECK-LABEL: func.func @fused
// CHECK-NEXT:    %y, %z = nn.fused %x, %b attributes {mapping = "one-to-many"} {
// CHECK-NEXT:    ^bb0(%xa: tensor<2x3xf32>, %ba: tensor<3xf32>):
// CHECK-NEXT:      %s = nn.add %xa, %ba : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
// CHECK-NEXT:      %r = nn.relu %s : (tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK-NEXT:      nn.yield %s, %r : tensor<2x3xf32>, tensor<2x3xf32>
// CHECK-NEXT:    } : (tensor<2x3xf32>, tensor<3xf32>) -> (tensor<2x3xf32>, tensor<2x3xf32>)
// CHECK-NEXT:    func.return %y, %z : tensor<2x3xf32>, tensor<2x3xf32>

// CHECK-GENERIC-LABEL: "func.func"() <{sym_name = "fused"
// CHECK-GENERIC:         %y, %z = "nn.fused"(%x, %b) <{mapping = "one-to-many"}> ({
// CHECK-GENERIC-NEXT:    ^bb{{[0-9]+}}(%xa: tensor<2x3xf32>, %ba: tensor<3xf32>):
// CHECK-GENERIC-NEXT:      %s = "nn.add"(%xa, %ba) : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
// CHECK-GENERIC-NEXT:      %r = "nn.relu"(%s) : (tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK-GENERIC-NEXT:      "nn.yield"(%s, %r) : (tensor<2x3xf32>, tensor<2x3xf32>) -> ()
// CHECK-GENERIC-NEXT:    }) : (tensor<2x3xf32>, tensor<3xf32>) -> (tensor<2x3xf32>, tensor<2x3xf32>)
