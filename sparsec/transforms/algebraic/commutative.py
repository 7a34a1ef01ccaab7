"""Commutative rules: two operators trade places, so the element-wise one runs on the
smaller, reduced tensor.

DNNFusion's plain commutative rule A⊙B -> B⊙A saves nothing by itself and is not a
rewrite here: every rule matches the commutative variants of its pattern instead
(`base.commuted`). Table 4's other two commutative rules need ops the nn dialect does
not have (BitShift, ReduceProd); these are their counterparts on float tensors:

- ReduceSum(BitShift(A)) -> BitShift(ReduceSum(A)): a left shift is a multiplication by
  2^k, so `ScaleOutOfReduction` pulls any constant scale out of a sum.
- ReduceProd(Exp(A)) -> Exp(ReduceSum(A)): `ProductOfExps` is the identity for two
  factors; `OutOfReduceMax` / `OutOfMaxPool` move a monotone op past a max.

Exactness: max commutes exactly with relu and clamp (min/max with constants). numpy's
float32 exp, tanh and sigmoid are not monotone in the last ulp (an exhaustive sweep of
float32 finds 19245 adjacent pairs where exp decreases), so moving them past a max can
change the result by an ulp: those variants are marked rounding-changing.
"""

from __future__ import annotations

from typing import ClassVar

from xdsl.ir import SSAValue
from xdsl.pattern_rewriter import PatternRewriter, op_type_rewrite_pattern

from sparsec.dialects import nn
from sparsec.dialects.nn.base import values_of

from .base import (
    AlgebraicRule,
    broadcasts_to,
    commuted,
    constant_of,
    defining,
    new_constant,
    resource_key_of,
    shape,
)


class ScaleOutOfReduction(AlgebraicRule):
    """reduce_sum(mul(x, c)) -> mul(reduce_sum(x), c), c constant along the reduced axes"""

    # Also reduce_mean. Σ(x·c) and c·Σx round differently (even for c = 2^k, overflow
    # and underflow differ), so not exact.
    EXACT = False

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: nn.ReduceSumOp | nn.ReduceMeanOp,
                          rewriter: PatternRewriter):
        if (mul := defining(op.input, nn.MulOp)) is None:
            return
        axes, keep = op.normalized_axes(), bool(op.keepdim.value.data)
        for x, factor in commuted(mul):
            c = constant_of(factor)
            if c is None or x.type != mul.result.type:
                continue
            full = c.reshape((1,) * (len(shape(x)) - c.ndim) + c.shape)
            if any(full.shape[axis] != 1 for axis in axes):
                continue
            reduced = type(op)(x, values_of(op.axes), keep)
            if keep or c.ndim == 0:
                rewriter.replace(op, [reduced, nn.MulOp(reduced.result, factor)])
                return
            kept = full.reshape([d for i, d in enumerate(full.shape) if i not in axes])
            key = resource_key_of(factor) or "scale"
            scale = new_constant(op, kept, f"{key}_reduced")
            rewriter.replace(op, [reduced, scale, nn.MulOp(reduced.result, scale.result)])
            return


def like(f: nn.NNOperation, value: SSAValue) -> nn.NNOperation:
    """The unary op `f`, with the same properties, applied to `value`."""
    if isinstance(f, nn.ClampOp):
        return nn.ClampOp(value, f.min.value.data, f.max.value.data)
    return type(f)(value)


class MonotoneOutOfReduceMax(AlgebraicRule):
    """reduce_max(f(x)) -> f(reduce_max(x)), f = relu or clamp"""

    EXACT = True
    MONOTONE: ClassVar[tuple[type[nn.NNOperation], ...]] = (nn.ReluOp, nn.ClampOp)

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: nn.ReduceMaxOp, rewriter: PatternRewriter):
        f = defining(op.input, self.MONOTONE)
        if f is None:
            return
        reduced = nn.ReduceMaxOp(f.input, values_of(op.axes), bool(op.keepdim.value.data))
        rewriter.replace(op, [reduced, like(f, reduced.result)])


class ExpOutOfReduceMax(MonotoneOutOfReduceMax):
    """reduce_max(f(x)) -> f(reduce_max(x)), f = exp, sigmoid or tanh"""

    EXACT = False  # monotone in exact arithmetic, not quite in libm's float32
    MONOTONE = (nn.ExpOp, nn.SigmoidOp, nn.TanhOp)


class MonotoneOutOfMaxPool(AlgebraicRule):
    """max_pool2d(f(x)) -> f(max_pool2d(x)), f = relu or clamp"""

    # The -inf padding never wins either way: without dilation every window holds an
    # input cell (padding is at most half the kernel).
    EXACT = True
    MONOTONE: ClassVar[tuple[type[nn.NNOperation], ...]] = (nn.ReluOp, nn.ClampOp)

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: nn.MaxPool2dOp, rewriter: PatternRewriter):
        f = defining(op.input, self.MONOTONE)
        if f is None or values_of(op.dilation) != (1, 1):
            return
        pooled = nn.MaxPool2dOp(f.input, values_of(op.kernel), values_of(op.stride),
                                values_of(op.padding), values_of(op.dilation),
                                bool(op.ceil_mode.value.data))
        rewriter.replace(op, [pooled, like(f, pooled.result)])


class ExpOutOfMaxPool(MonotoneOutOfMaxPool):
    """max_pool2d(f(x)) -> f(max_pool2d(x)), f = exp, sigmoid or tanh"""

    EXACT = False  # monotone in exact arithmetic, not quite in libm's float32
    MONOTONE = (nn.ExpOp, nn.SigmoidOp, nn.TanhOp)


class ProductOfExps(AlgebraicRule):
    """mul(exp(a), exp(b)) -> exp(add(a, b))"""

    EXACT = False  # rounds differently, and overflows where the product did not

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: nn.MulOp, rewriter: PatternRewriter):
        left, right = defining(op.lhs, nn.ExpOp), defining(op.rhs, nn.ExpOp)
        if left is None or right is None:
            return
        if not broadcasts_to(op.result, left.input, right.input):
            return
        total = nn.AddOp(left.input, right.input)
        rewriter.replace(op, [total, nn.ExpOp(total.result)])


RULES = (ScaleOutOfReduction, MonotoneOutOfReduceMax, ExpOutOfReduceMax, MonotoneOutOfMaxPool,
         ExpOutOfMaxPool, ProductOfExps)
