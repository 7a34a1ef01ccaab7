// RUN: not sparsec import %s 2>&1 | filecheck %s

// Every operator that has no conversion is reported once, with its uses and locations,
// and no module is printed. Ops that only consume a failed op's result are not listed
// unless they have no conversion themselves.

func.func @main(%arg0: !torch.vtensor<[1,2,4,4],f32>) -> !torch.vtensor<[1,2,8,8],f32> {
  %none = torch.constant.none
  %false = torch.constant.bool false
  %int1 = torch.constant.int 1
  %float2 = torch.constant.float 2.000000e+00
  %scales = torch.prim.ListConstruct %float2, %float2 : (!torch.float, !torch.float) -> !torch.list<float>
  %0 = torch.aten.upsample_bilinear2d.vec %arg0, %none, %false, %scales : !torch.vtensor<[1,2,4,4],f32>, !torch.none, !torch.bool, !torch.list<float> -> !torch.vtensor<[1,2,8,8],f32>
  %1 = torch.aten.cumsum %0, %int1, %none : !torch.vtensor<[1,2,8,8],f32>, !torch.int, !torch.none -> !torch.vtensor<[1,2,8,8],f32>
  %2 = torch.aten.relu %1 : !torch.vtensor<[1,2,8,8],f32> -> !torch.vtensor<[1,2,8,8],f32>
  %3 = torch.aten.cumsum %2, %int1, %none : !torch.vtensor<[1,2,8,8],f32>, !torch.int, !torch.none -> !torch.vtensor<[1,2,8,8],f32>
  return %3 : !torch.vtensor<[1,2,8,8],f32>
}

// CHECK:      error: 2 unsupported operators (3 uses); no module was produced
// CHECK-NEXT:   torch.aten.cumsum: 2 uses: no conversion to nn
// CHECK-NEXT:     at {{.*}}rejected.mlir:14:8
// CHECK-NEXT:     at {{.*}}rejected.mlir:16:8
// CHECK-NEXT:   torch.aten.upsample_bilinear2d.vec: 1 use: interpolating resize (align_corners=False): nn has nearest resize only
// CHECK-NEXT:     at {{.*}}rejected.mlir:13:8
// CHECK-NOT:  builtin.module
