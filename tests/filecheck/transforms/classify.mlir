// `classify` annotates every nn operator with DNNFusion's extended-graph facts: its
// mapping type (nn.mapping), the bytes of its result (nn.ir_bytes), its FLOPs (nn.flops,
// a multiply-add counts 2) and its algebraic properties (nn.algebra, when it has any).
// Constants get nothing: they are weights, not operators.
// RUN: sparsec-opt %s --pass classify --split-input-file | filecheck %s
// RUN: sparsec-opt %s -p classify --split-input-file | filecheck %s
//
// The pass only annotates, so running it again changes nothing:
// RUN: sparsec-opt %s -p classify --split-input-file > %t
// RUN: sparsec-opt -p classify --split-input-file < %t | diff %t -
// RUN: sparsec-opt %s -p classify,classify --split-input-file | diff %t -

// A ResNet basic block on a 1x8x6x6 f32 input: conv-bn-relu-conv-bn, the identity
// shortcut added back, relu. Every intermediate result is 1x8x6x6 = 288 elements,
// 288 * 4 = 1152 bytes.
// conv (3x3, 8 input channels, padding 1): 2 * 288 outputs * (8 * 3 * 3) = 41472 FLOPs;
//   with a bias, + 288 = 41760.
// batch_norm: one multiply-add per element, 2 * 288 = 576. relu and add: 288, one each.

