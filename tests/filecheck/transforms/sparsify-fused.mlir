// After `fuse`, a weight enters its fusion group as an input of nn.fused: sparsify packs
// it outside and the group's block argument takes the encoded type.
//
// RUN: sparsec-opt %s -p 'sparsify{scheme=bcr block=2x4 rate=0.5}' | filecheck %s
// RUN: sparsec-opt %s -p 'sparsify{scheme=bcr block=2x4 rate=0.5}' | sparsec-opt | filecheck %s

func.func @main(%x: tensor<1x8xf32>) -> tensor<1x4xf32> {
  %fc_w = nn.constant dense<[[18.0, 2.0, 21.0, 28.0, 23.0, 1.0, 11.0, 10.0], [8.0, 7.0, 17.0, 30.0, 24.0, 20.0, 12.0, 14.0], [31.0, 9.0, 13.0, 25.0, 15.0, 19.0, 27.0, 5.0], [26.0, 32.0, 29.0, 22.0, 4.0, 3.0, 16.0, 6.0]]> : tensor<4x8xf32>
  %y = nn.fused %x, %fc_w attributes {mapping = "many-to-many"} {
  ^bb0(%a: tensor<1x8xf32>, %w: tensor<4x8xf32>):
    %l = nn.linear %a, %w : (tensor<1x8xf32>, tensor<4x8xf32>) -> tensor<1x4xf32>
    %r = nn.relu %l : (tensor<1x4xf32>) -> tensor<1x4xf32>
    nn.yield %r : tensor<1x4xf32>
  } : (tensor<1x8xf32>, tensor<4x8xf32>) -> tensor<1x4xf32>
  func.return %y : tensor<1x4xf32>
}

// CHECK:      %fc_w = sparse.assemble {{.*}} -> tensor<4x8xf32, #sparse.bcr<block = [2, 4]>>
// CHECK-NEXT: %y = nn.fused %x, %fc_w attributes {mapping = "many-to-many"} {
// CHECK-NEXT: ^bb0(%a: tensor<1x8xf32>, %w: tensor<4x8xf32, #sparse.bcr<block = [2, 4]>>):
// CHECK-NEXT:   %l = nn.linear %a, %w : (tensor<1x8xf32>, tensor<4x8xf32, #sparse.bcr<block = [2, 4]>>) -> tensor<1x4xf32>
// CHECK:      } : (tensor<1x8xf32>, tensor<4x8xf32, #sparse.bcr<block = [2, 4]>>) -> tensor<1x4xf32>
