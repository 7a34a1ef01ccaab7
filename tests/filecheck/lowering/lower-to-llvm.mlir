// The named pipeline `lower-to-llvm` (the string `sparsec.compile` runs) takes an nn
// module to the llvm dialect; `sparsec opt` runs any prefix of it pass by pass.
// RUN: sparsec-opt %s -p 'lower-to-llvm{target=avx2}' | filecheck %s
// RUN: sparsec-opt %s -p 'lower-to-llvm{target=avx512}' | filecheck %s --check-prefix=AVX512
// RUN: sparsec-opt %s -p 'lower-to-llvm{threads=2 target=avx2}' | filecheck %s --check-prefix=THREADS
// RUN: sparsec-opt %s -p 'lower-to-loops{target=avx2},loops-to-llvm' | filecheck %s

func.func @main(%x: tensor<64x256xf32>) -> tensor<64x256xf32> {
  %w = nn.constant dense<0.25> : tensor<256x256xf32>
  %y = nn.linear %x, %w : (tensor<64x256xf32>, tensor<256x256xf32>) -> tensor<64x256xf32>
  %t = nn.tanh %y : (tensor<64x256xf32>) -> tensor<64x256xf32>
  func.return %t : tensor<64x256xf32>
}

// CHECK:      llvm.func @main(%x: !llvm.ptr, %output0: !llvm.ptr, %weights: !llvm.ptr, %arena: !llvm.ptr) {
// CHECK:        llvm.call @linear_tanh_0(%x, %output0, %{{.*}}, %{{.*}}, %{{.*}}) : (!llvm.ptr, !llvm.ptr, !llvm.ptr, i64, i64) -> ()
// CHECK:      llvm.func internal @linear_tanh_0(%{{.*}}: !llvm.ptr {llvm.noalias}
// The micro-kernel: 6 rows of 2 vectors of 8 lanes, 12 fused multiply-adds per k.
// CHECK-COUNT-12: llvm.intr.fma({{.*}}) : (vector<8xf32>, vector<8xf32>, vector<8xf32>) -> vector<8xf32>
// CHECK-NOT:  {{(func|arith|scf|cf|memref|vector|math)\.}}

// AVX-512: 16 lanes.
// AVX512:     llvm.intr.fma({{.*}}) : (vector<16xf32>, vector<16xf32>, vector<16xf32>) -> vector<16xf32>

// With threads the kernel call goes through libgomp (8.4 MFLOP: worth waking a team).
// THREADS:    llvm.call @GOMP_parallel(
// THREADS:    llvm.func internal @linear_tanh_0_omp(
