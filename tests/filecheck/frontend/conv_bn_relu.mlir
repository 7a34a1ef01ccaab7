// RUN: sparsec import %s | filecheck %s

// A convolution block in torch-mlir's pretty form: weights inline (small) and in the
// dialect_resources trailer; eval-mode dropout and contiguous vanish.

func.func @main(%arg0: !torch.vtensor<[1,2,5,5],f32>) -> !torch.vtensor<[1,3,3,3],f32> {
  %w = torch.vtensor.literal(dense_resource<conv.weight> : tensor<3x2x3x3xf32>) : !torch.vtensor<[3,2,3,3],f32>
  %b = torch.vtensor.literal(dense<[0.5, -0.5, 1.0]> : tensor<3xf32>) : !torch.vtensor<[3],f32>
  %gamma = torch.vtensor.literal(dense<[1.0, 2.0, 3.0]> : tensor<3xf32>) : !torch.vtensor<[3],f32>
  %beta = torch.vtensor.literal(dense<0.0> : tensor<3xf32>) : !torch.vtensor<[3],f32>
  %mean = torch.vtensor.literal(dense<0.25> : tensor<3xf32>) : !torch.vtensor<[3],f32>
  %var = torch.vtensor.literal(dense<2.0> : tensor<3xf32>) : !torch.vtensor<[3],f32>
  %int0 = torch.constant.int 0
  %int1 = torch.constant.int 1
  %int2 = torch.constant.int 2
  %false = torch.constant.bool false
  %true = torch.constant.bool true
  %momentum = torch.constant.float 1.000000e-01
  %eps = torch.constant.float 1.000000e-03
  %p = torch.constant.float 5.000000e-01
  %stride = torch.prim.ListConstruct %int2, %int2 : (!torch.int, !torch.int) -> !torch.list<int>
  %padding = torch.prim.ListConstruct %int1, %int0 : (!torch.int, !torch.int) -> !torch.list<int>
  %dilation = torch.prim.ListConstruct %int1, %int1 : (!torch.int, !torch.int) -> !torch.list<int>
  %0 = torch.aten.conv2d %arg0, %w, %b, %stride, %padding, %dilation, %int1 : !torch.vtensor<[1,2,5,5],f32>, !torch.vtensor<[3,2,3,3],f32>, !torch.vtensor<[3],f32>, !torch.list<int>, !torch.list<int>, !torch.list<int>, !torch.int -> !torch.vtensor<[1,3,3,2],f32>
  %1 = torch.aten.batch_norm %0, %gamma, %beta, %mean, %var, %false, %momentum, %eps, %true : !torch.vtensor<[1,3,3,2],f32>, !torch.vtensor<[3],f32>, !torch.vtensor<[3],f32>, !torch.vtensor<[3],f32>, !torch.vtensor<[3],f32>, !torch.bool, !torch.float, !torch.float, !torch.bool -> !torch.vtensor<[1,3,3,2],f32>
  %2 = torch.aten.relu %1 : !torch.vtensor<[1,3,3,2],f32> -> !torch.vtensor<[1,3,3,2],f32>
  %3 = torch.aten.dropout %2, %p, %false : !torch.vtensor<[1,3,3,2],f32>, !torch.float, !torch.bool -> !torch.vtensor<[1,3,3,2],f32>
  %none = torch.constant.none
  %4 = torch.aten.contiguous %3, %int0 : !torch.vtensor<[1,3,3,2],f32>, !torch.int -> !torch.vtensor<[1,3,3,2],f32>
  %pads = torch.prim.ListConstruct %int0, %int1 : (!torch.int, !torch.int) -> !torch.list<int>
  %zero = torch.constant.float 0.000000e+00
  %5 = torch.aten.constant_pad_nd %4, %pads, %zero : !torch.vtensor<[1,3,3,2],f32>, !torch.list<int>, !torch.float -> !torch.vtensor<[1,3,3,3],f32>
  return %5 : !torch.vtensor<[1,3,3,3],f32>
}

{-#
  dialect_resources: {
    builtin: {
      conv.weight: "0x04000000000058C0000050C0000048C0000040C0000038C0000030C0000028C0000020C0000018C0000010C0000008C0000000C00000F0BF0000E0BF0000D0BF0000C0BF0000B0BF0000A0BF000090BF000080BF000060BF000040BF000020BF000000BF0000C0BE000080BE000000BE000000000000003E0000803E0000C03E0000003F0000203F0000403F0000603F0000803F0000903F0000A03F0000B03F0000C03F0000D03F0000E03F0000F03F0000004000000840000010400000184000002040000028400000304000003840000040400000484000005040"
    }
  }
#-}

// CHECK:      func.func @main(%0: tensor<1x2x5x5xf32>) -> tensor<1x3x3x3xf32> {
// CHECK-NEXT:   %1 = nn.constant dense_resource<conv.weight> : tensor<3x2x3x3xf32>
// CHECK-NEXT:   %2 = nn.constant dense<[5.000000e-01, -5.000000e-01, 1.000000e+00]> : tensor<3xf32>
// CHECK-NEXT:   %3 = nn.conv2d %0, %1, %2 {stride = array<i64: 2, 2>, padding = array<i64: 1, 0, 1, 0>, dilation = array<i64: 1, 1>, groups = 1 : i64} : (tensor<1x2x5x5xf32>, tensor<3x2x3x3xf32>, tensor<3xf32>) -> tensor<1x3x3x2xf32>
// CHECK:        %{{.*}} = nn.batch_norm %3, %{{.*}} {epsilon = 1.000000e-03 : f64}
// CHECK-NEXT:   %[[RELU:.*]] = nn.relu
// CHECK-NEXT:   %[[PAD:.*]] = nn.pad %[[RELU]] {low = array<i64: 0, 0, 0, 0>, high = array<i64: 0, 0, 0, 1>, value = 0.000000e+00 : f64}
// CHECK-NEXT:   func.return %[[PAD]] : tensor<1x3x3x3xf32>
// CHECK:      dialect_resources
// CHECK-NEXT:   builtin: {
// CHECK-NEXT:     conv.weight: "0x04000000000058C0000050C0
