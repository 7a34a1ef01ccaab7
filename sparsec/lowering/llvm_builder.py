"""Helpers the `convert-*-to-llvm` passes share: type conversion to the llvm dialect and an
`LLVMBuilder` that inserts llvm ops through a pattern rewriter.

xDSL 0.74's llvm dialect has no vector `llvm.select` or vector `llvm.fcmp`; `blend` selects
between two vectors with integer bit operations instead, which LLVM turns back into a
blend instruction.
"""

from __future__ import annotations

from xdsl.dialects import llvm
from xdsl.dialects.builtin import (
    DenseIntOrFPElementsAttr,
    Float32Type,
    Float64Type,
    FloatAttr,
    IndexType,
    IntegerAttr,
    IntegerType,
    MemRefType,
    VectorType,
    i32,
    i64,
)
from xdsl.ir import Attribute, Operation, SSAValue
from xdsl.pattern_rewriter import PatternRewriter


def llvm_type(type: Attribute) -> Attribute:
    """index -> i64, memref -> !llvm.ptr, vectors of index -> vectors of i64."""
    if isinstance(type, IndexType):
        return i64
    if isinstance(type, MemRefType):
        return llvm.LLVMPointerType()
    if isinstance(type, VectorType) and isinstance(type.element_type, IndexType):
        return VectorType(i64, type.get_shape())
    return type


def scalar_of(type: Attribute) -> Attribute:
    return type.element_type if isinstance(type, VectorType) else type


def lanes(type: Attribute) -> int:
    return type.get_shape()[0] if isinstance(type, VectorType) else 1


def same_shape(type: Attribute, element: Attribute) -> Attribute:
    """`element`, or a vector of it with `type`'s lanes."""
    return VectorType(element, type.get_shape()) if isinstance(type, VectorType) else element


def int_type_like(type: Attribute) -> Attribute:
    """The integer type of the same bit width (f32 -> i32), same vector shape."""
    scalar = scalar_of(type)
    width = 64 if isinstance(scalar, Float64Type) else 32 if isinstance(scalar, Float32Type) \
        else scalar.width.data
    return same_shape(type, IntegerType(width))


def intrinsic_suffix(type: Attribute) -> str:
    """LLVM's type mangling for intrinsic names: f32, v8f32, i64, v8i32."""
    scalar = scalar_of(type)
    if isinstance(scalar, Float32Type):
        name = "f32"
    elif isinstance(scalar, Float64Type):
        name = "f64"
    elif isinstance(scalar, IntegerType):
        name = f"i{scalar.width.data}"
    else:
        raise ValueError(f"no intrinsic suffix for {type}")
    return f"v{lanes(type)}{name}" if isinstance(type, VectorType) else name


class LLVMBuilder:
    """Inserts llvm ops before the op being rewritten."""

    def __init__(self, rewriter: PatternRewriter):
        self.rewriter = rewriter

    def emit(self, op: Operation) -> SSAValue:
        self.rewriter.insert(op)
        return op.results[0] if op.results else None  # type: ignore[return-value]

    def const(self, value: float | int, type: Attribute) -> SSAValue:
        type = llvm_type(type)
        scalar = scalar_of(type)
        if isinstance(type, VectorType):
            attr = DenseIntOrFPElementsAttr.from_list(type, [value] * lanes(type))
        elif isinstance(scalar, IntegerType):
            attr = IntegerAttr(int(value), scalar)
        else:
            attr = FloatAttr(float(value), scalar)
        return self.emit(llvm.ConstantOp(attr, type))

    def like(self, value: float | int, other: SSAValue) -> SSAValue:
        return self.const(value, other.type)

    # floating point
    def fadd(self, a, b):
        return self.emit(llvm.FAddOp(a, b))

    def fsub(self, a, b):
        return self.emit(llvm.FSubOp(a, b))

    def fmul(self, a, b):
        return self.emit(llvm.FMulOp(a, b))

    def fdiv(self, a, b):
        return self.emit(llvm.FDivOp(a, b))

    def fma(self, a, b, c):
        return self.emit(llvm.FMAOp(a, b, c))

    # xDSL's translator declares llvm.maxnum/fabs/... unmangled, so a module using them at
    # two types breaks; calling the mangled intrinsic by name avoids that.
    def fmax(self, a, b):
        return self.intrinsic("maxnum", [a, b], a.type)

    def fmin(self, a, b):
        return self.intrinsic("minnum", [a, b], a.type)

    def fabs(self, a):
        return self.intrinsic("fabs", [a], a.type)

    def floor(self, a):
        return self.intrinsic("floor", [a], a.type)

    def sqrt(self, a):
        return self.intrinsic("sqrt", [a], a.type)

    def intrinsic(self, name: str, args: list[SSAValue], result: Attribute) -> SSAValue:
        """`llvm.<name>.<suffix of result>` (e.g. llvm.tanh.v8f32)."""
        full = f"llvm.{name}.{intrinsic_suffix(result)}"
        return self.emit(llvm.CallIntrinsicOp(full, args, [result]))

    # integers and bits
    def bitcast(self, a, type):
        return self.emit(llvm.BitcastOp(a, type))

    def as_int(self, a):
        return self.bitcast(a, int_type_like(a.type))

    def add(self, a, b):
        return self.emit(llvm.AddOp(a, b))

    def sub(self, a, b):
        return self.emit(llvm.SubOp(a, b))

    def and_(self, a, b):
        return self.emit(llvm.AndOp(a, b))

    def or_(self, a, b):
        return self.emit(llvm.OrOp(a, b))

    def xor(self, a, b):
        return self.emit(llvm.XOrOp(a, b))

    def shl(self, a, b):
        return self.emit(llvm.ShlOp(a, b))

    def ashr(self, a, b):
        return self.emit(llvm.AShrOp(a, b))

    def icmp(self, predicate: str, a, b):
        return self.emit(llvm.ICmpOp(a, b, IntegerAttr(
            llvm.ICmpPredicateFlag.to_int(llvm.ICmpPredicateFlag(predicate)), i64)))

    def sitofp(self, a, type):
        return self.emit(llvm.SIToFPOp(a, type))

    def sext(self, a, type):
        return self.emit(llvm.SExtOp(a, type))

    def select(self, cond: SSAValue, a: SSAValue, b: SSAValue) -> SSAValue:
        """cond ? a : b, lane-wise for vectors."""
        if not isinstance(cond.type, VectorType):
            return self.emit(llvm.SelectOp(cond, a, b))
        return self.blend(cond, a, b)

    def blend(self, mask: SSAValue, a: SSAValue, b: SSAValue) -> SSAValue:
        """Lane-wise mask ? a : b with bit operations (no vector llvm.select in xDSL)."""
        int_type = int_type_like(a.type)
        bits = self.sext(mask, int_type)
        ones = self.const(-1, int_type)
        ia = a if a.type == int_type else self.bitcast(a, int_type)
        ib = b if b.type == int_type else self.bitcast(b, int_type)
        picked = self.or_(self.and_(ia, bits), self.and_(ib, self.xor(bits, ones)))
        return picked if a.type == int_type else self.bitcast(picked, a.type)

    def splat(self, scalar: SSAValue, type: VectorType) -> SSAValue:
        undef = self.emit(llvm.UndefOp(type))
        zero = self.const(0, i32)
        inserted = self.emit(llvm.InsertElementOp(undef, scalar, zero))
        mask = llvm.DenseArrayBase.from_list(i32, [0] * lanes(type))
        return self.emit(llvm.ShuffleVectorOp(inserted, undef, mask, type))
