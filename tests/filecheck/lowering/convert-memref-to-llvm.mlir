// `convert-memref-to-llvm`: a static memref is its base pointer; an access is a GEP by the
// row-major linear index; views, aliases and stack buffers are pointer arithmetic.
// RUN: sparsec-opt %s -p convert-memref-to-llvm | filecheck %s

func.func @f(%arena: memref<256xi8>, %m: memref<3x5xf32>, %i: index, %j: index) -> f32 {
  %c16 = arith.constant 16 : index
  %v = memref.view %arena[%c16][] : memref<256xi8> to memref<15xf32>
  %x = memref.load %m[%i, %j] : memref<3x5xf32>
  memref.store %x, %v[%j] : memref<15xf32>
  %s = memref.alloca() {alignment = 64 : i64} : memref<32xf32>
  memref.store %x, %s[%i] : memref<32xf32>
  %flat = memref.collapse_shape %m [[0, 1]] : memref<3x5xf32> into memref<15xf32>
  %y = memref.load %flat[%j] : memref<15xf32>
  func.call @g(%v) : (memref<15xf32>) -> ()
  func.return %y : f32
}
func.func private @g(memref<15xf32>)

// Memref arguments, results and calls carry pointers.
// CHECK:      func.func @f(%arena: !llvm.ptr, %m: !llvm.ptr, %i: index, %j: index) -> f32 {
// The view is the arena advanced by 16 bytes.
// CHECK:        %[[SHIFT:.*]] = arith.index_cast %c16 : index to i64
// CHECK-NEXT:   %v = llvm.getelementptr inbounds %arena[%[[SHIFT]]] : (!llvm.ptr, i64) -> !llvm.ptr, i8
// m[i, j] is element i * 5 + j.
// CHECK-NEXT:   %[[FIVE:.*]] = arith.constant 5 : index
// CHECK-NEXT:   %[[ROW:.*]] = arith.muli %i, %[[FIVE]] : index
// CHECK-NEXT:   %[[LINEAR:.*]] = arith.addi %[[ROW]], %j : index
// CHECK-NEXT:   %[[K:.*]] = arith.index_cast %[[LINEAR]] : index to i64
// CHECK-NEXT:   %[[P:.*]] = llvm.getelementptr inbounds %m[%[[K]]] : (!llvm.ptr, i64) -> !llvm.ptr, f32
// CHECK-NEXT:   %x = llvm.load %[[P]] {alignment = 4 : i64} : !llvm.ptr -> f32
// CHECK:        llvm.store %x, %{{.*}} {alignment = 4 : i64} : f32, !llvm.ptr
// The stack buffer: 32 floats, 64-byte aligned.
// CHECK:        %[[N:.*]] = llvm.mlir.constant(32) : i64
// CHECK-NEXT:   %{{.*}} = llvm.alloca %[[N]] x f32 {alignment = 64 : i64} : (i64) -> !llvm.ptr
// collapse_shape keeps the pointer: flat[j] reads m directly.
// CHECK:        %[[J:.*]] = arith.index_cast %j : index to i64
// CHECK-NEXT:   %{{.*}} = llvm.getelementptr inbounds %m[%[[J]]] : (!llvm.ptr, i64) -> !llvm.ptr, f32
// CHECK:        func.call @g(%v) : (!llvm.ptr) -> ()
// CHECK:      func.func private @g(!llvm.ptr) -> ()
// CHECK-NOT:  memref
