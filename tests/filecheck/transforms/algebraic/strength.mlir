// `algebraic`, strength reduction: identities that drop an op or trade it for a cheaper
// one. Exact rules run by default (CHECK and EXACT lines); the rounding-changing ones
// only with reassociate=true (CHECK and REASSOC lines).
// RUN: sparsec-opt %s -p algebraic --split-input-file | filecheck %s --check-prefixes=CHECK,EXACT
// RUN: sparsec-opt %s -p 'algebraic{reassociate=true}' --split-input-file | filecheck %s --check-prefixes=CHECK,REASSOC

// x * 1 -> x, in either operand order.
func.func @mul_by_one(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %one = nn.constant dense<1.0> : tensor<f32>
  %y = nn.mul %one, %x : (tensor<f32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  func.return %y : tensor<2x3xf32>
}
// CHECK-LABEL: func.func @mul_by_one
// CHECK-NEXT:    func.return %x : tensor<2x3xf32>

// -----

// Left alone: the 1 broadcasts x up to 2x3, so the product is not x.
func.func @mul_by_one_that_broadcasts(%x: tensor<3xf32>) -> tensor<2x3xf32> {
  %one = nn.constant dense<1.0> : tensor<2x3xf32>
  %y = nn.mul %x, %one : (tensor<3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  func.return %y : tensor<2x3xf32>
}
// CHECK-LABEL: func.func @mul_by_one_that_broadcasts
// CHECK:         %y = nn.mul %x, %one
// CHECK-NEXT:    func.return %y

// -----

func.func @mul_by_minus_one(%x: tensor<4xf32>) -> tensor<4xf32> {
  %minus_one = nn.constant dense<-1.0> : tensor<1xf32>
  %y = nn.mul %x, %minus_one : (tensor<4xf32>, tensor<1xf32>) -> tensor<4xf32>
  func.return %y : tensor<4xf32>
}
// CHECK-LABEL: func.func @mul_by_minus_one
// CHECK-NEXT:    %y = nn.neg %x : (tensor<4xf32>) -> tensor<4xf32>
// CHECK-NEXT:    func.return %y

// -----

// 0 + x, x - 0 and x / 1 all go, one after the other.
func.func @add_sub_div_identities(%x: tensor<4xf32>) -> tensor<4xf32> {
  %zero = nn.constant dense<0.0> : tensor<f32>
  %one = nn.constant dense<1.0> : tensor<f32>
  %a = nn.add %zero, %x : (tensor<f32>, tensor<4xf32>) -> tensor<4xf32>
  %b = nn.sub %a, %zero : (tensor<4xf32>, tensor<f32>) -> tensor<4xf32>
  %c = nn.div %b, %one : (tensor<4xf32>, tensor<f32>) -> tensor<4xf32>
  func.return %c : tensor<4xf32>
}
// CHECK-LABEL: func.func @add_sub_div_identities
// CHECK-NEXT:    func.return %x : tensor<4xf32>

// -----

// Left alone: 0 - x is not x.
func.func @zero_minus_x(%x: tensor<4xf32>) -> tensor<4xf32> {
  %zero = nn.constant dense<0.0> : tensor<f32>
  %y = nn.sub %zero, %x : (tensor<f32>, tensor<4xf32>) -> tensor<4xf32>
  func.return %y : tensor<4xf32>
}
// CHECK-LABEL: func.func @zero_minus_x
// CHECK:         %y = nn.sub %zero, %x

// -----

// Division by powers of two is multiplication by their exact reciprocals: always on.
func.func @div_by_powers_of_two(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %c = nn.constant dense<[2.0, 0.25, -4.0]> : tensor<3xf32>
  %y = nn.div %x, %c : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  func.return %y : tensor<2x3xf32>
}
// CHECK-LABEL: func.func @div_by_powers_of_two
// CHECK-NEXT:    %divisor_reciprocal = nn.constant dense<[5.000000e-01, 4.000000e+00, -2.500000e-01]> : tensor<3xf32>
// CHECK-NEXT:    %y = nn.mul %x, %divisor_reciprocal
// CHECK-NOT:     nn.div

// -----

// 1/3 is inexact: x/3 becomes x * 0.333333343 only with reassociate=true.
func.func @div_by_three(%x: tensor<4xf32>) -> tensor<4xf32> {
  %three = nn.constant dense<3.0> : tensor<f32>
  %y = nn.div %x, %three : (tensor<4xf32>, tensor<f32>) -> tensor<4xf32>
  func.return %y : tensor<4xf32>
}
// CHECK-LABEL:   func.func @div_by_three
// EXACT:           %y = nn.div %x, %three
// REASSOC-NEXT:    %divisor_reciprocal = nn.constant dense<0.333333343> : tensor<f32>
// REASSOC-NEXT:    %y = nn.mul %x, %divisor_reciprocal

// -----

// Left alone: the divisor is not a constant.
func.func @div_by_a_variable(%x: tensor<4xf32>, %d: tensor<4xf32>) -> tensor<4xf32> {
  %y = nn.div %x, %d : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  func.return %y : tensor<4xf32>
}
// CHECK-LABEL: func.func @div_by_a_variable
// CHECK-NEXT:    %y = nn.div %x, %d
// CHECK-NEXT:    func.return %y

// -----

// sqrt(r) * sqrt(r) -> r needs r >= 0 (relu proves it) and reassociate (it rounds).
func.func @sqrt_times_sqrt(%x: tensor<4xf32>) -> tensor<4xf32> {
  %r = nn.relu %x : (tensor<4xf32>) -> tensor<4xf32>
  %s = nn.sqrt %r : (tensor<4xf32>) -> tensor<4xf32>
  %y = nn.mul %s, %s : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  func.return %y : tensor<4xf32>
}
// CHECK-LABEL:   func.func @sqrt_times_sqrt
// CHECK-NEXT:      %r = nn.relu %x
// EXACT-NEXT:      %s = nn.sqrt %r
// EXACT-NEXT:      %y = nn.mul %s, %s
// REASSOC-NEXT:    func.return %r

// -----

// Left alone even with reassociate: for x < 0 the product is NaN, not x.
func.func @sqrt_times_sqrt_of_any_sign(%x: tensor<4xf32>) -> tensor<4xf32> {
  %s = nn.sqrt %x : (tensor<4xf32>) -> tensor<4xf32>
  %y = nn.mul %s, %s : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  func.return %y : tensor<4xf32>
}
// CHECK-LABEL: func.func @sqrt_times_sqrt_of_any_sign
// CHECK-NEXT:    %s = nn.sqrt %x
// CHECK-NEXT:    %y = nn.mul %s, %s

// -----

// pow(x, 1) is exact; pow(x, 0) -> 1 (then folded to a constant) is exact but for
// signalling NaNs; 2, 3 and -1 become muls and a reciprocal. Those need reassociate;
// 0.5 is not an integer and stays.
func.func @pow(%x: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) {
  %c0 = nn.constant dense<0.0> : tensor<f32>
  %c1 = nn.constant dense<1.0> : tensor<f32>
  %c2 = nn.constant dense<2.0> : tensor<f32>
  %c3 = nn.constant dense<3.0> : tensor<f32>
  %cm1 = nn.constant dense<-1.0> : tensor<f32>
  %chalf = nn.constant dense<0.5> : tensor<f32>
  %p0 = nn.pow %x, %c0 : (tensor<4xf32>, tensor<f32>) -> tensor<4xf32>
  %p1 = nn.pow %x, %c1 : (tensor<4xf32>, tensor<f32>) -> tensor<4xf32>
  %p2 = nn.pow %x, %c2 : (tensor<4xf32>, tensor<f32>) -> tensor<4xf32>
  %p3 = nn.pow %x, %c3 : (tensor<4xf32>, tensor<f32>) -> tensor<4xf32>
  %pm1 = nn.pow %x, %cm1 : (tensor<4xf32>, tensor<f32>) -> tensor<4xf32>
  %phalf = nn.pow %x, %chalf : (tensor<4xf32>, tensor<f32>) -> tensor<4xf32>
  func.return %p0, %p1, %p2, %p3, %pm1, %phalf : tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>
}
// CHECK-LABEL:   func.func @pow
// EXACT:           %p0 = nn.pow %x, %c0
// EXACT-NEXT:      %p2 = nn.pow %x, %c2
// EXACT-NEXT:      %p3 = nn.pow %x, %c3
// EXACT-NEXT:      %pm1 = nn.pow %x, %cm1
// REASSOC:         %p0 = nn.constant dense<1.000000e+00> : tensor<4xf32>
// REASSOC-NEXT:    %p2 = nn.mul %x, %x
// REASSOC-NEXT:    %p3 = nn.mul %x, %x
// REASSOC-NEXT:    %p3_1 = nn.mul %p3, %x
// REASSOC-NEXT:    %pm1 = nn.reciprocal %x
// CHECK-NEXT:      %phalf = nn.pow %x, %chalf
// EXACT-NEXT:      func.return %p0, %x, %p2, %p3, %pm1, %phalf
// REASSOC-NEXT:    func.return %p0, %x, %p2, %p3_1, %pm1, %phalf

// -----

// neg(neg(x)) -> x, -y + x -> x - y, a - (-y) -> a + y, (-b) * (-x) -> b * x.
func.func @negations(%x: tensor<4xf32>, %y: tensor<4xf32>) -> tensor<4xf32> {
  %nx = nn.neg %x : (tensor<4xf32>) -> tensor<4xf32>
  %nnx = nn.neg %nx : (tensor<4xf32>) -> tensor<4xf32>
  %ny = nn.neg %y : (tensor<4xf32>) -> tensor<4xf32>
  %a = nn.add %ny, %nnx : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  %ny2 = nn.neg %y : (tensor<4xf32>) -> tensor<4xf32>
  %b = nn.sub %a, %ny2 : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  %n1 = nn.neg %b : (tensor<4xf32>) -> tensor<4xf32>
  %n2 = nn.neg %x : (tensor<4xf32>) -> tensor<4xf32>
  %c = nn.mul %n1, %n2 : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  func.return %c : tensor<4xf32>
}
// CHECK-LABEL: func.func @negations
// CHECK-NEXT:    %a = nn.sub %x, %y
// CHECK-NEXT:    %b = nn.add %a, %y
// CHECK-NEXT:    %c = nn.mul %b, %x
// CHECK-NEXT:    func.return %c

// -----

// Left alone: the neg has another user, so x + (-y) -> x - y would save nothing.
func.func @negation_with_another_user(%x: tensor<4xf32>, %y: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>) {
  %ny = nn.neg %y : (tensor<4xf32>) -> tensor<4xf32>
  %a = nn.add %x, %ny : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  func.return %a, %ny : tensor<4xf32>, tensor<4xf32>
}
// CHECK-LABEL: func.func @negation_with_another_user
// CHECK-NEXT:    %ny = nn.neg %y
// CHECK-NEXT:    %a = nn.add %x, %ny
