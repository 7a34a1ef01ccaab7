// RUN: not sparsec import %s 2>&1 | filecheck %s

// Malformed input is one `file:line:col: error:` message.

func.func @main(%arg0: !torch.vtensor<[2],f32>) -> !torch.vtensor<[2],f32> {
  %w = torch.vtensor.literal(dense_resource<missing> : tensor<2xf32>) : !torch.vtensor<[2],f32>
  %0 = torch.aten.mul.Tensor %arg0, %w : !torch.vtensor<[2],f32>, !torch.vtensor<[2],f32> -> !torch.vtensor<[2],f32>
  return %0 : !torch.vtensor<[2],f32>
}

// CHECK: invalid_input.mlir:6:8: error: dense_resource<missing> has no data in the dialect_resources trailer
