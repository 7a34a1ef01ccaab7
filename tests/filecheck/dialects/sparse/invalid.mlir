// sparse.assemble checks its result's encoding against the shape, and its arrays against
// the format's fields (count, element type, static lengths, shared lengths).
// RUN: sparsec-opt %s --split-input-file --verify-diagnostics | filecheck %s

%w = sparse.assemble : () -> tensor<2x4xf32>
// CHECK: error: sparse.assemble: the result type tensor<2x4xf32> has no #sparse encoding

// -----

%w = sparse.assemble : () -> tensor<6x4xf32, #sparse.bcr<block = [4, 4]>>
// CHECK: error: sparse.assemble: #sparse.bcr<block = [4, 4]>: the 6x4 matrix view of a 6x4 tensor is not divisible into 4x4 blocks (6 % 4 = 2, 4 % 4 = 0)

// -----

%w = sparse.assemble : () -> tensor<64x3x3x3xf32, #sparse.bsr<block = [8, 4]>>
// CHECK: error: sparse.assemble: #sparse.bsr<block = [8, 4]>: the 64x27 matrix view of a 64x3x3x3 tensor is not divisible into 8x4 blocks (64 % 8 = 0, 27 % 4 = 3)

// -----

%w = sparse.assemble : () -> tensor<8x8x1x1xf32, #sparse.pattern<patterns = [[0, 1, 3, 4]]>>
// CHECK: error: sparse.assemble: #sparse.pattern needs a convolution weight with 3x3 kernels [Cout, Cin, 3, 3], got shape 8x8x1x1

// -----

%w = sparse.assemble : () -> tensor<8xf32, #sparse.csr>
// CHECK: error: sparse.assemble: #sparse.csr needs a tensor of rank >= 2 (stored through its matrix view), got shape 8

// -----

%indptr = nn.constant dense<[0, 1, 2]> : tensor<3xi32>
%w = sparse.assemble %indptr : (tensor<3xi32>) -> tensor<2x4xf32, #sparse.csr>
// CHECK: error: sparse.assemble: #sparse.csr stores 3 arrays (indptr, indices, values), got 1

// -----

%indptr = nn.constant dense<[0, 1, 2, 2]> : tensor<4xi32>
%indices = nn.constant dense<[0, 1]> : tensor<2xi32>
%values = nn.constant dense<[1.0, 2.0]> : tensor<2xf32>
%w = sparse.assemble %indptr, %indices, %values : (tensor<4xi32>, tensor<2xi32>, tensor<2xf32>) -> tensor<2x4xf32, #sparse.csr>
// CHECK: error: sparse.assemble: array 'indptr' must have shape [3] of i32, got tensor<4xi32>

// -----

%indptr = nn.constant dense<[0, 1, 2]> : tensor<3xi32>
%indices = nn.constant dense<[0, 1]> : tensor<2xi64>
%values = nn.constant dense<[1.0, 2.0]> : tensor<2xf32>
%w = sparse.assemble %indptr, %indices, %values : (tensor<3xi32>, tensor<2xi64>, tensor<2xf32>) -> tensor<2x4xf32, #sparse.csr>
// CHECK: error: sparse.assemble: array 'indices' must have shape [nnz] of i32, got tensor<2xi64>

// -----

%indptr = nn.constant dense<[0, 1, 2]> : tensor<3xi32>
%indices = nn.constant dense<[0, 1]> : tensor<2xi32>
%values = nn.constant dense<[1.0, 2.0]> : tensor<2xf64>
%w = sparse.assemble %indptr, %indices, %values : (tensor<3xi32>, tensor<2xi32>, tensor<2xf64>) -> tensor<2x4xf32, #sparse.csr>
// CHECK: error: sparse.assemble: array 'values' must have shape [nnz] of f32, got tensor<2xf64>

// -----

%indptr = nn.constant dense<[0, 1, 2]> : tensor<3xi32>
%indices = nn.constant dense<[0, 1]> : tensor<2xi32>
%values = nn.constant dense<[1.0, 2.0, 3.0]> : tensor<3xf32>
%w = sparse.assemble %indptr, %indices, %values : (tensor<3xi32>, tensor<2xi32>, tensor<3xf32>) -> tensor<2x4xf32, #sparse.csr>
// CHECK: error: sparse.assemble: array 'values' has 3 entries where nnz is expected, but an earlier array makes nnz = 2

// -----

%reorder = nn.constant dense<[0, 1]> : tensor<2xi32>
%offsets = nn.constant dense<[0, 1, 2]> : tensor<3xi32>
%strides = nn.constant dense<[0, 1, 2]> : tensor<3xi32>
%pattern_ids = nn.constant dense<[1, 0]> : tensor<2xi32>
%channels = nn.constant dense<[0, 0]> : tensor<2xi32>
%weights = nn.constant dense<[[1.0, 2.0, 3.0], [5.0, 6.0, 7.0]]> : tensor<2x3xf32>
%w = sparse.assemble %reorder, %offsets, %strides, %pattern_ids, %channels, %weights : (tensor<2xi32>, tensor<3xi32>, tensor<3xi32>, tensor<2xi32>, tensor<2xi32>, tensor<2x3xf32>) -> tensor<2x1x3x3xf32, #sparse.pattern<patterns = [[0, 1, 3, 4], [1, 4, 5, 7]]>>
// CHECK: error: sparse.assemble: array 'weights' must have shape [kernels, 4] of f32, got tensor<2x3xf32>
