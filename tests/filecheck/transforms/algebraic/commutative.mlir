// `algebraic`, commutative rules: two operators trade places so that the element-wise
// one runs on the smaller, reduced tensor. relu and clamp commute with max exactly;
// exp, sigmoid and tanh only up to an ulp (libm is not exactly monotone), and pulling a
// scale out of a sum rounds differently: those need reassociate=true.
// RUN: sparsec-opt %s -p algebraic --split-input-file | filecheck %s --check-prefixes=CHECK,EXACT
// RUN: sparsec-opt %s -p 'algebraic{reassociate=true}' --split-input-file | filecheck %s --check-prefixes=CHECK,REASSOC

// A⊙B -> B⊙A saves nothing, so on its own it is never a rewrite.
func.func @plain_product(%a: tensor<4xf32>, %b: tensor<4xf32>) -> tensor<4xf32> {
  %y = nn.mul %b, %a : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  func.return %y : tensor<4xf32>
}
// CHECK-LABEL: func.func @plain_product
// CHECK-NEXT:    %y = nn.mul %b, %a

// -----

// relu on 2 elements instead of 6.
func.func @relu_out_of_reduce_max(%x: tensor<2x3xf32>) -> tensor<2xf32> {
  %r = nn.relu %x : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %y = nn.reduce_max %r {axes = array<i64: 1>, keepdim = false} : (tensor<2x3xf32>) -> tensor<2xf32>
  func.return %y : tensor<2xf32>
}
// CHECK-LABEL: func.func @relu_out_of_reduce_max
// CHECK-NEXT:    %y = nn.reduce_max %x {axes = array<i64: 1>, keepdim = false} : (tensor<2x3xf32>) -> tensor<2xf32>
// CHECK-NEXT:    %y_1 = nn.relu %y : (tensor<2xf32>) -> tensor<2xf32>
// CHECK-NEXT:    func.return %y_1

// -----

// The counterpart of Table 4's ReduceProd(Exp(A)) -> Exp(ReduceSum(A)).
func.func @exp_out_of_reduce_max(%x: tensor<2x3xf32>) -> tensor<2x1xf32> {
  %e = nn.exp %x : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %y = nn.reduce_max %e {axes = array<i64: 1>, keepdim = true} : (tensor<2x3xf32>) -> tensor<2x1xf32>
  func.return %y : tensor<2x1xf32>
}
// CHECK-LABEL:   func.func @exp_out_of_reduce_max
// EXACT-NEXT:      %e = nn.exp %x
// EXACT-NEXT:      %y = nn.reduce_max %e
// REASSOC-NEXT:    %y = nn.reduce_max %x {axes = array<i64: 1>, keepdim = true}
// REASSOC-NEXT:    %y_1 = nn.exp %y : (tensor<2x1xf32>) -> tensor<2x1xf32>

// -----

// conv-relu-maxpool: the clamp (relu6) runs on the pooled 2x2 instead of 4x4.
func.func @clamp_out_of_max_pool(%x: tensor<1x1x4x4xf32>) -> tensor<1x1x2x2xf32> {
  %r = nn.clamp %x {min = 0.0 : f64, max = 6.0 : f64} : (tensor<1x1x4x4xf32>) -> tensor<1x1x4x4xf32>
  %y = nn.max_pool2d %r {kernel = array<i64: 2, 2>, stride = array<i64: 2, 2>, padding = array<i64: 0, 0, 0, 0>, dilation = array<i64: 1, 1>, ceil_mode = false} : (tensor<1x1x4x4xf32>) -> tensor<1x1x2x2xf32>
  func.return %y : tensor<1x1x2x2xf32>
}
// CHECK-LABEL: func.func @clamp_out_of_max_pool
// CHECK-NEXT:    %y = nn.max_pool2d %x {kernel = array<i64: 2, 2>, stride = array<i64: 2, 2>
// CHECK-NEXT:    %y_1 = nn.clamp %y {min = 0.000000e+00 : f64, max = 6.000000e+00 : f64} : (tensor<1x1x2x2xf32>) -> tensor<1x1x2x2xf32>
// CHECK-NEXT:    func.return %y_1

