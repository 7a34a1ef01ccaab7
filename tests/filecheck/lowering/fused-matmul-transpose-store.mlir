// A transpose of a matmul's result that keeps the last dim last (attention's P . V then
// transpose(0, 2, 1, 3)) is stored by the matmul: one kernel writes the function's output
// at the permuted strides (the rows of a head 15 floats apart, the heads 5), no copy.
// RUN: sparsec-opt %s -p 'convert-nn-to-loops{target=avx2}' | filecheck %s
// RUN: sparsec-opt %s -p 'convert-nn-to-loops{target=avx2 fusion=false}' | filecheck %s --check-prefix=OFF

func.func @main(%p: tensor<1x3x4x4xf32>, %v: tensor<1x3x4x5xf32>) -> tensor<1x4x3x5xf32> {
  %f = nn.fused %p, %v attributes {mapping = "many-to-many"} {
  ^bb0(%a: tensor<1x3x4x4xf32>, %b: tensor<1x3x4x5xf32>):
    %m = nn.matmul %a, %b : (tensor<1x3x4x4xf32>, tensor<1x3x4x5xf32>) -> tensor<1x3x4x5xf32>
    %t = nn.transpose %m {permutation = array<i64: 0, 2, 1, 3>} : (tensor<1x3x4x5xf32>) -> tensor<1x4x3x5xf32>
    nn.yield %t : tensor<1x4x3x5xf32>
  } : (tensor<1x3x4x4xf32>, tensor<1x3x4x5xf32>) -> tensor<1x4x3x5xf32>
  func.return %f : tensor<1x4x3x5xf32>
}

// CHECK:      \22arena\22:{\22bytes\22:0,
// CHECK-SAME: \22kernels\22:[{\22name\22:\22matmul_transpose_0\22,{{.*}}\22ops\22:[\22nn.matmul\22,\22nn.transpose\22]
// CHECK:      func.func @main(%p: memref<48xf32>, %v: memref<60xf32>, %output0: memref<60xf32>
// CHECK-NEXT:   arith.constant
// CHECK-NEXT:   arith.constant
// CHECK-NEXT:   func.call @matmul_transpose_0(%p, %v, %output0,
// CHECK-NEXT:   func.return
// CHECK:      func.func private @matmul_transpose_0(
// CHECK:        arith.constant 15 : index
// CHECK:        vector.maskedstore

// OFF:        func.call @matmul_0(
// OFF:        func.call @transpose_0(
