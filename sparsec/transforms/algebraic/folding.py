"""Folding: constant folding, and the graph-level rewrites every inference compiler does
(batch norm, scales and biases folded into the preceding conv/linear; consecutive linear
layers merged).

Constant folding evaluates with numpy here, not through the interpreter (transforms do
not depend on it), and only ops whose result every correct implementation agrees on:
IEEE add/sub/mul/div/sqrt (correctly rounded), min/max/abs/neg/relu/clamp, and data
movement. Those are exact. libm functions (exp, tanh, pow, ...) and reductions (whose
sum order is the backend's) are left alone.

Folding into weights multiplies or adds constants into w and b ahead of time, so the
product or sum is rounded at a different point than at run time: rounding-changing. The
one exact case is adding a bias to a conv/linear that has none: the reference adds the
bias after the sum, exactly what the separate add did.
"""

from __future__ import annotations

import numpy as np
from xdsl.pattern_rewriter import PatternRewriter, op_type_rewrite_pattern

from sparsec.dialects import nn
from sparsec.dialects.nn.base import numel, values_of
from sparsec.dialects.nn.constant import INLINE_LIMIT

from .base import (
    AlgebraicRule,
    commuted,
    constant_of,
    defining,
    dtype,
    new_constant,
    resource_key_of,
    shape,
    single_use,
)

# --- constant folding -------------------------------------------------------------------

ELEMENTWISE = {
    nn.AddOp: np.add, nn.SubOp: np.subtract, nn.MulOp: np.multiply, nn.DivOp: np.divide,
    nn.MaxOp: np.maximum, nn.MinOp: np.minimum, nn.NegOp: np.negative, nn.AbsOp: np.abs,
    nn.ReluOp: lambda x: np.maximum(x, 0), nn.SqrtOp: np.sqrt,
    nn.ReciprocalOp: lambda x: 1 / x, nn.RsqrtOp: lambda x: 1 / np.sqrt(x),
}
"""Float element-wise ops whose IEEE result is unique, with the formula the reference
semantics use."""


def evaluate(op: nn.NNOperation, args: list[np.ndarray]) -> np.ndarray | None:
    """op applied to constant arguments, or None when it is not an op folded here."""
    if type(op) in ELEMENTWISE:
        if any(a.dtype.kind != "f" for a in args):
            return None
        return ELEMENTWISE[type(op)](*args)
    (x, *_) = args
    if isinstance(op, nn.ClampOp) and x.dtype.kind == "f":
        low, high = x.dtype.type(op.min.value.data), x.dtype.type(op.max.value.data)
        return np.minimum(np.maximum(x, low), high)
    if isinstance(op, nn.TransposeOp):
        return np.transpose(x, values_of(op.permutation))
    if isinstance(op, nn.ReshapeOp):
        return x.reshape(shape(op.result))
    if isinstance(op, nn.ExpandOp):
        return np.broadcast_to(x, shape(op.result))
    if isinstance(op, nn.SliceOp):
        bounds = zip(values_of(op.start), values_of(op.end), values_of(op.step), strict=True)
        return x[tuple(slice(a, b, s) for a, b, s in bounds)]
    if isinstance(op, nn.ConcatOp):
        return np.concatenate(args, axis=op.axis.value.data)
    if isinstance(op, nn.PadOp):
        widths = list(zip(values_of(op.low), values_of(op.high), strict=True))
        return np.pad(x, widths, constant_values=op.value.value.data)
    return None


class FoldConstant(AlgebraicRule):
    """op(constants) -> constant"""

    # Never grows the weights: the folded constant is at most as big as the constants
    # that die with the op (or small enough to print inline).
    EXACT = True

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: nn.NNOperation, rewriter: PatternRewriter):
        if isinstance(op, nn.ConstantOp) or not op.operands:
            return
        args = [constant_of(v) for v in op.operands]
        if any(a is None for a in args):
            return
        with np.errstate(all="ignore"):
            value = evaluate(op, args)  # type: ignore[arg-type]
        if value is None:
            return
        value = np.asarray(value)
        if value.dtype != dtype(op.result) or value.shape != shape(op.result):
            return
        dying = {id(v): v for v in op.operands if all(u.operation is op for u in v.uses)}
        if value.size > max(INLINE_LIMIT, sum(numel(shape(v)) for v in dying.values())):
            return
        base = next(filter(None, map(resource_key_of, op.operands)), "folded")
        constant = new_constant(op, value, f"{base}_{op.name.removeprefix('nn.')}")
        constant.result.name_hint = op.result.name_hint or constant.result.name_hint
        rewriter.replace(op, [constant])


