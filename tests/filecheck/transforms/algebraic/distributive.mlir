// `algebraic`, distributive rules: a common operand factored out of a sum or difference
// (DNNFusion Table 4 rows 5-7, and the same law for div, matmul, conv/linear weights and
// reduce_sum). Rounding-changing: only with reassociate=true.
// RUN: sparsec-opt %s -p 'algebraic{reassociate=true}' --split-input-file | filecheck %s
// RUN: sparsec-opt %s -p algebraic --split-input-file | filecheck %s --check-prefix=EXACT

// Row 5 / Figure 2(b): GEMM(A,B)⊙C + GEMM(A,B)⊙D -> GEMM(A,B)⊙(C+D). The two GEMMs
// are equal ops, so one of them goes too.
func.func @gemm_times_c_plus_gemm_times_d(%a: tensor<2x3xf32>, %b: tensor<3x4xf32>, %c: tensor<2x4xf32>, %d: tensor<2x4xf32>) -> tensor<2x4xf32> {
  %g1 = nn.matmul %a, %b : (tensor<2x3xf32>, tensor<3x4xf32>) -> tensor<2x4xf32>
  %g2 = nn.matmul %a, %b : (tensor<2x3xf32>, tensor<3x4xf32>) -> tensor<2x4xf32>
  %x = nn.mul %g1, %c : (tensor<2x4xf32>, tensor<2x4xf32>) -> tensor<2x4xf32>
  %y = nn.mul %d, %g2 : (tensor<2x4xf32>, tensor<2x4xf32>) -> tensor<2x4xf32>
  %z = nn.add %x, %y : (tensor<2x4xf32>, tensor<2x4xf32>) -> tensor<2x4xf32>
  func.return %z : tensor<2x4xf32>
}
// CHECK-LABEL: func.func @gemm_times_c_plus_gemm_times_d
// CHECK-NEXT:    %g1 = nn.matmul %a, %b
// CHECK-NEXT:    %z = nn.add %c, %d
// CHECK-NEXT:    %z_1 = nn.mul %g1, %z
// CHECK-NEXT:    func.return %z_1
// EXACT-LABEL: func.func @gemm_times_c_plus_gemm_times_d
// EXACT:         %z = nn.add %x, %y

// -----

// Row 6: A + A⊙B -> A⊙(B+1). FLOPs unchanged; A is read once.
func.func @a_plus_a_times_b(%a: tensor<2x3xf32>, %b: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %ab = nn.mul %b, %a : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  %y = nn.add %ab, %a : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  func.return %y : tensor<2x3xf32>
}
// CHECK-LABEL: func.func @a_plus_a_times_b
// CHECK-NEXT:    %one = nn.constant dense<1.000000e+00> : tensor<f32>
// CHECK-NEXT:    %y = nn.add %b, %one
// CHECK-NEXT:    %y_1 = nn.mul %a, %y
// CHECK-NEXT:    func.return %y_1

// -----

// Row 7: Square(A+B) - (A+B)⊙C -> (A+B)⊙(A+B-C), 5mn -> 3mn.
func.func @square_minus_product(%a: tensor<4xf32>, %b: tensor<4xf32>, %c: tensor<4xf32>) -> tensor<4xf32> {
  %s1 = nn.add %a, %b : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  %sq = nn.mul %s1, %s1 : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  %s2 = nn.add %a, %b : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  %sc = nn.mul %s2, %c : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  %y = nn.sub %sq, %sc : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  func.return %y : tensor<4xf32>
}
// CHECK-LABEL: func.func @square_minus_product
// CHECK-NEXT:    %s1 = nn.add %a, %b
// CHECK-NEXT:    %y = nn.sub %s1, %c
// CHECK-NEXT:    %y_1 = nn.mul %s1, %y
// CHECK-NEXT:    func.return %y_1

// -----

// Left alone: no common factor.
func.func @no_common_factor(%a: tensor<4xf32>, %b: tensor<4xf32>, %c: tensor<4xf32>, %d: tensor<4xf32>) -> tensor<4xf32> {
  %x = nn.mul %a, %b : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  %y = nn.mul %c, %d : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  %z = nn.add %x, %y : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  func.return %z : tensor<4xf32>
}
// CHECK-LABEL: func.func @no_common_factor
// CHECK-NEXT:    %x = nn.mul %a, %b
// CHECK-NEXT:    %y = nn.mul %c, %d
// CHECK-NEXT:    %z = nn.add %x, %y

// -----

