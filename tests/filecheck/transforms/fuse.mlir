// `fuse` groups nn operators into `nn.fused` regions (DNNFusion Listing 1 + Table 3).
// Block arguments stand for the group's inputs; constants of at most 16 elements are
// cloned into the region, larger weights are inputs; `nn.yield` returns the results
// still used outside; the op's `mapping` is the group's fused mapping type.
// RUN: sparsec-opt %s -p fuse --split-input-file | filecheck %s
//
// Fusing a fused module changes nothing:
// RUN: sparsec-opt %s -p fuse --split-input-file > %t
// RUN: sparsec-opt -p fuse --split-input-file < %t | diff %t -
//
// The report goes to stderr (stdout stays IR); -o sends the IR to a file:
// RUN: sparsec-opt %s -p fuse --split-input-file --fusion-report -o %t.ir 2>&1 | filecheck %s --check-prefix=REPORT
// Without fusion the report counts the same layers before and after:
// RUN: sparsec-opt %s -p 'fuse{max-ops=1}' --split-input-file --fusion-report 2>&1 >/dev/null | filecheck %s --check-prefix=OFF
//
// profile=true times yellow cells with the JIT (tests/unit/test_fusion_profile.py); these
// cases have green and red cells only, so the plan is the same and nothing is measured:
// RUN: rm -rf %t.profile
// RUN: env SPARSEC_PROFILE_DIR=%t.profile sparsec-opt %s -p 'fuse{profile=true}' --split-input-file | filecheck %s
// RUN: not ls %t.profile

// conv (with bias) -> relu -> add of the block's input: relu seeds (the One-to-One op
// with the smallest result, first in block order), takes its successor add (green) and
// its predecessor conv (Many-to-Many then One-to-One: green). The 144-element weight is
// an input, the 4-element bias is cloned in; %c and %r no longer materialise.

func.func @conv_bias_relu_add(%x: tensor<1x4x6x6xf32>) -> tensor<1x4x6x6xf32> {
  %w = nn.constant dense<5.000000e-02> : tensor<4x4x3x3xf32>
  %b = nn.constant dense<[1.000000e-01, -2.000000e-01, 3.000000e-01, 0.000000e+00]> : tensor<4xf32>
  %c = nn.conv2d %x, %w, %b {stride = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>, dilation = array<i64: 1, 1>, groups = 1 : i64} : (tensor<1x4x6x6xf32>, tensor<4x4x3x3xf32>, tensor<4xf32>) -> tensor<1x4x6x6xf32>
  %r = nn.relu %c : (tensor<1x4x6x6xf32>) -> tensor<1x4x6x6xf32>
  %y = nn.add %r, %x : (tensor<1x4x6x6xf32>, tensor<1x4x6x6xf32>) -> tensor<1x4x6x6xf32>
  func.return %y : tensor<1x4x6x6xf32>
}

// CHECK-LABEL: func.func @conv_bias_relu_add(%x: tensor<1x4x6x6xf32>)
// CHECK-NEXT:    %w = nn.constant dense<5.000000e-02> : tensor<4x4x3x3xf32>
// CHECK-NEXT:    %y = nn.fused %x, %w attributes {mapping = "many-to-many"} {
// CHECK-NEXT:    ^bb0(%[[X:.+]]: tensor<1x4x6x6xf32>, %[[W:.+]]: tensor<4x4x3x3xf32>):
// CHECK-NEXT:      %b = nn.constant dense<[1.000000e-01, -2.000000e-01, 3.000000e-01, 0.000000e+00]> : tensor<4xf32>
// CHECK-NEXT:      %c = nn.conv2d %[[X]], %[[W]], %b {{{.*}}} : (tensor<1x4x6x6xf32>, tensor<4x4x3x3xf32>, tensor<4xf32>) -> tensor<1x4x6x6xf32>
// CHECK-NEXT:      %r = nn.relu %c : (tensor<1x4x6x6xf32>) -> tensor<1x4x6x6xf32>
// CHECK-NEXT:      %[[SUM:.+]] = nn.add %r, %[[X]] : (tensor<1x4x6x6xf32>, tensor<1x4x6x6xf32>) -> tensor<1x4x6x6xf32>
// CHECK-NEXT:      nn.yield %[[SUM]] : tensor<1x4x6x6xf32>
// CHECK-NEXT:    } : (tensor<1x4x6x6xf32>, tensor<4x4x3x3xf32>) -> tensor<1x4x6x6xf32>
// CHECK-NEXT:    func.return %y : tensor<1x4x6x6xf32>

// REPORT:      fusion report for @conv_bias_relu_add: 1 group, 0 unfused operators
// REPORT-NEXT:   group 0: fused_conv2d_relu_add (many-to-many, 3 ops, 1152 intermediate bytes removed)
// REPORT-NEXT:     nn.conv2d, nn.relu, nn.add
// REPORT-NEXT: layers: 3 -> 1
// REPORT-NEXT: intermediate bytes: 1728 -> 576 (66.7% removed)