# --- folding into conv / linear ---------------------------------------------------------

WeightedOp = nn.Conv2dOp | nn.LinearOp


def channel_axis(producer: WeightedOp) -> int:
    """The axis of the producer's result that indexes its output channels (the rows of
    its weight)."""
    return 1 if isinstance(producer, nn.Conv2dOp) else len(shape(producer.result)) - 1


def per_channel(c: np.ndarray, producer: WeightedOp) -> np.ndarray | None:
    """c as one value per output channel, when c broadcasts against the producer's
    result along the channel axis only; None otherwise."""
    out = shape(producer.result)
    if c.ndim > len(out):
        return None
    full = c.reshape((1,) * (len(out) - c.ndim) + c.shape)
    axis = channel_axis(producer)
    if any(d != 1 for i, d in enumerate(full.shape) if i != axis):
        return None
    if full.shape[axis] not in (1, out[axis]):
        return None
    return np.broadcast_to(full.reshape(-1), (out[axis],))


def weights_of(producer: WeightedOp) -> tuple[np.ndarray, np.ndarray | None] | None:
    """The producer's constant weight and bias (None when it has none); None if either
    is not a constant."""
    weight = constant_of(producer.weight)
    if weight is None or weight.dtype.kind != "f":
        return None
    if producer.bias is None:
        return weight, None
    bias = constant_of(producer.bias)
    return None if bias is None else (weight, bias)


def rebuild(producer: WeightedOp, weight: np.ndarray | None,
            bias: np.ndarray | None) -> list[nn.NNOperation]:
    """A copy of the producer with a new constant weight (None: keep its weight) and a
    new constant bias (None: no bias), preceded by the new constants."""
    key = resource_key_of(producer.weight)
    ops: list[nn.NNOperation] = []
    w = producer.weight
    if weight is not None:
        ops.append(new_constant(producer, weight, f"{key}_folded" if key else "folded_weight"))
        w = ops[-1].results[0]
    b = None
    if bias is not None:
        name = f"{key}_folded_bias" if key else "folded_bias"
        ops.append(new_constant(producer, bias.astype(dtype(producer.weight)), name))
        b = ops[-1].results[0]
    if isinstance(producer, nn.Conv2dOp):
        ops.append(nn.Conv2dOp(producer.input, w, b, stride=values_of(producer.stride),
                               padding=values_of(producer.padding),
                               dilation=values_of(producer.dilation),
                               groups=producer.groups.value.data))
    else:
        ops.append(nn.LinearOp(producer.input, w, b))
    return ops


def rows(weight: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """scale[o] broadcast over weight row o."""
    return scale.reshape((-1,) + (1,) * (weight.ndim - 1))


class FoldBatchNormIntoWeights(AlgebraicRule):
    """batch_norm(conv(x, w, b)) -> conv(x, w*a, (b - mean)*a + beta), a = scale/sqrt(var+eps)"""

    # Also linear over [N, C] (batch norm's channel axis is 1, a linear's features).
    EXACT = False

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: nn.BatchNormOp, rewriter: PatternRewriter):
        producer = defining(op.input, WeightedOp)
        if producer is None or not single_use(producer) or channel_axis(producer) != 1:
            return
        stats = [constant_of(v) for v in (op.scale, op.bias, op.mean, op.var)]
        weights = weights_of(producer)
        if weights is None or any(s is None for s in stats):
            return
        weight, bias = weights
        scale, beta, mean, var = (s.astype(np.float64) for s in stats)  # type: ignore[union-attr]
        alpha = scale / np.sqrt(var + op.epsilon.value.data)
        old_bias = np.zeros_like(mean) if bias is None else bias.astype(np.float64)
        new_weight = (weight * rows(weight, alpha)).astype(weight.dtype)
        new_bias = ((old_bias - mean) * alpha + beta).astype(weight.dtype)
        rewriter.replace(op, rebuild(producer, new_weight, new_bias))


