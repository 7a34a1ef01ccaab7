// RUN: sparsec import %s | filecheck %s

// torch-mlir's raw FX import prints in-place ops on value tensors (its own verifier
// rejects them when parsing): they are read as the value-semantics ops they stand for.

func.func @main(%arg0: !torch.vtensor<[2,3],f32>, %arg1: !torch.vtensor<[2,3],f32>) -> !torch.vtensor<[2,3],f32> {
  %int1 = torch.constant.int 1
  %0 = torch.aten.add_.Tensor %arg0, %arg1, %int1 : !torch.vtensor<[2,3],f32>, !torch.vtensor<[2,3],f32>, !torch.int -> !torch.vtensor<[2,3],f32>
  %1 = torch.aten.relu_ %0 : !torch.vtensor<[2,3],f32> -> !torch.vtensor<[2,3],f32>
  %2 = "torch.aten.hardswish_"(%1) : (!torch.vtensor<[2,3],f32>) -> !torch.vtensor<[2,3],f32>
  return %2 : !torch.vtensor<[2,3],f32>
}

// CHECK:      %[[ADD:.*]] = nn.add %0, %1 : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK-NEXT: %[[RELU:.*]] = nn.relu %[[ADD]]
// CHECK-NEXT: %[[HS:.*]] = nn.hardswish %[[RELU]]
// CHECK-NEXT: func.return %[[HS]]
