builtin.module {
  func.func @main(%x: tensor<3x2xf32>) -> tensor<3x2xf32> {
    %w = nn.constant dense_resource<fc.weight> : tensor<2x2xf32>
    %w_again = nn.constant dense_resource<fc.weight> : tensor<2x2xf32>
    %idx = nn.constant dense_resource<torch_tensor_3_torch.int64> : tensor<3xi64>
    %h = nn.constant dense_resource<half> : tensor<2xf16>
    %small = nn.constant dense<[1.000000e+00, 2.000000e+00]> : tensor<2xf32>
    %y = nn.linear %x, %w, %small : (tensor<3x2xf32>, tensor<2x2xf32>, tensor<2xf32>) -> tensor<3x2xf32>
    %z = nn.matmul %y, %w_again : (tensor<3x2xf32>, tensor<2x2xf32>) -> tensor<3x2xf32>
    func.return %z : tensor<3x2xf32>
  }
}

{-#
  dialect_resources: {
    builtin: {
      fc.weight: "0x040000000000003F000080BF0000004000000000",
      half: "0x02000000003C00C0",
      torch_tensor_3_torch.int64: "0x08000000000000000000000003000000000000000100000000000000"
    }
  }
#-}
