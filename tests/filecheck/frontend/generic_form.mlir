// RUN: sparsec import %s | filecheck %s

// torch-mlir's generic form parses too: linear, tanh-approximated gelu, softmax over a
// negative dim, and a linear without bias.

"builtin.module"() ({
  "func.func"() <{function_type = (!torch.vtensor<[2,4],f32>) -> !torch.vtensor<[2,3],f32>, sym_name = "main"}> ({
  ^bb0(%arg0: !torch.vtensor<[2,4],f32>):
    %0 = "torch.vtensor.literal"() <{value = dense<0.5> : tensor<3x4xf32>}> : () -> !torch.vtensor<[3,4],f32>
    %1 = "torch.vtensor.literal"() <{value = dense<[1.0, 2.0, 3.0]> : tensor<3xf32>}> : () -> !torch.vtensor<[3],f32>
    %2 = "torch.aten.linear"(%arg0, %0, %1) : (!torch.vtensor<[2,4],f32>, !torch.vtensor<[3,4],f32>, !torch.vtensor<[3],f32>) -> !torch.vtensor<[2,3],f32>
    %3 = "torch.constant.str"() <{value = "tanh"}> : () -> !torch.str
    %4 = "torch.aten.gelu"(%2, %3) : (!torch.vtensor<[2,3],f32>, !torch.str) -> !torch.vtensor<[2,3],f32>
    %5 = "torch.constant.int"() <{value = -1 : i64}> : () -> !torch.int
    %6 = "torch.constant.none"() : () -> !torch.none
    %7 = "torch.aten.softmax.int"(%4, %5, %6) : (!torch.vtensor<[2,3],f32>, !torch.int, !torch.none) -> !torch.vtensor<[2,3],f32>
    %8 = "torch.vtensor.literal"() <{value = dense<1.0> : tensor<3x3xf32>}> : () -> !torch.vtensor<[3,3],f32>
    %9 = "torch.aten.linear"(%7, %8, %6) : (!torch.vtensor<[2,3],f32>, !torch.vtensor<[3,3],f32>, !torch.none) -> !torch.vtensor<[2,3],f32>
    "func.return"(%9) : (!torch.vtensor<[2,3],f32>) -> ()
  }) : () -> ()
}) : () -> ()

// CHECK:      %[[W:.*]] = nn.constant dense<5.000000e-01> : tensor<3x4xf32>
// CHECK-NEXT: %[[B:.*]] = nn.constant dense<[1.000000e+00, 2.000000e+00, 3.000000e+00]> : tensor<3xf32>
// CHECK-NEXT: %[[L:.*]] = nn.linear %0, %[[W]], %[[B]] : (tensor<2x4xf32>, tensor<3x4xf32>, tensor<3xf32>) -> tensor<2x3xf32>
// CHECK-NEXT: %[[G:.*]] = nn.gelu %[[L]] {approximate = "tanh"}
// CHECK-NEXT: %[[S:.*]] = nn.softmax %[[G]] {axis = 1 : i64}
// CHECK-NEXT: %[[W2:.*]] = nn.constant dense<1.000000e+00> : tensor<3x3xf32>
// CHECK-NEXT: %{{.*}} = nn.linear %[[S]], %[[W2]] : (tensor<2x3xf32>, tensor<3x3xf32>) -> tensor<2x3xf32>
