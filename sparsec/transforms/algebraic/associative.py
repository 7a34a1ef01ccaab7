"""Associative rules: DNNFusion Table 4's four representative rules (papers.md §1.5).

Regrouping a product rounds its partial products differently, so none is exact. Each
rule matches every commutative variant of its pattern (operands of every mul in either
order), which is how the paper's "first swap by commutativity, then apply
associativity" (†) happens here.
"""

from __future__ import annotations

from collections.abc import Iterator

from xdsl.ir import SSAValue
from xdsl.pattern_rewriter import PatternRewriter, op_type_rewrite_pattern

from sparsec.dialects import nn

from .base import (
    AlgebraicRule,
    broadcasts_to,
    commuted,
    defining,
    non_negative,
    same_value,
)


def three_factors(op: nn.MulOp) -> Iterator[tuple[SSAValue, SSAValue, SSAValue]]:
    """(x, y, z) for op = mul(mul(x, y), z), over every operand order of both muls."""
    for product, z in commuted(op):
        if (inner := defining(product, nn.MulOp)) is not None:
            for x, y in commuted(inner):
                yield x, y, z


def paired_factors(op: nn.MulOp) -> Iterator[tuple[SSAValue, SSAValue, SSAValue, SSAValue]]:
    """(a, u, v, c) for op = mul(mul(a, u), mul(v, c)), over every operand order."""
    left, right = defining(op.lhs, nn.MulOp), defining(op.rhs, nn.MulOp)
    if left is None or right is None:
        return
    for a, u in commuted(left):
        for c, v in commuted(right):
            yield a, u, v, c


class RecipOfProduct(AlgebraicRule):
    """mul(recip(a), recip(mul(a, b))) -> mul(mul(recip(a), recip(a)), recip(b))"""

    # Table 4, row 1 and Figure 2(a): FLOPs unchanged (4mn); a is read once, not twice.
    EXACT = False

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: nn.MulOp, rewriter: PatternRewriter):
        for recip_a, recip_ab in commuted(op):
            first = defining(recip_a, nn.ReciprocalOp)
            second = defining(recip_ab, nn.ReciprocalOp)
            if first is None or second is None:
                continue
            product = defining(second.input, nn.MulOp)
            if product is None:
                continue
            for a, b in commuted(product):
                if not same_value(a, first.input) or not broadcasts_to(op.result, a, b):
                    continue
                recip_b = nn.ReciprocalOp(b)
                square = nn.MulOp(recip_a, recip_a)
                rewriter.replace(op, [recip_b, square, nn.MulOp(square.result, recip_b.result)])
                return


class SqrtPairProduct(AlgebraicRule):
    """mul(mul(a, sqrt(b)), mul(sqrt(b), c)) -> mul(mul(a, b), c), for b >= 0"""

    # Table 4, row 2 (5mn -> 2mn). For b < 0 the original is NaN, so the rule needs a
    # proof that b is not negative (the paper does not say).
    EXACT = False

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: nn.MulOp, rewriter: PatternRewriter):
        for a, u, v, c in paired_factors(op):
            first, second = defining(u, nn.SqrtOp), defining(v, nn.SqrtOp)
            if first is None or second is None or first.input is not second.input:
                continue
            b = first.input
            if not non_negative(b) or not broadcasts_to(op.result, a, b, c):
                continue
            ab = nn.MulOp(a, b)
            rewriter.replace(op, [ab, nn.MulOp(ab.result, c)])
            return


class AbsPairProduct(AlgebraicRule):
    """mul(mul(abs(a), b), abs(c)) -> mul(abs(mul(a, c)), b)"""

    # Table 4, row 3 (4mn -> 3mn). Any two abs factors of a three-factor product.
    EXACT = False

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: nn.MulOp, rewriter: PatternRewriter):
        for x, y, z in three_factors(op):
            for first, second, rest in ((x, z, y), (x, y, z)):
                abs_a, abs_c = defining(first, nn.AbsOp), defining(second, nn.AbsOp)
                if abs_a is None or abs_c is None:
                    continue
                if not broadcasts_to(op.result, abs_a.input, abs_c.input, rest):
                    continue
                ac = nn.MulOp(abs_a.input, abs_c.input)
                magnitude = nn.AbsOp(ac.result)
                rewriter.replace(op, [ac, magnitude, nn.MulOp(magnitude.result, rest)])
                return


class RepeatedFactor(AlgebraicRule):
    """mul(mul(a, u), mul(u, c)) -> mul(mul(a, mul(u, u)), c)"""

    # Table 4, row 4, with u = ReduceSum(B) (5mn -> 3mn + m): squaring the small u
    # once replaces a full-size multiply. u may be one value or two equal ops.
    EXACT = False

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: nn.MulOp, rewriter: PatternRewriter):
        for a, u, v, c in paired_factors(op):
            if not same_value(u, v) or not broadcasts_to(op.result, a, u, c):
                continue
            square = nn.MulOp(u, u)
            au = nn.MulOp(a, square.result)
            rewriter.replace(op, [square, au, nn.MulOp(au.result, c)])
            return


RULES = (RecipOfProduct, SqrtPairProduct, AbsPairProduct, RepeatedFactor)