// Left alone: a*b is also returned, so factoring would not save a multiply.
func.func @product_with_another_user(%a: tensor<4xf32>, %b: tensor<4xf32>, %c: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>) {
  %x = nn.mul %a, %b : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  %y = nn.mul %a, %c : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  %z = nn.add %x, %y : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  func.return %z, %x : tensor<4xf32>, tensor<4xf32>
}
// CHECK-LABEL: func.func @product_with_another_user
// CHECK-NEXT:    %x = nn.mul %a, %b
// CHECK-NEXT:    %y = nn.mul %a, %c
// CHECK-NEXT:    %z = nn.add %x, %y

// -----

func.func @common_divisor(%a: tensor<4xf32>, %b: tensor<4xf32>, %c: tensor<4xf32>) -> tensor<4xf32> {
  %x = nn.div %a, %c : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  %y = nn.div %b, %c : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  %z = nn.sub %x, %y : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  func.return %z : tensor<4xf32>
}
// CHECK-LABEL: func.func @common_divisor
// CHECK-NEXT:    %z = nn.sub %a, %b
// CHECK-NEXT:    %z_1 = nn.div %z, %c
// CHECK-NEXT:    func.return %z_1

// -----

// A@B + C@B -> (A+C)@B: one matmul instead of two.
func.func @common_right_matmul_operand(%a: tensor<2x3xf32>, %c: tensor<2x3xf32>, %b: tensor<3x4xf32>) -> tensor<2x4xf32> {
  %x = nn.matmul %a, %b : (tensor<2x3xf32>, tensor<3x4xf32>) -> tensor<2x4xf32>
  %y = nn.matmul %c, %b : (tensor<2x3xf32>, tensor<3x4xf32>) -> tensor<2x4xf32>
  %z = nn.add %x, %y : (tensor<2x4xf32>, tensor<2x4xf32>) -> tensor<2x4xf32>
  func.return %z : tensor<2x4xf32>
}
// CHECK-LABEL: func.func @common_right_matmul_operand
// CHECK-NEXT:    %z = nn.add %a, %c : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK-NEXT:    %z_1 = nn.matmul %z, %b
// CHECK-NEXT:    func.return %z_1

// -----

// Two convs of one input: conv(x, w1, b1) + conv(x, w2) -> conv(x, w1 + w2, b1), and the
// constant sum of the weights folds.
func.func @convs_of_one_input(%x: tensor<1x1x3x3xf32>) -> tensor<1x2x3x3xf32> {
  %w1 = nn.constant dense<[[[[1.0]]], [[[2.0]]]]> : tensor<2x1x1x1xf32>
  %w2 = nn.constant dense<[[[[0.5]]], [[[-1.0]]]]> : tensor<2x1x1x1xf32>
  %b1 = nn.constant dense<[1.0, 2.0]> : tensor<2xf32>
  %c1 = nn.conv2d %x, %w1, %b1 {stride = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilation = array<i64: 1, 1>, groups = 1 : i64} : (tensor<1x1x3x3xf32>, tensor<2x1x1x1xf32>, tensor<2xf32>) -> tensor<1x2x3x3xf32>
  %c2 = nn.conv2d %x, %w2 {stride = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilation = array<i64: 1, 1>, groups = 1 : i64} : (tensor<1x1x3x3xf32>, tensor<2x1x1x1xf32>) -> tensor<1x2x3x3xf32>
  %y = nn.add %c1, %c2 : (tensor<1x2x3x3xf32>, tensor<1x2x3x3xf32>) -> tensor<1x2x3x3xf32>
  func.return %y : tensor<1x2x3x3xf32>
}
// CHECK-LABEL: func.func @convs_of_one_input
// CHECK-NEXT:    %b1 = nn.constant dense<[1.000000e+00, 2.000000e+00]> : tensor<2xf32>
// CHECK-NEXT:    %y = nn.constant dense<{{\[\[\[\[}}1.500000e+00]]], {{\[\[\[}}1.000000e+00]]]]> : tensor<2x1x1x1xf32>
// CHECK-NEXT:    %y_1 = nn.conv2d %x, %y, %b1
// CHECK-NEXT:    func.return %y_1

// -----

func.func @reduce_sums(%a: tensor<2x3xf32>, %b: tensor<2x3xf32>) -> tensor<2xf32> {
  %x = nn.reduce_sum %a {axes = array<i64: 1>, keepdim = false} : (tensor<2x3xf32>) -> tensor<2xf32>
  %y = nn.reduce_sum %b {axes = array<i64: 1>, keepdim = false} : (tensor<2x3xf32>) -> tensor<2xf32>
  %z = nn.add %x, %y : (tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32>
  func.return %z : tensor<2xf32>
}
// CHECK-LABEL: func.func @reduce_sums
// CHECK-NEXT:    %z = nn.add %a, %b : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK-NEXT:    %z_1 = nn.reduce_sum %z {axes = array<i64: 1>, keepdim = false}
// CHECK-NEXT:    func.return %z_1
