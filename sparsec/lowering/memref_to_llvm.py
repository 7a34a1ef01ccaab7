"""`convert-memref-to-llvm`: static-shape memrefs become bare `!llvm.ptr`s.

sparsec's memrefs have static shapes (or are 1-D, like shared kernels' memref<?xf32>
parameters) and identity layouts: views into the weights, the arena or the caller's
buffers. So a memref is just its base pointer: no descriptor.

    memref.load %m[%i, %j] : memref<4x8xf32>
      -> %k = %i * 8 + %j;  %p = llvm.getelementptr inbounds %m[%k] : f32;  llvm.load %p
    memref.view %arena[%shift][] : memref<Nxi8> to memref<...>  -> llvm.getelementptr %arena[%shift] : i8
    memref.collapse_shape / expand_shape / reinterpret_cast (offset 0) / cast  -> the same pointer
    memref.alloca() : memref<Nxf32>  -> llvm.alloca N x f32

Then every memref type (function signatures, block arguments, call results) becomes
`!llvm.ptr`. Casts left by `convert-vector-to-llvm` (memref -> ptr) fold away.
Index arithmetic stays in arith (`convert-arith-to-llvm` lowers it next).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects import arith, func, llvm, memref
from xdsl.dialects.builtin import (
    DYNAMIC_INDEX,
    IndexType,
    IntegerAttr,
    MemRefType,
    ModuleOp,
    NoneAttr,
    StridedLayoutAttr,
    UnrealizedConversionCastOp,
    i64,
)
from xdsl.ir import Attribute, Operation, SSAValue
from xdsl.passes import ModulePass
from xdsl.pattern_rewriter import (
    GreedyRewritePatternApplier,
    PatternRewriter,
    PatternRewriteWalker,
    RewritePattern,
    op_type_rewrite_pattern,
)
from xdsl.utils.exceptions import DiagnosticException

PTR = llvm.LLVMPointerType()


def static_strides(type: MemRefType) -> tuple[tuple[int, ...], int]:
    """(strides, offset) in elements of a static memref type."""
    shape = type.get_shape()
    layout = type.layout
    if len(shape) == 1 and isinstance(layout, NoneAttr):
        return (1,), 0  # a 1-D buffer, static or not (memref<?xf32> parameters)
    if DYNAMIC_INDEX in shape:
        raise DiagnosticException(f"dynamic memref shapes are only supported in 1-D: {type}")
    if isinstance(layout, NoneAttr):
        strides, running = [], 1
        for size in reversed(shape):
            strides.append(running)
            running *= size
        return tuple(reversed(strides)), 0
    if isinstance(layout, StridedLayoutAttr):
        strides = layout.get_strides()
        offset = layout.get_offset()
        if None in strides or offset is None:
            raise DiagnosticException(f"dynamic memref strides are not supported: {type}")
        return tuple(strides), offset  # type: ignore[return-value]
    raise DiagnosticException(f"memref layout {layout} is not supported")


def base_pointer(value: SSAValue, rewriter: PatternRewriter) -> SSAValue:
    """The value as an `!llvm.ptr` (a cast that folds once memref types are converted)."""
    if value.type == PTR:
        return value
    cast = UnrealizedConversionCastOp.get([value], [PTR])
    rewriter.insert(cast)
    return cast.results[0]


def _is_zero(value: SSAValue) -> bool:
    op = value.owner
    return isinstance(op, arith.ConstantOp) and isinstance(op.value, IntegerAttr) and \
        op.value.value.data == 0


def element_pointer(memref_value: SSAValue, indices: Sequence[SSAValue],
                    rewriter: PatternRewriter) -> SSAValue:
    """Pointer to memref_value[indices]: a GEP by the linearised index."""
    type = memref_value.type
    assert isinstance(type, MemRefType)
    strides, offset = static_strides(type)
    linear: SSAValue | None = None
    for index, stride in zip(indices, strides, strict=True):
        if _is_zero(index):
            continue
        term = index
        if stride != 1:
            factor = rewriter.insert(arith.ConstantOp(IntegerAttr(stride, IndexType())))
            term = rewriter.insert(arith.MuliOp(index, factor)).result
        linear = term if linear is None else rewriter.insert(arith.AddiOp(linear, term)).result
    base = base_pointer(memref_value, rewriter)
    if offset:
        shift = rewriter.insert(arith.ConstantOp(IntegerAttr(offset, IndexType())))
        linear = shift.result if linear is None else \
            rewriter.insert(arith.AddiOp(linear, shift)).result
    if linear is None:
        return base
    as_i64 = rewriter.insert(arith.IndexCastOp(linear, i64)).result
    gep = llvm.GEPOp(base, [llvm.GEP_USE_SSA_VAL], type.element_type, [as_i64], inbounds=True)
    rewriter.insert(gep)
    return gep.result


def element_bytes(type: Attribute) -> int:
    width = getattr(type, "bitwidth", None)
    if width is None:
        width = type.width.data  # type: ignore[attr-defined]
    return max(1, width // 8)


class LoadPattern(RewritePattern):
    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: memref.LoadOp, rewriter: PatternRewriter, /):
        pointer = element_pointer(op.memref, op.indices, rewriter)
        alignment = element_bytes(op.res.type)
        rewriter.replace(op, llvm.LoadOp(pointer, op.res.type, alignment=alignment))


class StorePattern(RewritePattern):
    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: memref.StoreOp, rewriter: PatternRewriter, /):
        pointer = element_pointer(op.memref, op.indices, rewriter)
        alignment = element_bytes(op.value.type)
        rewriter.replace(op, llvm.StoreOp(op.value, pointer, alignment=alignment))


class ViewPattern(RewritePattern):
    """memref.view: the source pointer advanced by `byte_shift` bytes."""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: memref.ViewOp, rewriter: PatternRewriter, /):
        base = base_pointer(op.source, rewriter)
        shift = rewriter.insert(arith.IndexCastOp(op.byte_shift, i64)).result
        gep = rewriter.insert(llvm.GEPOp(base, [llvm.GEP_USE_SSA_VAL], llvm.IntegerType(8),
                                         [shift], inbounds=True))
        rewriter.replace(op, UnrealizedConversionCastOp.get([gep.result], [op.result.type]))


class AliasPattern(RewritePattern):
    """Shape-only changes of a contiguous buffer keep its pointer."""

    def match_and_rewrite(self, op: Operation, rewriter: PatternRewriter, /):
        if not isinstance(op, memref.CollapseShapeOp | memref.ExpandShapeOp | memref.CastOp
                          | memref.ReinterpretCastOp):
            return
        result = op.results[0]
        if isinstance(op, memref.ReinterpretCastOp):
            _, offset = static_strides(result.type)  # type: ignore[arg-type]
            if offset:
                raise DiagnosticException("memref.reinterpret_cast with an offset is not "
                                          "supported; use memref.view")
        base = base_pointer(op.operands[0], rewriter)
        rewriter.replace(op, UnrealizedConversionCastOp.get([base], [result.type]))


class AllocaPattern(RewritePattern):
    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: memref.AllocaOp, rewriter: PatternRewriter, /):
        type = op.memref.type
        count = 1
        for size in type.get_shape():
            count *= size
        size = rewriter.insert(llvm.ConstantOp(IntegerAttr(count, i64), i64))
        alignment = op.alignment.value.data if op.alignment is not None else 16
        alloca = rewriter.insert(llvm.AllocaOp(size.result, type.element_type,
                                               alignment=alignment))
        # llvmlite types an alloca's pointer (float*), which then refuses vector stores;
        # the round trip through an integer gives an opaque ptr (instcombine folds it away)
        address = rewriter.insert(llvm.PtrToIntOp(alloca.res, i64))
        pointer = rewriter.insert(llvm.IntToPtrOp(address.results[0]))
        rewriter.replace(op, UnrealizedConversionCastOp.get([pointer.results[0]], [type]))


class ConvertMemRefTypes(RewritePattern):
    """memref -> !llvm.ptr in function signatures, block arguments and op results."""

    def match_and_rewrite(self, op: Operation, rewriter: PatternRewriter, /):
        if isinstance(op, func.FuncOp):
            function_type = op.function_type
            inputs = [PTR if isinstance(t, MemRefType) else t for t in function_type.inputs]
            outputs = [PTR if isinstance(t, MemRefType) else t for t in function_type.outputs]
            if inputs != list(function_type.inputs) or outputs != list(function_type.outputs):
                op.properties["function_type"] = func.FunctionType.from_lists(inputs, outputs)
                rewriter.handle_operation_modification(op)
        for region in op.regions:
            for block in region.blocks:
                for arg in block.args:
                    if isinstance(arg.type, MemRefType):
                        rewriter.replace_value_with_new_type(arg, PTR)
        for result in op.results:
            if isinstance(result.type, MemRefType):
                rewriter.replace_value_with_new_type(result, PTR)


class FoldIdentityCasts(RewritePattern):
    """unrealized_conversion_cast from a type to itself is a no-op."""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: UnrealizedConversionCastOp, rewriter: PatternRewriter, /):
        if len(op.inputs) == 1 and len(op.outputs) == 1 and \
                op.inputs[0].type == op.outputs[0].type:
            rewriter.replace(op, [], [op.inputs[0]])


@dataclass(frozen=True)
class ConvertMemRefToLLVMPass(ModulePass):
    name = "convert-memref-to-llvm"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        PatternRewriteWalker(GreedyRewritePatternApplier([
            LoadPattern(), StorePattern(), ViewPattern(), AliasPattern(), AllocaPattern(),
        ]), apply_recursively=False).rewrite_module(op)
        PatternRewriteWalker(ConvertMemRefTypes(), apply_recursively=False).rewrite_module(op)
        PatternRewriteWalker(FoldIdentityCasts(), apply_recursively=False).rewrite_module(op)
        for inner in op.walk():
            if isinstance(inner, memref.GetGlobalOp | memref.AllocOp | memref.SubviewOp):
                raise DiagnosticException(f"convert-memref-to-llvm: {inner.name} is not "
                                          "supported (sparsec buffers are views)")
