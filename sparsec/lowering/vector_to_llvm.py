"""`convert-vector-to-llvm`: 1-D vector ops become llvm ops on `vector<N x T>` values.

    vector.load %m[%i] : memref<..xf32>, vector<8xf32>   -> GEP + llvm.load (align 4)
    vector.maskedload / maskedstore                      -> llvm.masked.load / store (by name)
    vector.broadcast %s : f32 to vector<8xf32>          -> insertelement + shufflevector
    vector.fma                                           -> llvm.intr.fma
    vector.reduction <add> / <maxnumf>                   -> llvm.vector.reduce.fadd / fmax
    vector.create_mask %n                                -> iota < splat(n)
    vector.shuffle                                       -> llvm.shufflevector

Run before `convert-memref-to-llvm` (memory ops address memrefs through casts that pass
folds) and before `convert-arith-to-llvm` (index operands are cast with arith.index_cast).
"""

from __future__ import annotations

from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects import arith, llvm, vector
from xdsl.dialects.builtin import (
    DenseArrayBase,
    DenseIntOrFPElementsAttr,
    ModuleOp,
    VectorType,
    i32,
)
from xdsl.passes import ModulePass
from xdsl.pattern_rewriter import (
    GreedyRewritePatternApplier,
    PatternRewriter,
    PatternRewriteWalker,
    RewritePattern,
    op_type_rewrite_pattern,
)
from xdsl.utils.exceptions import DiagnosticException

from .llvm_builder import LLVMBuilder, intrinsic_suffix, lanes, scalar_of
from .memref_to_llvm import element_bytes, element_pointer


class LoadPattern(RewritePattern):
    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: vector.LoadOp, rewriter: PatternRewriter, /):
        pointer = element_pointer(op.base, op.indices, rewriter)
        alignment = element_bytes(scalar_of(op.result.type))
        rewriter.replace(op, llvm.LoadOp(pointer, op.result.type, alignment=alignment))


class StorePattern(RewritePattern):
    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: vector.StoreOp, rewriter: PatternRewriter, /):
        pointer = element_pointer(op.base, op.indices, rewriter)
        alignment = element_bytes(scalar_of(op.vector.type))
        rewriter.replace(op, llvm.StoreOp(op.vector, pointer, alignment=alignment))


class MaskedLoadPattern(RewritePattern):
    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: vector.MaskedLoadOp, rewriter: PatternRewriter, /):
        pointer = element_pointer(op.base, op.indices, rewriter)
        b = LLVMBuilder(rewriter)
        alignment = b.const(element_bytes(scalar_of(op.result.type)), i32)
        name = f"llvm.masked.load.{intrinsic_suffix(op.result.type)}.p0"
        rewriter.replace(op, llvm.CallIntrinsicOp(
            name, [pointer, alignment, op.mask, op.pass_thru], [op.result.type]))


class MaskedStorePattern(RewritePattern):
    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: vector.MaskedStoreOp, rewriter: PatternRewriter, /):
        pointer = element_pointer(op.base, op.indices, rewriter)
        b = LLVMBuilder(rewriter)
        value = op.value_to_store
        alignment = b.const(element_bytes(scalar_of(value.type)), i32)
        # by its mangled name: xDSL's llvm.intr.masked.store translates to an unmangled
        # declaration that clashes when two element types are stored
        name = f"llvm.masked.store.{intrinsic_suffix(value.type)}.p0"
        rewriter.replace(op, llvm.CallIntrinsicOp(name, [value, pointer, alignment, op.mask],
                                                  []))


class BroadcastPattern(RewritePattern):
    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: vector.BroadcastOp, rewriter: PatternRewriter, /):
        if isinstance(op.source.type, VectorType):
            raise DiagnosticException("vector.broadcast of a vector is not supported")
        splat = LLVMBuilder(rewriter).splat(op.source, op.vector.type)
        rewriter.replace(op, [], [splat])


class FMAPattern(RewritePattern):
    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: vector.FMAOp, rewriter: PatternRewriter, /):
        rewriter.replace(op, llvm.FMAOp(op.lhs, op.rhs, op.acc))


class ReductionPattern(RewritePattern):
    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: vector.ReductionOp, rewriter: PatternRewriter, /):
        b = LLVMBuilder(rewriter)
        kind = op.kind.data
        if kind == vector.CombiningKindFlag.ADD:
            start = op.acc if op.acc is not None else b.const(-0.0, op.dest.type)
            rewriter.replace(op, llvm.VectorReduceFAddOp(start, op.vector))
            return
        if kind == vector.CombiningKindFlag.MAXNUMF:
            name = f"llvm.vector.reduce.fmax.{intrinsic_suffix(op.vector.type)}"
            result = b.emit(llvm.CallIntrinsicOp(name, [op.vector], [op.dest.type]))
            if op.acc is not None:
                result = b.fmax(result, op.acc)
            rewriter.replace(op, [], [result])
            return
        raise DiagnosticException(f"vector.reduction <{kind}> is not supported")


class CreateMaskPattern(RewritePattern):
    """lanes whose position is below the bound: iota < splat(bound)."""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: vector.CreateMaskOp, rewriter: PatternRewriter, /):
        count = lanes(op.mask_vector.type)
        b = LLVMBuilder(rewriter)
        bound = rewriter.insert(arith.IndexCastOp(op.mask_dim_sizes[0], i32)).result
        iota_type = VectorType(i32, [count])
        iota = b.emit(llvm.ConstantOp(
            DenseIntOrFPElementsAttr.from_list(iota_type, list(range(count))), iota_type))
        rewriter.replace(op, [], [b.icmp("slt", iota, b.splat(bound, iota_type))])


class ShufflePattern(RewritePattern):
    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: vector.ShuffleOp, rewriter: PatternRewriter, /):
        mask = DenseArrayBase.from_list(i32, list(op.mask.iter_values()))
        rewriter.replace(op, llvm.ShuffleVectorOp(op.v1, op.v2, mask, op.result.type))


@dataclass(frozen=True)
class ConvertVectorToLLVMPass(ModulePass):
    name = "convert-vector-to-llvm"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        PatternRewriteWalker(GreedyRewritePatternApplier([
            LoadPattern(), StorePattern(), MaskedLoadPattern(), MaskedStorePattern(),
            BroadcastPattern(), FMAPattern(), ReductionPattern(), CreateMaskPattern(),
            ShufflePattern(),
        ]), apply_recursively=False).rewrite_module(op)
        for inner in op.walk():
            if inner.dialect_name() == "vector":
                raise DiagnosticException(f"convert-vector-to-llvm: {inner.name} is not "
                                          "supported")