// -----

// Left alone: with dilation a padded window might hold no input cell.
func.func @relu_before_dilated_max_pool(%x: tensor<1x1x5x5xf32>) -> tensor<1x1x2x2xf32> {
  %r = nn.relu %x : (tensor<1x1x5x5xf32>) -> tensor<1x1x5x5xf32>
  %y = nn.max_pool2d %r {kernel = array<i64: 2, 2>, stride = array<i64: 2, 2>, padding = array<i64: 0, 0, 0, 0>, dilation = array<i64: 2, 2>, ceil_mode = false} : (tensor<1x1x5x5xf32>) -> tensor<1x1x2x2xf32>
  func.return %y : tensor<1x1x2x2xf32>
}
// CHECK-LABEL: func.func @relu_before_dilated_max_pool
// CHECK-NEXT:    %r = nn.relu %x
// CHECK-NEXT:    %y = nn.max_pool2d %r

// -----

// The counterpart of ReduceSum(BitShift(A)) -> BitShift(ReduceSum(A)): a per-column scale
// leaves the sum over rows, squeezed to the sum's shape.
func.func @scale_out_of_reduce_sum(%x: tensor<4x3xf32>) -> tensor<3xf32> {
  %c = nn.constant dense<[[2.0, 4.0, 0.5]]> : tensor<1x3xf32>
  %m = nn.mul %x, %c : (tensor<4x3xf32>, tensor<1x3xf32>) -> tensor<4x3xf32>
  %y = nn.reduce_sum %m {axes = array<i64: 0>, keepdim = false} : (tensor<4x3xf32>) -> tensor<3xf32>
  func.return %y : tensor<3xf32>
}
// CHECK-LABEL:   func.func @scale_out_of_reduce_sum
// EXACT:           %y = nn.reduce_sum %m
// REASSOC-NEXT:    %y = nn.reduce_sum %x {axes = array<i64: 0>, keepdim = false} : (tensor<4x3xf32>) -> tensor<3xf32>
// REASSOC-NEXT:    %scale_reduced = nn.constant dense<[2.000000e+00, 4.000000e+00, 5.000000e-01]> : tensor<3xf32>
// REASSOC-NEXT:    %y_1 = nn.mul %y, %scale_reduced

// -----

// Left alone: the scale varies along the reduced axis.
func.func @scale_along_the_reduced_axis(%x: tensor<4x3xf32>) -> tensor<4xf32> {
  %c = nn.constant dense<[2.0, 4.0, 0.5]> : tensor<3xf32>
  %m = nn.mul %x, %c : (tensor<4x3xf32>, tensor<3xf32>) -> tensor<4x3xf32>
  %y = nn.reduce_sum %m {axes = array<i64: 1>, keepdim = false} : (tensor<4x3xf32>) -> tensor<4xf32>
  func.return %y : tensor<4xf32>
}
// CHECK-LABEL: func.func @scale_along_the_reduced_axis
// CHECK:         %m = nn.mul %x, %c
// CHECK-NEXT:    %y = nn.reduce_sum %m

// -----

func.func @product_of_exps(%a: tensor<4xf32>, %b: tensor<4xf32>) -> tensor<4xf32> {
  %ea = nn.exp %a : (tensor<4xf32>) -> tensor<4xf32>
  %eb = nn.exp %b : (tensor<4xf32>) -> tensor<4xf32>
  %y = nn.mul %ea, %eb : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  func.return %y : tensor<4xf32>
}
// CHECK-LABEL:   func.func @product_of_exps
// EXACT:           %y = nn.mul %ea, %eb
// REASSOC-NEXT:    %y = nn.add %a, %b
// REASSOC-NEXT:    %y_1 = nn.exp %y
// REASSOC-NEXT:    func.return %y_1
