// `convert-parallel-to-gomp`: a call marked sparsec.parallel runs on an OpenMP team:
// its arguments go into a context of 8-byte slots, GOMP_parallel runs a trampoline on
// every thread, and the trampoline calls the kernel on the thread's share of [lo, hi).
// RUN: sparsec-opt %s -p convert-parallel-to-gomp | filecheck %s

builtin.module {
  llvm.func @main(%x: !llvm.ptr) {
    %lo = llvm.mlir.constant(0) : i64
    %hi = llvm.mlir.constant(10) : i64
    llvm.call @kernel(%x, %lo, %hi) {sparsec.parallel = 2 : i64} : (!llvm.ptr, i64, i64) -> ()
    llvm.call @kernel(%x, %lo, %hi) : (!llvm.ptr, i64, i64) -> ()
    llvm.return
  }
  llvm.func internal @kernel(%p: !llvm.ptr, %a: i64, %b: i64) {
    llvm.return
  }
}

// The marked call: three slots, GOMP_parallel(trampoline, context, 2 threads, flags 0).
// CHECK:      llvm.func @main(%x: !llvm.ptr) {
// CHECK:        %[[THREE:.*]] = llvm.mlir.constant(3) : i64
// CHECK-NEXT:   %[[SLOTS:.*]] = llvm.alloca %[[THREE]] x i64
// CHECK:        %[[CTX:.*]] = llvm.inttoptr
// CHECK-NEXT:   %[[S0:.*]] = llvm.getelementptr %[[CTX]][0] : (!llvm.ptr) -> !llvm.ptr, i64
// CHECK-NEXT:   llvm.store %x, %[[S0]] {alignment = 8 : i64} : !llvm.ptr, !llvm.ptr
// CHECK:        llvm.store %lo, %{{.*}} {alignment = 8 : i64} : i64, !llvm.ptr
// CHECK:        llvm.store %hi, %{{.*}} {alignment = 8 : i64} : i64, !llvm.ptr
// CHECK-NEXT:   %[[FN:.*]] = llvm.mlir.addressof @kernel_omp : !llvm.ptr
// CHECK-NEXT:   %[[TWO:.*]] = llvm.mlir.constant(2 : i32) : i32
// CHECK-NEXT:   %[[ZERO:.*]] = llvm.mlir.constant(0 : i32) : i32
// CHECK-NEXT:   llvm.call @GOMP_parallel(%[[FN]], %[[CTX]], %[[TWO]], %[[ZERO]])
// The unmarked call stays.
// CHECK-NEXT:   llvm.call @kernel(%x, %lo, %hi) : (!llvm.ptr, i64, i64) -> ()
// CHECK:      llvm.func @GOMP_parallel(!llvm.ptr, !llvm.ptr, i32, i32)
// CHECK:      llvm.func @omp_get_thread_num() -> i32
// CHECK:      llvm.func @omp_get_num_threads() -> i32
// The trampoline: reload the slots, split [lo, hi) by thread, call the kernel.
// CHECK:      llvm.func internal @kernel_omp(%{{.*}}: !llvm.ptr) {
// CHECK:        %[[P:.*]] = llvm.load %{{.*}} : !llvm.ptr -> !llvm.ptr
// CHECK:        %[[LO:.*]] = llvm.load %{{.*}} : !llvm.ptr -> i64
// CHECK:        %[[HI:.*]] = llvm.load %{{.*}} : !llvm.ptr -> i64
// CHECK:        llvm.call @omp_get_thread_num() : () -> i32
// CHECK:        llvm.call @omp_get_num_threads() : () -> i32
// CHECK:        %[[TOTAL:.*]] = llvm.sub %[[HI]], %[[LO]] : i64
// CHECK:        %[[START:.*]] = llvm.add %[[LO]], %{{.*}} : i64
// CHECK-NEXT:   %[[END:.*]] = llvm.add %[[LO]], %{{.*}} : i64
// CHECK-NEXT:   llvm.call @kernel(%[[P]], %[[START]], %[[END]]) : (!llvm.ptr, i64, i64) -> ()
