"""Strength reduction: identities that drop an op or trade it for a cheaper one.

Exactness, rule by rule, in IEEE float arithmetic: x*1, x-0, x/1 and x+0 return x (for
x = -0, x+0 is +0: equal as a value, not in its sign bit); x*(-1) is -x; division by c
and multiplication by 1/c round the same real number when 1/c is exact (c = ±2^k);
x + (-y) is x - y by definition. pow goes through libm (numpy's `power`): pow(x, 1) is x
for every float32 (checked exhaustively), but pow(x, 2) is only within an ulp of x*x,
so the other pow rules change results.
"""

from __future__ import annotations

import numpy as np
from xdsl.pattern_rewriter import PatternRewriter, op_type_rewrite_pattern

from sparsec.dialects import nn

from .base import (
    AlgebraicRule,
    commuted,
    constant_of,
    defining,
    is_float,
    new_constant,
    non_negative,
    resource_key_of,
    scalar_constant,
    shape,
    splat_of,
)


class MulByOne(AlgebraicRule):
    """mul(x, 1) -> x"""

    EXACT = True

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: nn.MulOp, rewriter: PatternRewriter):
        for x, one in commuted(op):
            if splat_of(one) == 1.0 and x.type == op.result.type:
                rewriter.replace(op, [], [x])
                return


class MulByMinusOne(AlgebraicRule):
    """mul(x, -1) -> neg(x)"""

    EXACT = True

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: nn.MulOp, rewriter: PatternRewriter):
        for x, minus_one in commuted(op):
            if splat_of(minus_one) == -1.0 and x.type == op.result.type:
                rewriter.replace(op, [nn.NegOp(x)])
                return


class AddZero(AlgebraicRule):
    """add(x, 0) -> x"""

    EXACT = True  # equal values; (-0) + (+0) is +0, so a -0 in x keeps its sign instead

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: nn.AddOp, rewriter: PatternRewriter):
        for x, zero in commuted(op):
            if splat_of(zero) == 0.0 and x.type == op.result.type:
                rewriter.replace(op, [], [x])
                return


class SubZero(AlgebraicRule):
    """sub(x, 0) -> x"""

    EXACT = True

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: nn.SubOp, rewriter: PatternRewriter):
        if splat_of(op.rhs) == 0.0 and op.lhs.type == op.result.type:
            rewriter.replace(op, [], [op.lhs])


class DivByOne(AlgebraicRule):
    """div(x, 1) -> x"""

    EXACT = True

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: nn.DivOp, rewriter: PatternRewriter):
        if splat_of(op.rhs) == 1.0 and op.lhs.type == op.result.type:
            rewriter.replace(op, [], [op.lhs])


def exact_reciprocal(c: np.ndarray) -> bool:
    """Is 1/c exact in c's dtype for every element (c = ±2^k with 2^-k representable)?"""
    wide = c.astype(np.float64)
    with np.errstate(divide="ignore"):
        reciprocal = (1 / wide).astype(c.dtype).astype(np.float64)
    return bool(np.all(np.isfinite(reciprocal)) and np.all(reciprocal * wide == 1))


class DivByConstant(AlgebraicRule):
    """div(x, c) -> mul(x, 1/c)"""

    EXACT = False  # x/c rounds once; x*(1/c) rounds 1/c, then the product

    def reciprocal_is_acceptable(self, c: np.ndarray) -> bool:
        return True

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: nn.DivOp, rewriter: PatternRewriter):
        c = constant_of(op.rhs)
        if c is None or c.dtype.kind != "f" or not self.reciprocal_is_acceptable(c):
            return
        with np.errstate(divide="ignore"):
            reciprocal = (1 / c.astype(np.float64)).astype(c.dtype)
        key = resource_key_of(op.rhs) or "divisor"
        constant = new_constant(op, reciprocal, f"{key}_reciprocal")
        rewriter.replace(op, [constant, nn.MulOp(op.lhs, constant.result)])


class DivByPowerOfTwo(DivByConstant):
    """div(x, 2^k) -> mul(x, 2^-k)"""

    EXACT = True  # both round the same real number x * 2^-k

    def reciprocal_is_acceptable(self, c: np.ndarray) -> bool:
        return exact_reciprocal(c)


class SqrtTimesSqrt(AlgebraicRule):
    """mul(sqrt(x), sqrt(x)) -> x, for x >= 0"""

    # sqrt(x)^2 is within an ulp or two of x. For x < 0 it would turn NaN into x, so
    # the rule needs a proof that x is not negative.
    EXACT = False

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: nn.MulOp, rewriter: PatternRewriter):
        left, right = defining(op.lhs, nn.SqrtOp), defining(op.rhs, nn.SqrtOp)
        if left is None or right is None or left.input is not right.input:
            return
        x = left.input
        if x.type == op.result.type and non_negative(x):
            rewriter.replace(op, [], [x])