func.func @residual_block(%x: tensor<1x8x6x6xf32>, %w1: tensor<8x8x3x3xf32>, %w2: tensor<8x8x3x3xf32>, %b2: tensor<8xf32>, %scale: tensor<8xf32>, %shift: tensor<8xf32>, %mean: tensor<8xf32>, %var: tensor<8xf32>) -> tensor<1x8x6x6xf32> {
  %c1 = nn.conv2d %x, %w1 {stride = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>, dilation = array<i64: 1, 1>, groups = 1 : i64} : (tensor<1x8x6x6xf32>, tensor<8x8x3x3xf32>) -> tensor<1x8x6x6xf32>
  %n1 = nn.batch_norm %c1, %scale, %shift, %mean, %var {epsilon = 1.0e-05 : f64} : (tensor<1x8x6x6xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<1x8x6x6xf32>
  %r1 = nn.relu %n1 : (tensor<1x8x6x6xf32>) -> tensor<1x8x6x6xf32>
  %c2 = nn.conv2d %r1, %w2, %b2 {stride = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>, dilation = array<i64: 1, 1>, groups = 1 : i64} : (tensor<1x8x6x6xf32>, tensor<8x8x3x3xf32>, tensor<8xf32>) -> tensor<1x8x6x6xf32>
  %n2 = nn.batch_norm %c2, %scale, %shift, %mean, %var {epsilon = 1.0e-05 : f64} : (tensor<1x8x6x6xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<1x8x6x6xf32>
  %sum = nn.add %n2, %x : (tensor<1x8x6x6xf32>, tensor<1x8x6x6xf32>) -> tensor<1x8x6x6xf32>
  %y = nn.relu %sum : (tensor<1x8x6x6xf32>) -> tensor<1x8x6x6xf32>
  func.return %y : tensor<1x8x6x6xf32>
}

// CHECK-LABEL: func.func @residual_block
// Properties stay where they were, after the new attributes.
// CHECK-NEXT:    %c1 = nn.conv2d %x, %w1 {nn.mapping = "many-to-many", nn.ir_bytes = 1152 : i64, nn.flops = 41472 : i64, stride = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>, dilation = array<i64: 1, 1>, groups = 1 : i64} : (tensor<1x8x6x6xf32>, tensor<8x8x3x3xf32>) -> tensor<1x8x6x6xf32>
// Table 2: BatchNormalization is One-to-One (its statistics are constants).
// CHECK-NEXT:    %n1 = nn.batch_norm %c1, %scale, %shift, %mean, %var {nn.mapping = "one-to-one", nn.ir_bytes = 1152 : i64, nn.flops = 576 : i64, epsilon = 1.000000e-05 : f64}
// CHECK-NEXT:    %r1 = nn.relu %n1 {nn.mapping = "one-to-one", nn.ir_bytes = 1152 : i64, nn.flops = 288 : i64} : (tensor<1x8x6x6xf32>) -> tensor<1x8x6x6xf32>
// CHECK-NEXT:    %c2 = nn.conv2d %r1, %w2, %b2 {nn.mapping = "many-to-many", nn.ir_bytes = 1152 : i64, nn.flops = 41760 : i64, stride
// CHECK-NEXT:    %n2 = nn.batch_norm %c2, {{.*}} {nn.mapping = "one-to-one", nn.ir_bytes = 1152 : i64, nn.flops = 576 : i64, epsilon
// Both operands have the result's shape: One-to-One, not One-to-Many.
// CHECK-NEXT:    %sum = nn.add %n2, %x {nn.mapping = "one-to-one", nn.ir_bytes = 1152 : i64, nn.flops = 288 : i64, nn.algebra = ["commutative", "associative"]} : (tensor<1x8x6x6xf32>, tensor<1x8x6x6xf32>) -> tensor<1x8x6x6xf32>
// CHECK-NEXT:    %y = nn.relu %sum {nn.mapping = "one-to-one", nn.ir_bytes = 1152 : i64, nn.flops = 288 : i64} : (tensor<1x8x6x6xf32>) -> tensor<1x8x6x6xf32>
// CHECK-NEXT:    func.return %y : tensor<1x8x6x6xf32>

// -----

// One op of each mapping type (DNNFusion Table 2), and how bytes follow the element type.

func.func @mapping_types(%a: tensor<2x3x4xf32>, %bias: tensor<4xf32>, %w: tensor<4x5xf32>, %h: tensor<6x4xf16>, %table: tensor<10x4xf32>, %idx: tensor<3xi64>) {
  %k = nn.constant dense<2.0> : tensor<4xf32>
  %badd = nn.add %a, %bias : (tensor<2x3x4xf32>, tensor<4xf32>) -> tensor<2x3x4xf32>
  %scaled = nn.div %a, %k : (tensor<2x3x4xf32>, tensor<4xf32>) -> tensor<2x3x4xf32>
  %flat = nn.reshape %badd : (tensor<2x3x4xf32>) -> tensor<6x4xf32>
  %t = nn.transpose %flat {permutation = array<i64: 1, 0>} : (tensor<6x4xf32>) -> tensor<4x6xf32>
  %mm = nn.matmul %flat, %w : (tensor<6x4xf32>, tensor<4x5xf32>) -> tensor<6x5xf32>
  %cat = nn.concat %mm, %mm {axis = 0 : i64} : (tensor<6x5xf32>, tensor<6x5xf32>) -> tensor<12x5xf32>
  %sl = nn.slice %cat {start = array<i64: 0, 1>, end = array<i64: 12, 5>, step = array<i64: 2, 1>} : (tensor<12x5xf32>) -> tensor<6x4xf32>
  %sm = nn.softmax %mm {axis = 1 : i64} : (tensor<6x5xf32>) -> tensor<6x5xf32>
  %rs = nn.reduce_sum %mm {axes = array<i64: 1>, keepdim = false} : (tensor<6x5xf32>) -> tensor<6xf32>
  %hr = nn.relu %h : (tensor<6x4xf16>) -> tensor<6x4xf16>
  %emb = nn.gather %table, %idx {axis = 0 : i64} : (tensor<10x4xf32>, tensor<3xi64>) -> tensor<3x4xf32>
  func.return
}

// CHECK-LABEL: func.func @mapping_types
// CHECK-NEXT:    %k = nn.constant dense<2.000000e+00> : tensor<4xf32>
// Broadcasting 4 over 2x3x4 (24 elements, 96 bytes): One-to-Many, one FLOP per output.
// CHECK-NEXT:    %badd = nn.add %a, %bias {nn.mapping = "one-to-many", nn.ir_bytes = 96 : i64, nn.flops = 24 : i64, nn.algebra = ["commutative", "associative"]}
// div has no algebra attribute: it is neither commutative nor associative.
// CHECK-NEXT:    %scaled = nn.div %a, %k {nn.mapping = "one-to-many", nn.ir_bytes = 96 : i64, nn.flops = 24 : i64} :
// reshape moves no data: Reorganize, 0 FLOPs, 6x4 f32 = 96 bytes.
// CHECK-NEXT:    %flat = nn.reshape %badd {nn.mapping = "reorganize", nn.ir_bytes = 96 : i64, nn.flops = 0 : i64} : (tensor<2x3x4xf32>) -> tensor<6x4xf32>
// CHECK-NEXT:    %t = nn.transpose %flat {nn.mapping = "shuffle", nn.ir_bytes = 96 : i64, nn.flops = 0 : i64, permutation = array<i64: 1, 0>}
// 6x4 @ 4x5: 2 * 30 outputs * 4 = 240 FLOPs; 6x5 f32 = 120 bytes.
// CHECK-NEXT:    %mm = nn.matmul %flat, %w {nn.mapping = "many-to-many", nn.ir_bytes = 120 : i64, nn.flops = 240 : i64} :
// concat and slice are One-to-One in Table 2. 12x5 f32 = 240 bytes; 6x4 f32 = 96 bytes.
// CHECK-NEXT:    %cat = nn.concat %mm, %mm {nn.mapping = "one-to-one", nn.ir_bytes = 240 : i64, nn.flops = 0 : i64, axis = 0 : i64}
// CHECK-NEXT:    %sl = nn.slice %cat {nn.mapping = "one-to-one", nn.ir_bytes = 96 : i64, nn.flops = 0 : i64, start
// softmax: max, subtract-and-exp, sum, divide = 4 FLOPs per element, 4 * 30 = 120.
// CHECK-NEXT:    %sm = nn.softmax %mm {nn.mapping = "many-to-many", nn.ir_bytes = 120 : i64, nn.flops = 120 : i64, axis = 1 : i64}
// A reduction reads each input element once: 30 FLOPs; 6 f32 = 24 bytes.
// CHECK-NEXT:    %rs = nn.reduce_sum %mm {nn.mapping = "many-to-many", nn.ir_bytes = 24 : i64, nn.flops = 30 : i64, axes
// 6x4 f16 = 48 bytes.
// CHECK-NEXT:    %hr = nn.relu %h {nn.mapping = "one-to-one", nn.ir_bytes = 48 : i64, nn.flops = 24 : i64} : (tensor<6x4xf16>) -> tensor<6x4xf16>
// Gather is One-to-Many in Table 2; 3x4 f32 = 48 bytes.
// CHECK-NEXT:    %emb = nn.gather %table, %idx {nn.mapping = "one-to-many", nn.ir_bytes = 48 : i64, nn.flops = 0 : i64, axis = 0 : i64}
// CHECK-NEXT:    func.return

// -----

// Operators inside a fusion group are classified too; nn.fused and nn.yield are not
// operators and get nothing.

func.func @inside_fused(%x: tensor<4xf32>) -> tensor<4xf32> {
  %y = nn.fused %x attributes {mapping = "one-to-one"} {
  ^bb0(%a: tensor<4xf32>):
    %e = nn.exp %a : (tensor<4xf32>) -> tensor<4xf32>
    nn.yield %e : tensor<4xf32>
  } : (tensor<4xf32>) -> tensor<4xf32>
  func.return %y : tensor<4xf32>
}

// CHECK-LABEL: func.func @inside_fused
// CHECK-NEXT:    %y = nn.fused %x attributes {mapping = "one-to-one"} {
// CHECK-NEXT:    ^bb0(%a: tensor<4xf32>):
// CHECK-NEXT:      %e = nn.exp %a {nn.mapping = "one-to-one", nn.ir_bytes = 16 : i64, nn.flops = 4 : i64} : (tensor<4xf32>) -> tensor<4xf32>
// CHECK-NEXT:      nn.yield %e : tensor<4xf32>
// CHECK-NEXT:    } : (tensor<4xf32>) -> tensor<4xf32>
