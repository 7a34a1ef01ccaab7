// RUN: sparsec import %s | filecheck %s

// Ops on import-time constants are evaluated by PyTorch: the transposed weight and the
// zeros-plus-literal below reach nn as single constants; the unused literal vanishes.

func.func @main(%arg0: !torch.vtensor<[2,3],f32>) -> !torch.vtensor<[2,2],f32> {
  %w = torch.vtensor.literal(dense<[[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]> : tensor<3x2xf32>) : !torch.vtensor<[3,2],f32>
  %unused = torch.vtensor.literal(dense<7.0> : tensor<5xf32>) : !torch.vtensor<[5],f32>
  %int0 = torch.constant.int 0
  %int1 = torch.constant.int 1
  %int2 = torch.constant.int 2
  %int6 = torch.constant.int 6
  %none = torch.constant.none
  %cpu = torch.constant.device "cpu"
  %false = torch.constant.bool false
  %wt = torch.aten.transpose.int %w, %int0, %int1 : !torch.vtensor<[3,2],f32>, !torch.int, !torch.int -> !torch.vtensor<[2,3],f32>
  %0 = torch.aten.linear %arg0, %wt, %none : !torch.vtensor<[2,3],f32>, !torch.vtensor<[2,3],f32>, !torch.none -> !torch.vtensor<[2,2],f32>
  %shape = torch.prim.ListConstruct %int2 : (!torch.int) -> !torch.list<int>
  %zeros = torch.aten.zeros %shape, %int6, %none, %cpu, %false : !torch.list<int>, !torch.int, !torch.none, !torch.Device, !torch.bool -> !torch.vtensor<[2],f32>
  %one = torch.vtensor.literal(dense<1.0> : tensor<2xf32>) : !torch.vtensor<[2],f32>
  %bias = torch.aten.add.Tensor %zeros, %one, %int2 : !torch.vtensor<[2],f32>, !torch.vtensor<[2],f32>, !torch.int -> !torch.vtensor<[2],f32>
  %1 = torch.aten.add.Tensor %0, %bias, %int1 : !torch.vtensor<[2,2],f32>, !torch.vtensor<[2],f32>, !torch.int -> !torch.vtensor<[2,2],f32>
  return %1 : !torch.vtensor<[2,2],f32>
}

// CHECK:      func.func @main(%0: tensor<2x3xf32>) -> tensor<2x2xf32> {
// CHECK-NEXT:   %[[W:.*]] = nn.constant dense<{{\[\[}}1.000000e+00, 3.000000e+00, 5.000000e+00], [2.000000e+00, 4.000000e+00, 6.000000e+00]]> : tensor<2x3xf32>
// CHECK-NEXT:   %[[L:.*]] = nn.linear %0, %[[W]]
// CHECK-NEXT:   %[[B:.*]] = nn.constant dense<2.000000e+00> : tensor<2xf32>
// CHECK-NEXT:   %[[Y:.*]] = nn.add %[[L]], %[[B]]
// CHECK-NEXT:   func.return %[[Y]]
// CHECK-NOT:  nn.constant
