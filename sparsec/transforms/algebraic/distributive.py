"""Distributive rules: factor a common operand out of a sum or difference.

DNNFusion Table 4's three representative rules (papers.md §1.5), and the same law for
the other ops the nn dialect says distribute over add/sub (`DISTRIBUTES_OVER`): div from
the right, matmul, conv/linear in their weights, and reduce_sum. ab + ac and a(b + c)
round differently, so none is exact.
"""

from __future__ import annotations

from xdsl.pattern_rewriter import PatternRewriter, op_type_rewrite_pattern

from sparsec.dialects import nn
from sparsec.dialects.nn.base import values_of

from .base import (
    AlgebraicRule,
    broadcasts_to,
    commuted,
    defining,
    same_value,
    scalar_constant,
)

SumOrDifference = nn.AddOp | nn.SubOp


class FactorCommonMultiplicand(AlgebraicRule):
    """add(mul(a, b), mul(a, c)) -> mul(a, add(b, c))"""

    # Table 4, row 5 (3mn -> 2mn; the paper prints the result as (A+B)⊙C, a typo for
    # A⊙(B+C)), Figure 2(b). With sub it is row 7: Square(A+B) - (A+B)⊙C, where the
    # square is mul(s, s) and the two A+B are equal ops, becomes (A+B)⊙((A+B) - C).
    EXACT = False

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: SumOrDifference, rewriter: PatternRewriter):
        left, right = defining(op.lhs, nn.MulOp), defining(op.rhs, nn.MulOp)
        if left is None or right is None:
            return
        for a, b in commuted(left):
            for other_a, c in commuted(right):
                if not same_value(a, other_a) or not broadcasts_to(op.result, a, b, c):
                    continue
                combined = type(op)(b, c)
                rewriter.replace(op, [combined, nn.MulOp(a, combined.result)])
                return


class FactorOutOperand(AlgebraicRule):
    """add(a, mul(a, b)) -> mul(a, add(b, 1))"""

    # Table 4, row 6: FLOPs unchanged (2mn); a is read once instead of twice.
    EXACT = False

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: nn.AddOp, rewriter: PatternRewriter):
        for a, product in commuted(op):
            if (mul := defining(product, nn.MulOp)) is None:
                continue
            for other_a, b in commuted(mul):
                if not same_value(a, other_a) or not broadcasts_to(op.result, a, b):
                    continue
                one = scalar_constant(1.0, b, "one")
                b_plus_one = nn.AddOp(b, one.result)
                rewriter.replace(op, [one, b_plus_one, nn.MulOp(a, b_plus_one.result)])
                return


class FactorCommonDivisor(AlgebraicRule):
    """add(div(a, c), div(b, c)) -> div(add(a, b), c)"""

    EXACT = False  # (also sub)

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: SumOrDifference, rewriter: PatternRewriter):
        left, right = defining(op.lhs, nn.DivOp), defining(op.rhs, nn.DivOp)
        if left is None or right is None or not same_value(left.rhs, right.rhs):
            return
        if not broadcasts_to(op.result, left.lhs, right.lhs, left.rhs):
            return
        combined = type(op)(left.lhs, right.lhs)
        rewriter.replace(op, [combined, nn.DivOp(combined.result, left.rhs)])


class FactorCommonMatmulOperand(AlgebraicRule):
    """add(matmul(a, b), matmul(a, c)) -> matmul(a, add(b, c))"""

    # Also the right factor, matmul(b, a) + matmul(c, a) -> matmul(b + c, a), and sub.
    # b and c must have one type, so that their sum does not broadcast.
    EXACT = False

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: SumOrDifference, rewriter: PatternRewriter):
        left, right = defining(op.lhs, nn.MatmulOp), defining(op.rhs, nn.MatmulOp)
        if left is None or right is None or left.result.type != right.result.type:
            return
        if left.result.type != op.result.type:
            return
        if same_value(left.lhs, right.lhs) and left.rhs.type == right.rhs.type:
            combined = type(op)(left.rhs, right.rhs)
            rewriter.replace(op, [combined, nn.MatmulOp(left.lhs, combined.result)])
        elif same_value(left.rhs, right.rhs) and left.lhs.type == right.lhs.type:
            combined = type(op)(left.lhs, right.lhs)
            rewriter.replace(op, [combined, nn.MatmulOp(combined.result, left.rhs)])


class FactorCommonConvInput(AlgebraicRule):
    """add(conv(x, w1, b1), conv(x, w2, b2)) -> conv(x, add(w1, w2), add(b1, b2))"""

    # conv and linear are linear in their weights. Also linear, and sub. With constant
    # weights the new adds fold away (FoldConstant).
    EXACT = False

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: SumOrDifference, rewriter: PatternRewriter):
        left = defining(op.lhs, nn.Conv2dOp | nn.LinearOp)
        right = defining(op.rhs, nn.Conv2dOp | nn.LinearOp)
        if left is None or right is None or left.name != right.name:
            return
        if not same_value(left.input, right.input) or left.properties != right.properties:
            return
        if left.weight.type != right.weight.type or left.result.type != op.result.type:
            return
        combine = type(op)
        weight = combine(left.weight, right.weight)
        ops: list[nn.NNOperation] = [weight]
        if left.bias is not None and right.bias is not None:
            ops.append(combine(left.bias, right.bias))
            bias = ops[-1].results[0]
        elif right.bias is not None and combine is nn.SubOp:
            ops.append(nn.NegOp(right.bias))
            bias = ops[-1].results[0]
        else:
            bias = left.bias if left.bias is not None else right.bias
        if isinstance(left, nn.Conv2dOp):
            ops.append(nn.Conv2dOp(left.input, weight.result, bias,
                                   stride=values_of(left.stride),
                                   padding=values_of(left.padding),
                                   dilation=values_of(left.dilation),
                                   groups=left.groups.value.data))
        else:
            ops.append(nn.LinearOp(left.input, weight.result, bias))
        rewriter.replace(op, ops)


class MergeReduceSums(AlgebraicRule):
    """add(reduce_sum(a), reduce_sum(b)) -> reduce_sum(add(a, b))"""

    EXACT = False  # (also sub)

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: SumOrDifference, rewriter: PatternRewriter):
        left, right = defining(op.lhs, nn.ReduceSumOp), defining(op.rhs, nn.ReduceSumOp)
        if left is None or right is None or left.properties != right.properties:
            return
        if left.input.type != right.input.type or left.result.type != op.result.type:
            return
        combined = type(op)(left.input, right.input)
        reduced = nn.ReduceSumOp(combined.result, values_of(left.axes),
                                 bool(left.keepdim.value.data))
        rewriter.replace(op, [combined, reduced])


RULES = (FactorCommonMultiplicand, FactorOutOperand, FactorCommonDivisor,
         FactorCommonMatmulOperand, FactorCommonConvInput, MergeReduceSums)