def integer_exponent(op: nn.PowOp) -> int | None:
    """The exponent, when pow raises its base to one integer and keeps its shape."""
    exponent = splat_of(op.rhs)
    if exponent is None or not float(exponent).is_integer() or not is_float(op.lhs):
        return None
    if op.lhs.type != op.result.type:
        return None
    return int(exponent)


class PowZero(AlgebraicRule):
    """pow(x, 0) -> 1"""

    # C99 (F.9.4.4) makes pow(x, ±0) 1 for every x, NaN included, but numpy's pow gives
    # NaN for the 2^23 - 2 signalling NaNs (found by an exhaustive float32 sweep). So
    # not exact, strictly; for every other input it is.
    EXACT = False

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: nn.PowOp, rewriter: PatternRewriter):
        if integer_exponent(op) != 0:
            return
        one = scalar_constant(1.0, op.lhs, "one")
        if not shape(op.result):
            rewriter.replace(op, [one])
            return
        rewriter.replace(op, [one, nn.ExpandOp(one.result, shape(op.result))])


class PowOne(AlgebraicRule):
    """pow(x, 1) -> x"""

    EXACT = True

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: nn.PowOp, rewriter: PatternRewriter):
        if integer_exponent(op) == 1:
            rewriter.replace(op, [], [op.lhs])


class PowTwo(AlgebraicRule):
    """pow(x, 2) -> mul(x, x)"""

    EXACT = False  # x*x is the correctly rounded square; libm's pow is within an ulp

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: nn.PowOp, rewriter: PatternRewriter):
        if integer_exponent(op) == 2:
            rewriter.replace(op, [nn.MulOp(op.lhs, op.lhs)])


class PowSmallInteger(AlgebraicRule):
    """pow(x, n) -> x*...*x, reciprocal of it for n < 0 (n = 3, 4, -1, ..., -4)"""

    EXACT = False

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: nn.PowOp, rewriter: PatternRewriter):
        n = integer_exponent(op)
        if n is None or n not in (3, 4, -1, -2, -3, -4):
            return
        x = op.lhs
        ops: list[nn.NNOperation] = []
        if abs(n) >= 2:
            ops.append(nn.MulOp(x, x))
        if abs(n) == 3:
            ops.append(nn.MulOp(ops[-1].results[0], x))
        if abs(n) == 4:
            ops.append(nn.MulOp(ops[-1].results[0], ops[-1].results[0]))
        if n < 0:
            ops.append(nn.ReciprocalOp(ops[-1].results[0] if ops else x))
        rewriter.replace(op, ops)


class NegOfNeg(AlgebraicRule):
    """neg(neg(x)) -> x"""

    EXACT = True

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: nn.NegOp, rewriter: PatternRewriter):
        inner = defining(op.input, nn.NegOp)
        if inner is not None:
            rewriter.replace(op, [], [inner.input])


class AddOfNeg(AlgebraicRule):
    """add(x, neg(y)) -> sub(x, y)"""

    EXACT = True  # x - y is defined as x + (-y)

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: nn.AddOp, rewriter: PatternRewriter):
        for x, negated in commuted(op):
            if (neg := defining(negated, nn.NegOp)) is not None:
                rewriter.replace(op, [nn.SubOp(x, neg.input)])
                return


class SubOfNeg(AlgebraicRule):
    """sub(x, neg(y)) -> add(x, y)"""

    EXACT = True

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: nn.SubOp, rewriter: PatternRewriter):
        if (neg := defining(op.rhs, nn.NegOp)) is not None:
            rewriter.replace(op, [nn.AddOp(op.lhs, neg.input)])


class NegTimesNeg(AlgebraicRule):
    """mul(neg(x), neg(y)) -> mul(x, y)"""

    EXACT = True  # rounding is symmetric in sign

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: nn.MulOp, rewriter: PatternRewriter):
        left, right = defining(op.lhs, nn.NegOp), defining(op.rhs, nn.NegOp)
        if left is not None and right is not None:
            rewriter.replace(op, [nn.MulOp(left.input, right.input)])


RULES = (MulByOne, MulByMinusOne, AddZero, SubZero, DivByOne, DivByPowerOfTwo, DivByConstant,
         SqrtTimesSqrt, PowZero, PowOne, PowTwo, PowSmallInteger, NegOfNeg, AddOfNeg, SubOfNeg,
         NegTimesNeg)
