"""`convert-func-to-llvm`: functions, calls and returns become their llvm forms.

    func.func @main(%a: !llvm.ptr) {...}          -> llvm.func @main(...) (external linkage)
    func.func private @conv2d_0(%a: !llvm.ptr)   -> llvm.func internal @conv2d_0
    func.func private @GOMP_parallel(...)        -> an external declaration
    func.call @f(%a) {sparsec.parallel = 2}      -> llvm.call @f(%a) {sparsec.parallel = 2}
    func.return                                   -> llvm.return

Argument attributes (`llvm.noalias`, ...) carry over, and `sparsec.noinline` becomes the
llvm.func `no_inline` property. Functions with more than one result are rejected. Run
last, after every body op is in the llvm dialect.
"""

from __future__ import annotations

from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects import func, llvm
from xdsl.dialects.builtin import ModuleOp, UnitAttr
from xdsl.passes import ModulePass
from xdsl.pattern_rewriter import (
    GreedyRewritePatternApplier,
    PatternRewriter,
    PatternRewriteWalker,
    RewritePattern,
    op_type_rewrite_pattern,
)
from xdsl.rewriter import Rewriter
from xdsl.utils.exceptions import DiagnosticException

from .llvm_builder import llvm_type

NO_INLINE = "sparsec.noinline"
"""A func.func attribute: keep calls to this function out of line (llvm.func no_inline)."""


def _result(types) -> object:
    types = list(types)
    if len(types) > 1:
        raise DiagnosticException("convert-func-to-llvm: functions with several results are "
                                  "not supported")
    return llvm_type(types[0]) if types else llvm.LLVMVoidType()


class FuncPattern(RewritePattern):
    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: func.FuncOp, rewriter: PatternRewriter, /):
        inputs = [llvm_type(t) for t in op.function_type.inputs]
        function_type = llvm.LLVMFunctionType(inputs, _result(op.function_type.outputs))
        declaration = not op.body.blocks
        private = op.sym_visibility is not None and op.sym_visibility.data == "private"
        linkage = "external" if declaration or not private else "internal"
        body = Rewriter.move_region_contents_to_new_regions(op.body)
        new = llvm.FuncOp(op.sym_name.data, function_type, llvm.LinkageAttr(linkage), body=body)
        if op.arg_attrs is not None:
            new.properties["arg_attrs"] = op.arg_attrs
        if NO_INLINE in op.attributes:
            new.properties["no_inline"] = UnitAttr()
        rewriter.replace(op, new)


class CallPattern(RewritePattern):
    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: func.CallOp, rewriter: PatternRewriter, /):
        result = _result(r.type for r in op.results)
        call = llvm.CallOp(op.callee, *op.arguments,
                           return_type=None if isinstance(result, llvm.LLVMVoidType) else result)
        call.attributes.update(op.attributes)
        rewriter.replace(op, call)


class ReturnPattern(RewritePattern):
    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: func.ReturnOp, rewriter: PatternRewriter, /):
        _result([v.type for v in op.arguments])
        rewriter.replace(op, llvm.ReturnOp(op.arguments[0] if op.arguments else None))


@dataclass(frozen=True)
class ConvertFuncToLLVMPass(ModulePass):
    name = "convert-func-to-llvm"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        PatternRewriteWalker(GreedyRewritePatternApplier([
            CallPattern(), ReturnPattern(),
        ]), apply_recursively=False).rewrite_module(op)
        PatternRewriteWalker(FuncPattern(), apply_recursively=False).rewrite_module(op)
