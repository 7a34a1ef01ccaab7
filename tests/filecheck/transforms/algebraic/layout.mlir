// `algebraic`, layout rules: transposes and reshapes that cancel or merge. They move data
// without arithmetic, so they are exact and on by default.
// RUN: sparsec-opt %s -p algebraic --split-input-file | filecheck %s

// transpose(transpose(x, p), q) with p∘q = identity: the pair cancels.
func.func @transposes_cancel(%x: tensor<2x3x4xf32>) -> tensor<2x3x4xf32> {
  %t = nn.transpose %x {permutation = array<i64: 1, 2, 0>} : (tensor<2x3x4xf32>) -> tensor<3x4x2xf32>
  %y = nn.transpose %t {permutation = array<i64: 2, 0, 1>} : (tensor<3x4x2xf32>) -> tensor<2x3x4xf32>
  func.return %y : tensor<2x3x4xf32>
}
// CHECK-LABEL: func.func @transposes_cancel
// CHECK-NEXT:    func.return %x : tensor<2x3x4xf32>

// -----

// Otherwise they merge into one transpose by p∘q[i] = p[q[i]] = [1, 2, 0][[1, 0, 2][i]].
func.func @transposes_merge(%x: tensor<2x3x4xf32>) -> tensor<4x3x2xf32> {
  %t = nn.transpose %x {permutation = array<i64: 1, 2, 0>} : (tensor<2x3x4xf32>) -> tensor<3x4x2xf32>
  %y = nn.transpose %t {permutation = array<i64: 1, 0, 2>} : (tensor<3x4x2xf32>) -> tensor<4x3x2xf32>
  func.return %y : tensor<4x3x2xf32>
}
// CHECK-LABEL: func.func @transposes_merge
// CHECK-NEXT:    %y = nn.transpose %x {permutation = array<i64: 2, 1, 0>} : (tensor<2x3x4xf32>) -> tensor<4x3x2xf32>
// CHECK-NEXT:    func.return %y

// -----

// Left alone: the first transpose has another user, so merging would still move the
// data twice.
func.func @transpose_with_another_user(%x: tensor<2x3x4xf32>) -> (tensor<4x3x2xf32>, tensor<3x4x2xf32>) {
  %t = nn.transpose %x {permutation = array<i64: 1, 2, 0>} : (tensor<2x3x4xf32>) -> tensor<3x4x2xf32>
  %y = nn.transpose %t {permutation = array<i64: 1, 0, 2>} : (tensor<3x4x2xf32>) -> tensor<4x3x2xf32>
  func.return %y, %t : tensor<4x3x2xf32>, tensor<3x4x2xf32>
}
// CHECK-LABEL: func.func @transpose_with_another_user
// CHECK-NEXT:    %t = nn.transpose %x
// CHECK-NEXT:    %y = nn.transpose %t
// CHECK-NEXT:    func.return %y, %t

// -----

// ... but when the pair cancels, the outer one goes even so.
func.func @cancelling_transpose_with_another_user(%x: tensor<2x3xf32>) -> (tensor<2x3xf32>, tensor<3x2xf32>) {
  %t = nn.transpose %x {permutation = array<i64: 1, 0>} : (tensor<2x3xf32>) -> tensor<3x2xf32>
  %y = nn.transpose %t {permutation = array<i64: 1, 0>} : (tensor<3x2xf32>) -> tensor<2x3xf32>
  func.return %y, %t : tensor<2x3xf32>, tensor<3x2xf32>
}
// CHECK-LABEL: func.func @cancelling_transpose_with_another_user
// CHECK-NEXT:    %t = nn.transpose %x
// CHECK-NEXT:    func.return %x, %t

// -----

func.func @identity_transpose(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %y = nn.transpose %x {permutation = array<i64: 0, 1>} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  func.return %y : tensor<2x3xf32>
}
// CHECK-LABEL: func.func @identity_transpose
// CHECK-NEXT:    func.return %x

// -----

// Chains of reshapes keep only the last shape; a reshape back to x's shape is x.
func.func @reshapes(%x: tensor<2x6xf32>) -> (tensor<4x3xf32>, tensor<2x6xf32>) {
  %a = nn.reshape %x : (tensor<2x6xf32>) -> tensor<12xf32>
  %b = nn.reshape %a : (tensor<12xf32>) -> tensor<3x4xf32>
  %c = nn.reshape %b : (tensor<3x4xf32>) -> tensor<4x3xf32>
  %d = nn.reshape %a : (tensor<12xf32>) -> tensor<2x6xf32>
  func.return %c, %d : tensor<4x3xf32>, tensor<2x6xf32>
}
// CHECK-LABEL: func.func @reshapes
// CHECK-NEXT:    %c = nn.reshape %x : (tensor<2x6xf32>) -> tensor<4x3xf32>
// CHECK-NEXT:    func.return %c, %x

// -----

func.func @identity_reshape(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %y = nn.reshape %x : (tensor<2x3xf32>) -> tensor<2x3xf32>
  func.return %y : tensor<2x3xf32>
}
// CHECK-LABEL: func.func @identity_reshape
// CHECK-NEXT:    func.return %x

// -----

// Left alone: a transpose between the reshapes.
func.func @reshape_transpose_reshape(%x: tensor<2x6xf32>) -> tensor<12xf32> {
  %a = nn.reshape %x : (tensor<2x6xf32>) -> tensor<3x4xf32>
  %t = nn.transpose %a {permutation = array<i64: 1, 0>} : (tensor<3x4xf32>) -> tensor<4x3xf32>
  %b = nn.reshape %t : (tensor<4x3xf32>) -> tensor<12xf32>
  func.return %b : tensor<12xf32>
}
// CHECK-LABEL: func.func @reshape_transpose_reshape
// CHECK-NEXT:    %a = nn.reshape %x
// CHECK-NEXT:    %t = nn.transpose %a
// CHECK-NEXT:    %b = nn.reshape %t
