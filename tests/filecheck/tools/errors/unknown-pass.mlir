// An unknown pass name, with -p, --passes or --pass: one line listing the known passes,
// exit code 1, before any input is read.
// RUN: not sparsec-opt %s --pass frobnicate 2>&1 | filecheck %s
// RUN: not sparsec-opt %s --passes classify,frobnicate 2>&1 | filecheck %s
// RUN: not sparsec-opt %s -p frobnicate 2>&1 | filecheck %s
// RUN: not sparsec-opt %s -p frobnicate 2>/dev/null | filecheck %s --check-prefix=STDOUT --allow-empty
// STDOUT-NOT: {{.}}
//
// Options a pass does not have:
// RUN: not sparsec-opt %s -p 'classify{depth=2}' 2>&1 | filecheck %s --check-prefix=OPTION
//
// An input file that does not exist:
// RUN: not sparsec-opt %t.does-not-exist.mlir 2>&1 | filecheck %s --check-prefix=MISSING

// CHECK-NOT: Traceback
// CHECK: sparsec-opt: error: Unrecognized passes: ['frobnicate']; known passes: {{.*}}canonicalize, classify, {{.*}}cse, dce
// CHECK-NOT: Traceback

// OPTION-NOT: Traceback
// OPTION: sparsec-opt: error: Provided arguments ["depth"] not found in expected arguments []
// OPTION-NOT: Traceback

// MISSING-NOT: Traceback
// MISSING: sparsec-opt: error: [Errno 2] No such file or directory: '{{.*}}.does-not-exist.mlir'
// MISSING-NOT: Traceback

func.func @main(%x: tensor<2xf32>) -> tensor<2xf32> {
  func.return %x : tensor<2xf32>
}
