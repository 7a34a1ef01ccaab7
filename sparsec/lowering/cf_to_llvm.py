"""`convert-cf-to-llvm`: unstructured control flow becomes llvm branches.

    cf.br ^bb1(%x : i64)                 -> llvm.br ^bb1(%x : i64)
    cf.cond_br %c, ^bb1(%x : i64), ^bb2  -> llvm.cond_br %c, ^bb1(%x : i64), ^bb2
"""

from __future__ import annotations

from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects import cf, llvm
from xdsl.dialects.builtin import ModuleOp
from xdsl.passes import ModulePass
from xdsl.pattern_rewriter import (
    GreedyRewritePatternApplier,
    PatternRewriter,
    PatternRewriteWalker,
    RewritePattern,
    op_type_rewrite_pattern,
)
from xdsl.utils.exceptions import DiagnosticException


class BranchPattern(RewritePattern):
    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: cf.BranchOp, rewriter: PatternRewriter, /):
        rewriter.replace(op, llvm.BrOp(op.successor, *op.arguments))


class CondBranchPattern(RewritePattern):
    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: cf.ConditionalBranchOp, rewriter: PatternRewriter, /):
        rewriter.replace(op, llvm.CondBrOp(op.cond, op.then_block, op.then_arguments,
                                           op.else_block, op.else_arguments))


@dataclass(frozen=True)
class ConvertCfToLLVMPass(ModulePass):
    name = "convert-cf-to-llvm"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        PatternRewriteWalker(GreedyRewritePatternApplier([BranchPattern(), CondBranchPattern()]),
                             apply_recursively=False).rewrite_module(op)
        for inner in op.walk():
            if inner.dialect_name() == "cf":
                raise DiagnosticException(f"convert-cf-to-llvm: {inner.name} is not supported")
