// `sparsec compile` writes model.o, model.h and model.weights; model.h states the API,
// the status codes, and the name, type, shape and size of every input and output.
// RUN: rm -rf %t && sparsec compile %s --target aarch64-linux-gnu --cpu cortex-a76 -o %t | filecheck %s --check-prefix=OUT
// RUN: filecheck %s < %t/model.h
// RUN: not sparsec compile %s --target mips-linux-gnu -o %t.bad 2>&1 | filecheck %s --check-prefix=ERR
// RUN: not sparsec compile %s --target x86_64-linux-gnu --cpu cortex-a76 -o %t.bad 2>&1 | filecheck %s --check-prefix=CPU
// The lowering takes its vector width from the target (4 f32 lanes on NEON, 8 on AVX2).
// RUN: sparsec opt -p 'convert-nn-to-loops{target="aarch64-linux-gnu:cortex-a76"}' %s | filecheck %s --check-prefix=NEON
// RUN: sparsec opt -p 'convert-nn-to-loops{target="x86_64-linux-gnu"}' %s | filecheck %s --check-prefix=AVX2

// NEON-NOT: vector<8xf32>
// NEON:     vector.fma {{.*}} : vector<4xf32>
// NEON-NOT: vector<8xf32>
// AVX2:     vector.fma {{.*}} : vector<8xf32>

// OUT:      model.o ({{[0-9]+}} bytes, aarch64-unknown-linux-gnu, cpu cortex-a76, 4 f32 lanes)
// OUT-NEXT: model.h
// OUT-NEXT: model.weights ({{[0-9]+}} bytes of weights; workspace {{[0-9]+}} bytes)
// OUT-NEXT: link: aarch64-linux-gnu-gcc app.c {{.*}}model.o -lm

// ERR:     error: unknown target triple 'mips-linux-gnu' (known: aarch64-linux-gnu, x86_64-linux-gnu)
// ERR-NOT: Traceback
// CPU:     error: unknown CPU 'cortex-a76' for x86_64-linux-gnu (known: x86-64-v3, haswell, znver2, znver3, x86-64-v4, skylake-avx512, znver4)

// CHECK:      Target: aarch64-linux-gnu (CPU cortex-a76); threads: 1.
// CHECK:      *   float x[SC_MODEL_INPUT0_ELEMENTS];  (your input)
// CHECK-NEXT: *   float skip[SC_MODEL_INPUT1_ELEMENTS];  (your input)
// CHECK-NEXT: *   float output0[SC_MODEL_OUTPUT0_ELEMENTS];
// CHECK-NEXT: *   status = sc_model_run(m, x, skip, output0);
// CHECK:      *   aarch64-linux-gnu-gcc app.c model.o -lm
// CHECK:      *   input 0  x            float32[2, 3]
// CHECK-NEXT: *   input 1  skip         float32[2, 5]
// CHECK-NEXT: *   output 0 output0      float32[2, 5]
// CHECK:      #define SC_OK 0
// CHECK:      #define SC_ERR_CHECKSUM 9
// CHECK:      #define SC_MODEL_WEIGHTS_BYTES {{[0-9]+}}u
// CHECK:      #define SC_MODEL_NUM_INPUTS 2
// CHECK-NEXT: #define SC_MODEL_NUM_OUTPUTS 1
// CHECK:      #define SC_MODEL_INPUT0_NAME "x"
// CHECK-NEXT: #define SC_MODEL_INPUT0_TYPE float
// CHECK-NEXT: #define SC_MODEL_INPUT0_DTYPE "float32"
// CHECK-NEXT: #define SC_MODEL_INPUT0_RANK 2
// CHECK-NEXT: #define SC_MODEL_INPUT0_SHAPE {2, 3}
// CHECK-NEXT: #define SC_MODEL_INPUT0_ELEMENTS 6u
// CHECK-NEXT: #define SC_MODEL_INPUT0_BYTES 24u
// CHECK:      #define SC_MODEL_OUTPUT0_SHAPE {2, 5}
// CHECK-NEXT: #define SC_MODEL_OUTPUT0_ELEMENTS 10u
// CHECK-NEXT: #define SC_MODEL_OUTPUT0_BYTES 40u
// CHECK:      sc_model *sc_model_create(const char *weights_path, int *status);
// CHECK:      sc_model *sc_model_create_from_memory(const void *data, size_t size, int *status);
// CHECK:      int sc_model_run(sc_model *model, const float *x, const float *skip, float *output0);
// CHECK:      void sc_model_destroy(sc_model *model);

func.func @main(%x: tensor<2x3xf32>, %skip: tensor<2x5xf32>) -> tensor<2x5xf32> {
  %w = nn.constant dense<0.5> : tensor<5x3xf32>
  %y = nn.linear %x, %w : (tensor<2x3xf32>, tensor<5x3xf32>) -> tensor<2x5xf32>
  %r = nn.relu %y : (tensor<2x5xf32>) -> tensor<2x5xf32>
  %s = nn.add %r, %skip : (tensor<2x5xf32>, tensor<2x5xf32>) -> tensor<2x5xf32>
  func.return %s : tensor<2x5xf32>
}