class FoldMulIntoWeights(AlgebraicRule):
    """mul(conv(x, w, b), c) -> conv(x, w*c, b*c), c constant per output channel"""

    EXACT = False  # (also linear)

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: nn.MulOp, rewriter: PatternRewriter):
        for produced, factor in commuted(op):
            producer = defining(produced, WeightedOp)
            c = constant_of(factor)
            if producer is None or c is None or not single_use(producer):
                continue
            scale = per_channel(c, producer)
            weights = weights_of(producer)
            if scale is None or weights is None or op.result.type != produced.type:
                continue
            weight, bias = weights
            new_weight = (weight * rows(weight, scale)).astype(weight.dtype)
            new_bias = None if bias is None else (bias * scale).astype(weight.dtype)
            rewriter.replace(op, rebuild(producer, new_weight, new_bias))
            return


def bias_term(op: nn.AddOp | nn.SubOp) -> tuple[WeightedOp, np.ndarray] | None:
    """For add(conv, c), add(c, conv) or sub(conv, c) with c constant per output
    channel: the conv/linear and what to add to its bias (c, or -c for sub)."""
    orders = commuted(op) if isinstance(op, nn.AddOp) else ((op.lhs, op.rhs),)
    for produced, term in orders:
        producer = defining(produced, WeightedOp)
        c = constant_of(term)
        if producer is None or c is None or not single_use(producer):
            continue
        shift = per_channel(c, producer)
        if shift is None or op.result.type != produced.type or c.dtype != dtype(produced):
            continue
        return producer, (shift if isinstance(op, nn.AddOp) else -shift)
    return None


class FoldAddIntoMissingBias(AlgebraicRule):
    """add(conv(x, w), c) -> conv(x, w, c), c constant per output channel"""

    # Exact: the reference adds the bias after the sum, as the add did. (Also sub, and
    # linear.)
    EXACT = True

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: nn.AddOp | nn.SubOp, rewriter: PatternRewriter):
        found = bias_term(op)
        if found is None or found[0].bias is not None:
            return
        producer, shift = found
        rewriter.replace(op, rebuild(producer, None, shift.copy()))


class FoldAddIntoBias(AlgebraicRule):
    """add(conv(x, w, b), c) -> conv(x, w, b + c), c constant per output channel"""

    EXACT = False  # (y + b) + c becomes y + (b + c). (Also sub, and linear.)

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: nn.AddOp | nn.SubOp, rewriter: PatternRewriter):
        found = bias_term(op)
        if found is None or found[0].bias is None:
            return
        producer, shift = found
        bias = constant_of(producer.bias)
        if bias is None:
            return
        rewriter.replace(op, rebuild(producer, None, bias + shift))


class MergeLinears(AlgebraicRule):
    """linear(linear(x, w1, b1), w2, b2) -> linear(x, w2 @ w1, w2 @ b1 + b2)"""

    # Only when the merged layer costs fewer FLOPs: 2·m·k·o against 2·m·h·(k + o) for
    # m rows, k inputs, h hidden and o outputs (plus the bias adds).
    EXACT = False

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: nn.LinearOp, rewriter: PatternRewriter):
        inner = defining(op.input, nn.LinearOp)
        if inner is None or not single_use(inner):
            return
        first, second = weights_of(inner), weights_of(op)
        if first is None or second is None:
            return
        (w1, b1), (w2, b2) = first, second
        merged_w = w2.astype(np.float64) @ w1.astype(np.float64)
        merged_b = None
        if b1 is not None or b2 is not None:
            merged_b = np.zeros(w2.shape[0])
            if b1 is not None:
                merged_b += w2.astype(np.float64) @ b1.astype(np.float64)
            if b2 is not None:
                merged_b += b2
        out = numel(shape(op.result))
        merged_flops = 2 * out * w1.shape[1] + (out if merged_b is not None else 0)
        if merged_flops >= inner.flops() + op.flops():
            return
        merged_b = None if merged_b is None else merged_b.astype(w2.dtype)
        rewriter.replace(op, rebuild(inner, merged_w.astype(w2.dtype), merged_b))


RULES = (FoldConstant, FoldBatchNormIntoWeights, FoldMulIntoWeights, FoldAddIntoMissingBias,
         FoldAddIntoBias, MergeLinears)
