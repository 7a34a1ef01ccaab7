// `convert-math-to-llvm`: exp, log, tanh and erf on f32 (scalars or vectors) become
// polynomials in llvm ops, so vectors stay vectors; sqrt, abs, floor, fma and pow call
// LLVM intrinsics by their mangled names.
// RUN: sparsec-opt %s -p convert-math-to-llvm | filecheck %s

func.func @f(%x: vector<8xf32>, %s: f32) -> (vector<8xf32>, f32) {
  %e = math.exp %x : vector<8xf32>
  %r = math.sqrt %s : f32
  %q = math.rsqrt %s : f32
  %t = math.tanh %e : vector<8xf32>
  %l = math.log %s : f32
  %f = math.erf %l : f32
  %a = arith.addf %r, %q : f32
  %b = arith.addf %a, %f : f32
  func.return %t, %b : vector<8xf32>, f32
}

// exp: clamp to [-87.34, 88], n = floor(x log2(e) + 1/2), r = x - n ln 2 (in two parts),
// a degree-5 polynomial, then 2^n built in the exponent bits (a shift by 23).
// CHECK:      %{{.*}} = llvm.call_intrinsic "llvm.maxnum.v8f32"(%x, %{{.*}}) : (vector<8xf32>, vector<8xf32>) -> vector<8xf32>
// CHECK:      llvm.call_intrinsic "llvm.minnum.v8f32"
// CHECK:      llvm.mlir.constant(dense<1.44269502> : vector<8xf32>)
// CHECK:      llvm.call_intrinsic "llvm.floor.v8f32"
// CHECK:      llvm.mlir.constant(dense<-0.693359375> : vector<8xf32>)
// CHECK-COUNT-5: llvm.intr.fma
// CHECK:      %[[BITS:.*]] = llvm.bitcast %{{.*}} : vector<8xf32> to vector<8xi32>
// CHECK:      %[[TWENTYTHREE:.*]] = llvm.mlir.constant(dense<23> : vector<8xi32>) : vector<8xi32>
// CHECK-NEXT: %[[SHIFTED:.*]] = llvm.shl %{{.*}}, %[[TWENTYTHREE]] : vector<8xi32>
// CHECK-NEXT: %[[SCALE:.*]] = llvm.bitcast %[[SHIFTED]] : vector<8xi32> to vector<8xf32>
// CHECK-NEXT: %e = llvm.fmul %{{.*}}, %[[SCALE]] : vector<8xf32>
// CHECK:      %r = llvm.call_intrinsic "llvm.sqrt.f32"(%s) : (f32) -> f32
// CHECK:      %[[ROOT:.*]] = llvm.call_intrinsic "llvm.sqrt.f32"(%s) : (f32) -> f32
// CHECK-NEXT: %[[ONE:.*]] = llvm.mlir.constant(1.000000e+00 : f32) : f32
// CHECK-NEXT: %q = llvm.fdiv %[[ONE]], %[[ROOT]] : f32
// tanh: x P(x^2) / Q(x^2) on x clamped to +-7.9053; tiny |x| returns x (a lane-wise blend)
// CHECK:      llvm.mlir.constant(dense<-7.90531111> : vector<8xf32>)
// CHECK:      llvm.icmp "slt" %{{.*}}, %{{.*}} : vector<8xi32>
// CHECK:      %[[Q:.*]] = llvm.fdiv %{{.*}}, %{{.*}} : vector<8xf32>
// CHECK:      llvm.sext %{{.*}} : vector<8xi1> to vector<8xi32>
// CHECK:      %t = llvm.bitcast %{{.*}} : vector<8xi32> to vector<8xf32>
// log: the exponent from the bits, the mantissa in [sqrt(1/2), sqrt(2)), special cases
// for zero (-inf), negatives (nan) and inf/nan (passed through).
// CHECK:      %[[LBITS:.*]] = llvm.bitcast %s : f32 to i32
// CHECK:      llvm.ashr %[[LBITS]], %{{.*}} : i32
// CHECK:      llvm.mlir.constant(0xff800000 : f32)
// CHECK:      %l = llvm.select
// erf: x P(x^2) / Q(x^2) on x clamped to +-4
// CHECK:      llvm.mlir.constant(-4.000000e+00 : f32)
// CHECK:      %f = llvm.fdiv
// CHECK-NOT:  math.
