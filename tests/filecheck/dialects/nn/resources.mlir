// Weights in `dense_resource` + `{-# dialect_resources #-}` trailer form.
//
// A file in the form sparsec (and MLIR, and torch-mlir) prints comes back byte for byte,
// directly and through the generic form:
// RUN: sparsec-opt %S/Inputs/weights.mlir | diff %S/Inputs/weights.mlir -
// RUN: sparsec-opt %S/Inputs/weights.mlir --print-op-generic | sparsec-opt | diff %S/Inputs/weights.mlir -
//
// Any other spelling of the trailer (one line, lowercase hex, a blob nobody uses) prints
// in that form: keys sorted, one per line, uppercase hex, unused blobs dropped.
// RUN: sparsec-opt %s | filecheck %s --match-full-lines --strict-whitespace
// RUN: sparsec-opt %s | sparsec-opt | filecheck %s --match-full-lines --strict-whitespace

func.func @main(%x: tensor<2xf16>) -> tensor<2xf16> {
  %h = nn.constant dense_resource<half> : tensor<2xf16>
  %m = nn.constant dense_resource<mask> : tensor<3xi1>
  %k = nn.constant dense_resource<bias> : tensor<1xf64>
  %y = nn.add %x, %h : (tensor<2xf16>, tensor<2xf16>) -> tensor<2xf16>
  func.return %y : tensor<2xf16>
}
{-# dialect_resources: { builtin: { unused: "0x0400000000000000", half: "0x02000000003c00c0", mask: "0x01000000010001", bias: "0x08000000000000000000F03F" } } #-}

// CHECK:builtin.module {
// CHECK-NEXT:  func.func @main(%x: tensor<2xf16>) -> tensor<2xf16> {
// CHECK-NEXT:    %h = nn.constant dense_resource<half> : tensor<2xf16>
// CHECK-NEXT:    %m = nn.constant dense_resource<mask> : tensor<3xi1>
// CHECK-NEXT:    %k = nn.constant dense_resource<bias> : tensor<1xf64>
// CHECK-NEXT:    %y = nn.add %x, %h : (tensor<2xf16>, tensor<2xf16>) -> tensor<2xf16>
// CHECK-NEXT:    func.return %y : tensor<2xf16>
// CHECK-NEXT:  }
// CHECK-NEXT:}
// CHECK-EMPTY:
// CHECK-NEXT:{-#
// CHECK-NEXT:  dialect_resources: {
// CHECK-NEXT:    builtin: {
// 1.0 (f64 0x3FF0000000000000) after the 8-byte alignment header:
// CHECK-NEXT:      bias: "0x08000000000000000000F03F",
// f16 1.0 = 0x3C00 and -2.0 = 0xC000, little-endian, after the 2-byte alignment header:
// CHECK-NEXT:      half: "0x02000000003C00C0",
// i1 as one byte per element: true, false, true:
// CHECK-NEXT:      mask: "0x01000000010001"
// CHECK-NEXT:    }
// CHECK-NEXT:  }
// CHECK-NEXT:#-}
// CHECK-NOT:unused
