// A ResNet basic block: conv-bn-relu-conv-bn, plus the identity shortcut, then relu.
func.func @main(%x: tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32> {
  %w1 = nn.constant dense<0.125> : tensor<4x4x3x3xf32>
  %w2 = nn.constant dense<-0.0625> : tensor<4x4x3x3xf32>
  %scale = nn.constant dense<[1.0, 0.5, 2.0, 1.5]> : tensor<4xf32>
  %shift = nn.constant dense<[0.1, -0.2, 0.3, 0.0]> : tensor<4xf32>
  %mean = nn.constant dense<[0.0, 0.25, -0.5, 1.0]> : tensor<4xf32>
  %var = nn.constant dense<[1.0, 2.0, 0.5, 4.0]> : tensor<4xf32>
  %c1 = nn.conv2d %x, %w1 {stride = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>, dilation = array<i64: 1, 1>, groups = 1 : i64} : (tensor<1x4x8x8xf32>, tensor<4x4x3x3xf32>) -> tensor<1x4x8x8xf32>
  %b1 = nn.batch_norm %c1, %scale, %shift, %mean, %var {epsilon = 1.0e-05 : f64} : (tensor<1x4x8x8xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<1x4x8x8xf32>
  %r1 = nn.relu %b1 : (tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32>
  %c2 = nn.conv2d %r1, %w2 {stride = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>, dilation = array<i64: 1, 1>, groups = 1 : i64} : (tensor<1x4x8x8xf32>, tensor<4x4x3x3xf32>) -> tensor<1x4x8x8xf32>
  %b2 = nn.batch_norm %c2, %scale, %shift, %mean, %var {epsilon = 1.0e-05 : f64} : (tensor<1x4x8x8xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<1x4x8x8xf32>
  %sum = nn.add %b2, %x : (tensor<1x4x8x8xf32>, tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32>
  %y = nn.relu %sum : (tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32>
  func.return %y : tensor<1x4x8x8xf32>
}
