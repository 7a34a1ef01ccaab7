// A matrix product reads the data movement of its fusion group through strides: no copy
// kernel. Here both operands are transposes of the function's inputs (attention's Q . K^T
// with Q stored transposed too): A is read by the micro-kernel with row stride 1 and
// column step 5 (`gemm_5x16_set_1x5`), B = K^T is packed into panels by scalar loads of
// K's rows (a column of B is a row of K).
// RUN: sparsec-opt %s -p 'convert-nn-to-loops{target=avx2}' | filecheck %s
// RUN: sparsec-opt %s -p 'convert-nn-to-loops{target=avx2 fusion=false}' | filecheck %s --check-prefix=OFF

func.func @main(%qt: tensor<2x6x5xf32>, %k: tensor<2x7x6xf32>) -> tensor<2x5x7xf32> {
  %f = nn.fused %qt, %k attributes {mapping = "many-to-many"} {
  ^bb0(%a: tensor<2x6x5xf32>, %b: tensor<2x7x6xf32>):
    %q = nn.transpose %a {permutation = array<i64: 0, 2, 1>} : (tensor<2x6x5xf32>) -> tensor<2x5x6xf32>
    %t = nn.transpose %b {permutation = array<i64: 0, 2, 1>} : (tensor<2x7x6xf32>) -> tensor<2x6x7xf32>
    %m = nn.matmul %q, %t : (tensor<2x5x6xf32>, tensor<2x6x7xf32>) -> tensor<2x5x7xf32>
    nn.yield %m : tensor<2x5x7xf32>
  } : (tensor<2x6x5xf32>, tensor<2x7x6xf32>) -> tensor<2x5x7xf32>
  func.return %f : tensor<2x5x7xf32>
}

// CHECK:      \22arena\22:{\22bytes\22:0,
// CHECK-SAME: \22kernels\22:[{\22name\22:\22transpose_transpose_matmul_0\22,{{.*}}\22ops\22:[\22nn.transpose\22,\22nn.transpose\22,\22nn.matmul\22]
// CHECK:      func.func @main(%qt: memref<60xf32>, %k: memref<84xf32>, %output0: memref<70xf32>
// CHECK-NEXT:   arith.constant
// CHECK-NEXT:   arith.constant
// CHECK-NEXT:   func.call @transpose_transpose_matmul_0(%qt, %k, %output0,
// CHECK-NEXT:   func.return
// CHECK:      func.func private @transpose_transpose_matmul_0(%[[A:[0-9]+]]: memref<60xf32> {llvm.noalias}, %[[B:[0-9]+]]: memref<84xf32>
// CHECK:              memref.load %[[B]][%{{.*}}] : memref<84xf32>
// CHECK:          func.call @gemm_5x16_set_1x5(
// CHECK:      func.func private @gemm_5x16_set_1x5(

// With fusion off every operator is a kernel: the two transposes are copies.
// OFF:        func.call @transpose_0(
// OFF:        func.call @transpose_1(
// OFF:        func.call @matmul_0(
