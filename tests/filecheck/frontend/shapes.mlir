// RUN: sparsec import %s | filecheck %s

// Views become nn.reshape to the result type, transpose.int with negative dims a
// permutation, slice/select negative indices are normalised, cat takes a negative dim.

func.func @main(%arg0: !torch.vtensor<[2,3,4],f32>) -> (!torch.vtensor<[2,12],f32>, !torch.vtensor<[2,4,3],f32>, !torch.vtensor<[2,2,4],f32>, !torch.vtensor<[2,3],f32>, !torch.vtensor<[2,3,8],f32>, !torch.vtensor<[1,2,3,4],f32>) {
  %int0 = torch.constant.int 0
  %int1 = torch.constant.int 1
  %int2 = torch.constant.int 2
  %intm1 = torch.constant.int -1
  %intm2 = torch.constant.int -2
  %0 = torch.aten.flatten.using_ints %arg0, %int1, %intm1 : !torch.vtensor<[2,3,4],f32>, !torch.int, !torch.int -> !torch.vtensor<[2,12],f32>
  %1 = torch.aten.transpose.int %arg0, %intm1, %intm2 : !torch.vtensor<[2,3,4],f32>, !torch.int, !torch.int -> !torch.vtensor<[2,4,3],f32>
  %2 = torch.aten.slice.Tensor %arg0, %int1, %intm2, %int2, %int1 : !torch.vtensor<[2,3,4],f32>, !torch.int, !torch.int, !torch.int, !torch.int -> !torch.vtensor<[2,1,4],f32>
  %3 = torch.aten.slice.Tensor %arg0, %int1, %int0, %int1, %int1 : !torch.vtensor<[2,3,4],f32>, !torch.int, !torch.int, !torch.int, !torch.int -> !torch.vtensor<[2,1,4],f32>
  %list = torch.prim.ListConstruct %2, %3 : (!torch.vtensor<[2,1,4],f32>, !torch.vtensor<[2,1,4],f32>) -> !torch.list<vtensor>
  %4 = torch.aten.cat %list, %intm2 : !torch.list<vtensor>, !torch.int -> !torch.vtensor<[2,2,4],f32>
  %5 = torch.aten.select.int %arg0, %intm1, %intm1 : !torch.vtensor<[2,3,4],f32>, !torch.int, !torch.int -> !torch.vtensor<[2,3],f32>
  %list2 = torch.prim.ListConstruct %arg0, %arg0 : (!torch.vtensor<[2,3,4],f32>, !torch.vtensor<[2,3,4],f32>) -> !torch.list<vtensor>
  %6 = torch.aten.cat %list2, %intm1 : !torch.list<vtensor>, !torch.int -> !torch.vtensor<[2,3,8],f32>
  %7 = torch.aten.unsqueeze %arg0, %int0 : !torch.vtensor<[2,3,4],f32>, !torch.int -> !torch.vtensor<[1,2,3,4],f32>
  return %0, %1, %4, %5, %6, %7 : !torch.vtensor<[2,12],f32>, !torch.vtensor<[2,4,3],f32>, !torch.vtensor<[2,2,4],f32>, !torch.vtensor<[2,3],f32>, !torch.vtensor<[2,3,8],f32>, !torch.vtensor<[1,2,3,4],f32>
}

// CHECK:      %[[FLAT:.*]] = nn.reshape %0 : (tensor<2x3x4xf32>) -> tensor<2x12xf32>
// CHECK-NEXT: %[[T:.*]] = nn.transpose %0 {permutation = array<i64: 0, 2, 1>}
// CHECK-NEXT: %[[A:.*]] = nn.slice %0 {start = array<i64: 0, 1, 0>, end = array<i64: 2, 2, 4>, step = array<i64: 1, 1, 1>}
// CHECK-NEXT: %[[B:.*]] = nn.slice %0 {start = array<i64: 0, 0, 0>, end = array<i64: 2, 1, 4>, step = array<i64: 1, 1, 1>}
// CHECK-NEXT: %[[CAT:.*]] = nn.concat %[[A]], %[[B]] {axis = 1 : i64}
// CHECK-NEXT: %[[SEL:.*]] = nn.slice %0 {start = array<i64: 0, 0, 3>, end = array<i64: 2, 3, 4>, step = array<i64: 1, 1, 1>}
// CHECK-NEXT: %[[SQ:.*]] = nn.reshape %[[SEL]] : (tensor<2x3x1xf32>) -> tensor<2x3xf32>
// CHECK-NEXT: %[[CAT2:.*]] = nn.concat %0, %0 {axis = 2 : i64}
// CHECK-NEXT: %[[UNSQ:.*]] = nn.reshape %0 : (tensor<2x3x4xf32>) -> tensor<1x2x3x4xf32>
// CHECK-NEXT: func.return %[[FLAT]], %[[T]], %[[CAT]], %[[SQ]], %[[CAT2]], %[[UNSQ]]
