"""Layout rules: transposes and reshapes that cancel or merge. They move data without
arithmetic, so every one is exact."""

from __future__ import annotations

from xdsl.pattern_rewriter import PatternRewriter, op_type_rewrite_pattern

from sparsec.dialects import nn
from sparsec.dialects.nn.base import values_of

from .base import AlgebraicRule, defining, shape


class TransposeOfTranspose(AlgebraicRule):
    """transpose(transpose(x, p), q) -> transpose(x, p∘q)"""

    # p∘q[i] = p[q[i]]. When that is the identity the result is x itself: the pair
    # cancels in one step (a separate identity-removal step would first have to create
    # a transpose that saves nothing when the inner one has other users).
    EXACT = True

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: nn.TransposeOp, rewriter: PatternRewriter):
        inner = defining(op.input, nn.TransposeOp)
        if inner is None:
            return
        p, q = values_of(inner.permutation), values_of(op.permutation)
        composed = [p[i] for i in q]
        if composed == sorted(composed):
            rewriter.replace(op, [], [inner.input])
            return
        rewriter.replace(op, [nn.TransposeOp(inner.input, composed)])


class IdentityTranspose(AlgebraicRule):
    """transpose(x, [0, 1, ..., n-1]) -> x"""

    EXACT = True

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: nn.TransposeOp, rewriter: PatternRewriter):
        permutation = list(values_of(op.permutation))
        if permutation == sorted(permutation):
            rewriter.replace(op, [], [op.input])


class ReshapeOfReshape(AlgebraicRule):
    """reshape(reshape(x, s), t) -> reshape(x, t)"""

    EXACT = True  # (x itself when t is x's shape)

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: nn.ReshapeOp, rewriter: PatternRewriter):
        inner = defining(op.input, nn.ReshapeOp)
        if inner is None:
            return
        if inner.input.type == op.result.type:
            rewriter.replace(op, [], [inner.input])
            return
        rewriter.replace(op, [nn.ReshapeOp(inner.input, shape(op.result))])


class IdentityReshape(AlgebraicRule):
    """reshape(x, shape of x) -> x"""

    EXACT = True

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: nn.ReshapeOp, rewriter: PatternRewriter):
        if op.input.type == op.result.type:
            rewriter.replace(op, [], [op.input])


RULES = (TransposeOfTranspose, IdentityTranspose, ReshapeOfReshape, IdentityReshape)