// OFF:      fusion report for @conv_bias_relu_add: 0 groups, 3 unfused operators
// OFF-NEXT:   unfused: nn.conv2d, nn.relu, nn.add
// OFF-NEXT: layers: 3 -> 3
// OFF-NEXT: intermediate bytes: 1728 -> 1728 (0.0% removed)

// -----

// conv -> conv: Many-to-Many then Many-to-Many is a red cell, and neither is a seed.
// Left alone.

func.func @conv_conv(%x: tensor<1x4x6x6xf32>, %w1: tensor<4x4x3x3xf32>, %w2: tensor<4x4x3x3xf32>) -> tensor<1x4x6x6xf32> {
  %c1 = nn.conv2d %x, %w1 {stride = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>, dilation = array<i64: 1, 1>, groups = 1 : i64} : (tensor<1x4x6x6xf32>, tensor<4x4x3x3xf32>) -> tensor<1x4x6x6xf32>
  %c2 = nn.conv2d %c1, %w2 {stride = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>, dilation = array<i64: 1, 1>, groups = 1 : i64} : (tensor<1x4x6x6xf32>, tensor<4x4x3x3xf32>) -> tensor<1x4x6x6xf32>
  func.return %c2 : tensor<1x4x6x6xf32>
}

// CHECK-LABEL: func.func @conv_conv
// CHECK-NEXT:    %c1 = nn.conv2d %x, %w1
// CHECK-NEXT:    %c2 = nn.conv2d %c1, %w2
// CHECK-NEXT:    func.return %c2

// REPORT:      fusion report for @conv_conv: 0 groups, 2 unfused operators
// REPORT-NEXT:   unfused: nn.conv2d, nn.conv2d
// REPORT-NEXT: layers: 2 -> 2

// -----

// A residual diamond: relu feeds conv1 and, around conv1 -> conv2, the add. relu seeds;
// conv1 cannot take it as a prologue (relu's value is also the add's operand, and the
// convolution's packing loop stores nothing: the group would be split), and {relu, add}
// would feed conv2 (through conv1) and consume its result, a cycle. The add seeds the
// group and takes conv2; relu and conv1 stay unfused.

func.func @residual_diamond(%x: tensor<1x4x6x6xf32>, %w1: tensor<4x4x3x3xf32>, %w2: tensor<4x4x3x3xf32>) -> tensor<1x4x6x6xf32> {
  %a = nn.relu %x : (tensor<1x4x6x6xf32>) -> tensor<1x4x6x6xf32>
  %c1 = nn.conv2d %a, %w1 {stride = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>, dilation = array<i64: 1, 1>, groups = 1 : i64} : (tensor<1x4x6x6xf32>, tensor<4x4x3x3xf32>) -> tensor<1x4x6x6xf32>
  %c2 = nn.conv2d %c1, %w2 {stride = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>, dilation = array<i64: 1, 1>, groups = 1 : i64} : (tensor<1x4x6x6xf32>, tensor<4x4x3x3xf32>) -> tensor<1x4x6x6xf32>
  %y = nn.add %a, %c2 : (tensor<1x4x6x6xf32>, tensor<1x4x6x6xf32>) -> tensor<1x4x6x6xf32>
  func.return %y : tensor<1x4x6x6xf32>
}

// CHECK-LABEL: func.func @residual_diamond
// CHECK-NEXT:    %a = nn.relu %x
// CHECK-NEXT:    %c1 = nn.conv2d %a, %w1
// CHECK-NEXT:    %y = nn.fused %c1, %w2, %a attributes {mapping = "many-to-many"} {
// CHECK-NEXT:    ^bb0(%[[C1:.+]]: tensor<1x4x6x6xf32>, %[[W2:.+]]: tensor<4x4x3x3xf32>, %[[A:.+]]: tensor<1x4x6x6xf32>):
// CHECK-NEXT:      %[[C2:.+]] = nn.conv2d %[[C1]], %[[W2]]
// CHECK-NEXT:      %[[SUM:.+]] = nn.add %[[A]], %[[C2]]
// CHECK-NEXT:      nn.yield %[[SUM]] : tensor<1x4x6x6xf32>
// CHECK-NEXT:    } : (tensor<1x4x6x6xf32>, tensor<4x4x3x3xf32>, tensor<1x4x6x6xf32>) -> tensor<1x4x6x6xf32>
// CHECK-NEXT:    func.return %y : tensor<1x4x6x6xf32>

// REPORT:      fusion report for @residual_diamond: 1 group, 2 unfused operators
// REPORT-NEXT:   group 0: fused_conv2d_add (many-to-many, 2 ops, 576 intermediate bytes removed)
// REPORT-NEXT:     nn.conv2d, nn.add
// REPORT-NEXT:   unfused: nn.relu, nn.conv2d
// REPORT-NEXT: layers: 4 -> 3
// REPORT-NEXT: intermediate bytes: 2304 -> 1728 (25.0% removed)
