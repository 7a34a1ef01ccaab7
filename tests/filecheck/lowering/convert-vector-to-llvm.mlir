// `convert-vector-to-llvm`: 1-D vector ops become llvm ops on vector values; memory ops
// address their memref through a cast that convert-memref-to-llvm folds.
// RUN: sparsec-opt %s -p convert-vector-to-llvm | filecheck %s
// RUN: sparsec-opt %s -p convert-vector-to-llvm,convert-memref-to-llvm | filecheck %s --check-prefix=PTR

func.func @f(%m: memref<4x16xf32>, %i: index, %n: index, %s: f32) -> f32 {
  %c0 = arith.constant 0 : index
  %v = vector.load %m[%i, %c0] : memref<4x16xf32>, vector<8xf32>
  %b = vector.broadcast %s : f32 to vector<8xf32>
  %f = vector.fma %v, %b, %v : vector<8xf32>
  %mask = vector.create_mask %n : vector<8xi1>
  %z = arith.constant dense<0.0> : vector<8xf32>
  %t = vector.maskedload %m[%i, %c0], %mask, %z : memref<4x16xf32>, vector<8xi1>, vector<8xf32> into vector<8xf32>
  vector.maskedstore %m[%i, %c0], %mask, %t : memref<4x16xf32>, vector<8xi1>, vector<8xf32>
  %r = vector.reduction <add>, %f : vector<8xf32> into f32
  %x = vector.reduction <maxnumf>, %f : vector<8xf32> into f32
  vector.store %f, %m[%i, %c0] : memref<4x16xf32>, vector<8xf32>
  %sum = arith.addf %r, %x : f32
  func.return %sum : f32
}

// A row of 16: the vector at [i, 0] starts at element i * 16.
// CHECK:      %[[ROW:.*]] = arith.muli %i, %{{.*}} : index
// CHECK:      %[[BASE:.*]] = builtin.unrealized_conversion_cast %m : memref<4x16xf32> to !llvm.ptr
// CHECK:      %[[P:.*]] = llvm.getelementptr inbounds %[[BASE]][%{{.*}}] : (!llvm.ptr, i64) -> !llvm.ptr, f32
// CHECK-NEXT: %v = llvm.load %[[P]] {alignment = 4 : i64} : !llvm.ptr -> vector<8xf32>
// A broadcast is an insertelement into lane 0 and a zero shuffle.
// CHECK:      %[[ONE:.*]] = llvm.insertelement %s, %{{.*}}[%{{.*}} : i32] : vector<8xf32>
// CHECK-NEXT: %b = llvm.shufflevector %[[ONE]], %{{.*}} [0, 0, 0, 0, 0, 0, 0, 0] : vector<8xf32>
// CHECK-NEXT: %f = llvm.intr.fma(%v, %b, %v) : (vector<8xf32>, vector<8xf32>, vector<8xf32>) -> vector<8xf32>
// create_mask %n: lanes [0..7] < n.
// CHECK:      %[[IOTA:.*]] = llvm.mlir.constant(dense<[0, 1, 2, 3, 4, 5, 6, 7]> : vector<8xi32>) : vector<8xi32>
// CHECK:      %mask = llvm.icmp "slt" %[[IOTA]], %{{.*}} : vector<8xi32>
// Masked memory ops call the intrinsics by their mangled names.
// CHECK:      %t = llvm.call_intrinsic "llvm.masked.load.v8f32.p0"(%{{.*}}, %{{.*}}, %mask, %z) : (!llvm.ptr, i32, vector<8xi1>, vector<8xf32>) -> vector<8xf32>
// CHECK:      llvm.call_intrinsic "llvm.masked.store.v8f32.p0"(%t, %{{.*}}, %{{.*}}, %mask) : (vector<8xf32>, !llvm.ptr, i32, vector<8xi1>) -> ()
// CHECK:      %r = "llvm.intr.vector.reduce.fadd"(%{{.*}}, %f)
// CHECK:      %x = llvm.call_intrinsic "llvm.vector.reduce.fmax.v8f32"(%f) : (vector<8xf32>) -> f32
// CHECK:      llvm.store %f, %{{.*}} {alignment = 4 : i64} : vector<8xf32>, !llvm.ptr
// CHECK-NOT:  vector.

// After convert-memref-to-llvm the casts are gone: the memref is a pointer.
// PTR:        func.func @f(%m: !llvm.ptr, %i: index, %n: index, %s: f32) -> f32 {
// PTR-NOT:    unrealized_conversion_cast
// PTR:        llvm.getelementptr inbounds %m[
