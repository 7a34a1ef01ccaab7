// RUN: sparsec import %s | filecheck %s

// Pooling attributes: max_pool2d with ceil_mode and an empty stride (= kernel),
// avg_pool2d without counting padding, adaptive average pooling, mean over negative dims.

func.func @main(%arg0: !torch.vtensor<[1,2,7,7],f32>) -> (!torch.vtensor<[1,2,4,4],f32>, !torch.vtensor<[1,2,4,4],f32>, !torch.vtensor<[1,2,3,2],f32>, !torch.vtensor<[1,2,1,1],f32>) {
  %int0 = torch.constant.int 0
  %int1 = torch.constant.int 1
  %int2 = torch.constant.int 2
  %int3 = torch.constant.int 3
  %intm1 = torch.constant.int -1
  %intm2 = torch.constant.int -2
  %true = torch.constant.bool true
  %false = torch.constant.bool false
  %none = torch.constant.none
  %k2 = torch.prim.ListConstruct %int2, %int2 : (!torch.int, !torch.int) -> !torch.list<int>
  %empty = torch.prim.ListConstruct  : () -> !torch.list<int>
  %p0 = torch.prim.ListConstruct %int0, %int0 : (!torch.int, !torch.int) -> !torch.list<int>
  %d1 = torch.prim.ListConstruct %int1, %int1 : (!torch.int, !torch.int) -> !torch.list<int>
  %0 = torch.aten.max_pool2d %arg0, %k2, %empty, %p0, %d1, %true : !torch.vtensor<[1,2,7,7],f32>, !torch.list<int>, !torch.list<int>, !torch.list<int>, !torch.list<int>, !torch.bool -> !torch.vtensor<[1,2,4,4],f32>
  %k3 = torch.prim.ListConstruct %int3, %int3 : (!torch.int, !torch.int) -> !torch.list<int>
  %p1 = torch.prim.ListConstruct %int1 : (!torch.int) -> !torch.list<int>
  %1 = torch.aten.avg_pool2d %arg0, %k3, %k2, %p1, %false, %false, %none : !torch.vtensor<[1,2,7,7],f32>, !torch.list<int>, !torch.list<int>, !torch.list<int>, !torch.bool, !torch.bool, !torch.none -> !torch.vtensor<[1,2,4,4],f32>
  %size = torch.prim.ListConstruct %int3, %int2 : (!torch.int, !torch.int) -> !torch.list<int>
  %2 = torch.aten.adaptive_avg_pool2d %arg0, %size : !torch.vtensor<[1,2,7,7],f32>, !torch.list<int> -> !torch.vtensor<[1,2,3,2],f32>
  %dims = torch.prim.ListConstruct %intm1, %intm2 : (!torch.int, !torch.int) -> !torch.list<int>
  %3 = torch.aten.mean.dim %arg0, %dims, %true, %none : !torch.vtensor<[1,2,7,7],f32>, !torch.list<int>, !torch.bool, !torch.none -> !torch.vtensor<[1,2,1,1],f32>
  return %0, %1, %2, %3 : !torch.vtensor<[1,2,4,4],f32>, !torch.vtensor<[1,2,4,4],f32>, !torch.vtensor<[1,2,3,2],f32>, !torch.vtensor<[1,2,1,1],f32>
}

// CHECK:      nn.max_pool2d %0 {kernel = array<i64: 2, 2>, stride = array<i64: 2, 2>, padding = array<i64: 0, 0, 0, 0>, dilation = array<i64: 1, 1>, ceil_mode = true}
// CHECK-SAME:   -> tensor<1x2x4x4xf32>
// CHECK-NEXT: nn.avg_pool2d %0 {kernel = array<i64: 3, 3>, stride = array<i64: 2, 2>, padding = array<i64: 1, 1, 1, 1>, ceil_mode = false, count_include_pad = false}
// CHECK-NEXT: nn.adaptive_avg_pool2d %0 {output_size = array<i64: 3, 2>}
// CHECK-NEXT: nn.reduce_mean %0 {axes = array<i64: 2, 3>, keepdim = true}
