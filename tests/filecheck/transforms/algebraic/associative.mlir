// `algebraic`, associative rules: DNNFusion Table 4's four representative rules, with
// their commutative variants. Regrouping a product changes its rounding, so they run
// only with reassociate=true; by default every function here is left as it is.
// RUN: sparsec-opt %s -p 'algebraic{reassociate=true}' --split-input-file | filecheck %s
// RUN: sparsec-opt %s -p algebraic --split-input-file | filecheck %s --check-prefix=EXACT

// Row 1 (Figure 2(a)): Recip(A) ⊙ Recip(A⊙B) -> Square(Recip(A)) ⊙ Recip(B), the
// square being recip(a) * recip(a). Still 4mn FLOPs, but a is read once.
func.func @recip_of_product(%a: tensor<2x3xf32>, %b: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %ra = nn.reciprocal %a : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %ba = nn.mul %b, %a : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  %rba = nn.reciprocal %ba : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %y = nn.mul %rba, %ra : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  func.return %y : tensor<2x3xf32>
}
// CHECK-LABEL: func.func @recip_of_product
// CHECK-NEXT:    %ra = nn.reciprocal %a
// CHECK-NEXT:    %y = nn.reciprocal %b
// CHECK-NEXT:    %y_1 = nn.mul %ra, %ra
// CHECK-NEXT:    %y_2 = nn.mul %y_1, %y
// CHECK-NEXT:    func.return %y_2
// EXACT-LABEL: func.func @recip_of_product
// EXACT:         %y = nn.mul %rba, %ra

// -----

// Row 2: (A⊙√B) ⊙ (√B⊙C) -> A⊙B⊙C, 5mn -> 2mn, when B >= 0 (here B = |x|).
func.func @sqrt_pair(%a: tensor<4xf32>, %x: tensor<4xf32>, %c: tensor<4xf32>) -> tensor<4xf32> {
  %b = nn.abs %x : (tensor<4xf32>) -> tensor<4xf32>
  %s1 = nn.sqrt %b : (tensor<4xf32>) -> tensor<4xf32>
  %s2 = nn.sqrt %b : (tensor<4xf32>) -> tensor<4xf32>
  %l = nn.mul %a, %s1 : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  %r = nn.mul %s2, %c : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  %y = nn.mul %l, %r : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  func.return %y : tensor<4xf32>
}
// CHECK-LABEL: func.func @sqrt_pair
// CHECK-NEXT:    %b = nn.abs %x
// CHECK-NEXT:    %y = nn.mul %a, %b
// CHECK-NEXT:    %y_1 = nn.mul %y, %c
// CHECK-NEXT:    func.return %y_1
// CHECK-NOT:     nn.sqrt
// EXACT-LABEL: func.func @sqrt_pair
// EXACT-COUNT-2: nn.sqrt

// -----

// Left alone: B may be negative (sqrt gives NaN, A⊙B⊙C would not). Row 4's rule still
// squares the shared factor: (a ⊙ (s ⊙ s)) ⊙ c reads s once instead of twice.
func.func @sqrt_pair_of_any_sign(%a: tensor<4xf32>, %b: tensor<4xf32>, %c: tensor<4xf32>) -> tensor<4xf32> {
  %s = nn.sqrt %b : (tensor<4xf32>) -> tensor<4xf32>
  %l = nn.mul %a, %s : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  %r = nn.mul %s, %c : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  %y = nn.mul %l, %r : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  func.return %y : tensor<4xf32>
}
// CHECK-LABEL: func.func @sqrt_pair_of_any_sign
// CHECK-NEXT:    %s = nn.sqrt %b
// CHECK-NEXT:    %y = nn.mul %s, %s
// CHECK-NEXT:    %y_1 = nn.mul %a, %y
// CHECK-NEXT:    %y_2 = nn.mul %y_1, %c

// -----

// Row 3: Abs(A) ⊙ B ⊙ Abs(C) -> Abs(A⊙C) ⊙ B, 4mn -> 3mn (found whichever way the
// product is grouped: here B is multiplied last).
func.func @abs_pair(%a: tensor<4xf32>, %b: tensor<4xf32>, %c: tensor<4xf32>) -> tensor<4xf32> {
  %x = nn.abs %a : (tensor<4xf32>) -> tensor<4xf32>
  %z = nn.abs %c : (tensor<4xf32>) -> tensor<4xf32>
  %xz = nn.mul %z, %x : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  %y = nn.mul %b, %xz : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  func.return %y : tensor<4xf32>
}
// CHECK-LABEL: func.func @abs_pair
// CHECK-NEXT:    %y = nn.mul %c, %a
// CHECK-NEXT:    %y_1 = nn.abs %y
// CHECK-NEXT:    %y_2 = nn.mul %y_1, %b
// CHECK-NEXT:    func.return %y_2

// -----

// Row 4: (A⊙ReduceSum(B)) ⊙ (ReduceSum(B)⊙C) -> A ⊙ Square(ReduceSum(B)) ⊙ C,
// 5mn -> 3mn + m: one reduction instead of two, and the square is m-sized.
func.func @repeated_reduce_sum(%a: tensor<2x3xf32>, %b: tensor<2x3xf32>, %c: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %r1 = nn.reduce_sum %b {axes = array<i64: 1>, keepdim = true} : (tensor<2x3xf32>) -> tensor<2x1xf32>
  %r2 = nn.reduce_sum %b {axes = array<i64: 1>, keepdim = true} : (tensor<2x3xf32>) -> tensor<2x1xf32>
  %l = nn.mul %a, %r1 : (tensor<2x3xf32>, tensor<2x1xf32>) -> tensor<2x3xf32>
  %r = nn.mul %r2, %c : (tensor<2x1xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  %y = nn.mul %l, %r : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  func.return %y : tensor<2x3xf32>
}
// CHECK-LABEL: func.func @repeated_reduce_sum
// CHECK-NEXT:    %r1 = nn.reduce_sum %b
// CHECK-NEXT:    %y = nn.mul %r1, %r1 : (tensor<2x1xf32>, tensor<2x1xf32>) -> tensor<2x1xf32>
// CHECK-NEXT:    %y_1 = nn.mul %a, %y
// CHECK-NEXT:    %y_2 = nn.mul %y_1, %c
// CHECK-NEXT:    func.return %y_2
// EXACT-LABEL: func.func @repeated_reduce_sum
// EXACT-COUNT-2: nn.reduce_sum
