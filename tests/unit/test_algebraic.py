"""The `algebraic` pass's cost model, its greedy order, and the rule registry.

Semantics of every rule are in tests/property/test_algebraic.py; the IR they produce in
tests/filecheck/transforms/algebraic/.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable

import numpy as np
import pytest
from xdsl.builder import ImplicitBuilder
from xdsl.context import Context
from xdsl.dialects import func
from xdsl.dialects.builtin import ModuleOp, TensorType, f32
from xdsl.ir import Block, Region, SSAValue
from xdsl.pattern_rewriter import (
    GreedyRewritePatternApplier,
    PatternRewriter,
    PatternRewriteWalker,
    op_type_rewrite_pattern,
)
from xdsl.utils.arg_spec import parse_pipeline

from sparsec.dialects import nn
from sparsec.transforms.algebraic import (
    ALL_RULES,
    AlgebraicPass,
    AlgebraicRule,
    enabled_rules,
    rewrite_greedily,
)
from sparsec.transforms.algebraic import associative as assoc
from sparsec.transforms.algebraic import commutative as comm
from sparsec.transforms.algebraic import distributive as dist
from sparsec.transforms.algebraic import strength as sr
from sparsec.transforms.algebraic.cost import WEIGHT, Cost, op_cost, paper_flops, total_cost
from sparsec.transforms.algebraic.greedy import propose, subgraphs
from sparsec.universe import all_passes

_keys = itertools.count()


def module(shapes: list[tuple[int, ...]], body: Callable[..., SSAValue]) -> ModuleOp:
    types = [TensorType(f32, s) for s in shapes]
    block = Block(arg_types=types)
    with ImplicitBuilder(block):
        result = body(*block.args)
        func.ReturnOp(result)
    return ModuleOp([func.FuncOp("main", (types, [result.type]), Region(block))])


def v(op_class, *args, **kwargs) -> SSAValue:
    return op_class(*args, **kwargs).results[0]


def const(array) -> SSAValue:
    return v(nn.ConstantOp.from_array, np.asarray(array, np.float32), f"c{next(_keys)}")


def ops_of(m: ModuleOp, kind=nn.NNOperation) -> list:
    return [op for op in m.walk() if isinstance(op, kind)]


def names(m: ModuleOp) -> list[str]:
    return [op.name for op in ops_of(m) if not isinstance(op, nn.ConstantOp)]


# --- the cost model ---------------------------------------------------------------------


def test_cost_counts_weighted_flops_then_distinct_elements_read():
    m = module([(2, 3), (3,)], lambda x, y: v(nn.DivOp, v(nn.MulOp, x, x), v(nn.PowOp, y, y)))
    mul, pow_, div = ops_of(m, (nn.MulOp, nn.PowOp, nn.DivOp))
    assert op_cost(mul) == Cost(flops=6, reads=6)  # x is read once
    assert op_cost(pow_) == Cost(flops=3 * WEIGHT[nn.PowOp], reads=3)
    assert op_cost(div) == Cost(flops=6 * WEIGHT[nn.DivOp], reads=6 + 3)


def test_constants_cost_nothing_and_contractions_keep_their_flops():
    def body(x):
        return v(nn.Conv2dOp, x, const(np.ones((4, 3, 3, 3))), const(np.zeros(4)))

    m = module([(1, 3, 5, 5)], body)
    (conv,) = ops_of(m, nn.Conv2dOp)
    assert op_cost(conv).flops == conv.flops() == 2 * 4 * 3 * 3 * (3 * 3 * 3) + 4 * 3 * 3
    assert all(op_cost(c) == Cost() for c in ops_of(m, nn.ConstantOp))


def test_costs_compare_flops_first_then_reads():
    assert Cost(1, 1000) < Cost(2, 0)
    assert Cost(0, 1) > Cost()
    assert Cost(5, 7) - Cost(2, 3) == Cost(3, 4)


# --- Table 4: the paper's FLOP counts before and after each representative rule ---------

M, N = 3, 5  # an m x n matrix; reductions run along the innermost dim


def row_1(a, b):
    return v(nn.MulOp, v(nn.ReciprocalOp, a), v(nn.ReciprocalOp, v(nn.MulOp, a, b)))


def row_2(a, b, c):
    b = const(np.full((M, N), 2.0))  # a constant: b >= 0 is known, and it costs nothing
    return v(nn.MulOp, v(nn.MulOp, a, v(nn.SqrtOp, b)), v(nn.MulOp, v(nn.SqrtOp, b), c))


def row_3(a, b, c):
    return v(nn.MulOp, v(nn.MulOp, v(nn.AbsOp, a), b), v(nn.AbsOp, c))


def row_4(a, b, c):
    def reduce_sum():
        return v(nn.ReduceSumOp, b, [-1], True)

    return v(nn.MulOp, v(nn.MulOp, a, reduce_sum()), v(nn.MulOp, reduce_sum(), c))


def row_5(a, b, c):
    return v(nn.AddOp, v(nn.MulOp, a, c), v(nn.MulOp, a, b))


def row_6(a, b):
    return v(nn.AddOp, a, v(nn.MulOp, a, b))


def row_7(a, b, c):
    s1, s2 = v(nn.AddOp, a, b), v(nn.AddOp, a, b)
    return v(nn.SubOp, v(nn.MulOp, s1, s1), v(nn.MulOp, s2, c))


def bit_shift_row(a):  # ReduceSum(BitShift(A)), a shift being a multiplication by 2^k
    return v(nn.ReduceSumOp, v(nn.MulOp, a, const(4.0)), [-1], True)


def exp_row(a):  # ReduceProd(Exp(A)); the dialect has reduce_max, not reduce_prod
    return v(nn.ReduceMaxOp, v(nn.ExpOp, a), [-1], True)


mn, m = M * N, M
TABLE_4 = [
    # (build, inputs, rule, #FLOPs before, #FLOPs after), as printed in Table 4
    (row_1, 2, assoc.RecipOfProduct, 4 * mn, 4 * mn),
    (row_2, 3, assoc.SqrtPairProduct, 5 * mn, 2 * mn),
    (row_3, 3, assoc.AbsPairProduct, 4 * mn, 3 * mn),
    (row_4, 3, assoc.RepeatedFactor, 5 * mn, 3 * mn + m),
    (row_5, 3, dist.FactorCommonMultiplicand, 3 * mn, 2 * mn),
    (row_6, 2, dist.FactorOutOperand, 2 * mn, 2 * mn),
    (row_7, 3, dist.FactorCommonMultiplicand, 5 * mn, 3 * mn),
    (bit_shift_row, 1, comm.ScaleOutOfReduction, 2 * mn, mn + m),
    (exp_row, 1, comm.ExpOutOfReduceMax, 2 * mn, mn + m),
]


@pytest.mark.parametrize(("build", "inputs", "rule", "before", "after"), TABLE_4,
                         ids=[row[0].__name__ for row in TABLE_4])
def test_table_4_flop_counts(build, inputs, rule, before, after):
    m_ = module([(M, N)] * inputs, build)
    assert sum(paper_flops(op) for op in m_.walk()) == before
    applied = rewrite_greedily(m_, [rule()])
    assert [a.rule for a in applied] == [rule.__name__]
    assert sum(paper_flops(op) for op in m_.walk()) == after


# --- the greedy scheme ------------------------------------------------------------------


def test_subgraphs_are_cut_at_ops_without_properties():
    def body(x, y):
        a = v(nn.MulOp, x, y)
        b = v(nn.AddOp, a, x)
        r = v(nn.ReluOp, b)  # no property: a cut
        t = v(nn.TransposeOp, r, [1, 0])  # another cut
        return v(nn.SubOp, v(nn.ExpOp, t), v(nn.MulOp, t, t))

    m = module([(2, 2), (2, 2)], body)
    groups = [[op.name for op in group] for group in subgraphs(m)]
    assert groups == [["nn.mul", "nn.add"], ["nn.relu"], ["nn.transpose"],
                      ["nn.exp", "nn.mul", "nn.sub"]]


def sqrt_pair_module() -> ModuleOp:
    """(a⊙√b)⊙(√b⊙c), b = |x|: SqrtPairProduct and RepeatedFactor both match the root."""
    def body(a, x, c):
        root = v(nn.SqrtOp, v(nn.AbsOp, x))
        return v(nn.MulOp, v(nn.MulOp, a, root), v(nn.MulOp, root, c))

    return module([(4,)] * 3, body)


@pytest.mark.parametrize("rules", [[assoc.SqrtPairProduct, assoc.RepeatedFactor],
                                   [assoc.RepeatedFactor, assoc.SqrtPairProduct]])
def test_the_largest_saving_goes_first_whatever_the_rule_order(rules):
    m = sqrt_pair_module()
    root = m.body.block.first_op.body.block.last_op.operands[0].owner
    savings = {type(p.rule).__name__: p.saving
               for rule in rules if (p := propose(rule(), root)) is not None}
    assert savings["SqrtPairProduct"] > savings["RepeatedFactor"]
    applied = rewrite_greedily(m, [rule() for rule in rules])
    assert [a.rule for a in applied] == ["SqrtPairProduct"]
    assert names(m) == ["nn.abs", "nn.mul", "nn.mul"]


def test_xdsl_first_match_order_would_pick_the_smaller_saving():
    """What the greedy driver is for: xDSL's applier takes the first pattern that matches,
    so listing RepeatedFactor first keeps both square roots' work (one sqrt, 3 muls)."""
    m = sqrt_pair_module()
    walker = PatternRewriteWalker(GreedyRewritePatternApplier(
        [assoc.RepeatedFactor(), assoc.SqrtPairProduct()]))
    walker.rewrite_module(m)
    assert names(m) == ["nn.abs", "nn.sqrt", "nn.mul", "nn.mul", "nn.mul"]


def test_matches_in_one_subgraph_are_applied_largest_saving_first():
    def body(x, y):  # two x*1 in one subgraph; the 4x4 one saves more
        small = v(nn.MulOp, y, const(1.0))
        big = v(nn.MulOp, const(1.0), x)
        return v(nn.AddOp, small, big)

    m = module([(4, 4), (4,)], body)
    applied = rewrite_greedily(m, [sr.MulByOne()])
    assert [a.saving.flops for a in applied] == [16, 4]
    assert names(m) == ["nn.add"]


def test_rewrites_that_save_nothing_are_not_applied():
    def body(a, b, c):  # a*b is returned too, so a*(b + c) would not save a multiply
        ab = v(nn.MulOp, a, b)
        return v(nn.SubOp, v(nn.AddOp, ab, v(nn.MulOp, a, c)), ab)

    m = module([(4,)] * 3, body)
    before = str(m)
    assert rewrite_greedily(m, [dist.FactorCommonMultiplicand()]) == []
    assert str(m) == before


def test_pricing_a_rewrite_leaves_the_module_untouched():
    m = sqrt_pair_module()
    before = str(m)
    uses = [len(list(r.uses)) for op in m.walk() for r in op.results]
    for op in ops_of(m):
        for rule in enabled_rules(reassociate=True):
            propose(rule, op)
    assert str(m) == before
    assert [len(list(r.uses)) for op in m.walk() for r in op.results] == uses


def test_each_rewrite_lowers_the_module_cost_by_its_saving():
    def body(x, y):
        e = v(nn.ExpOp, x)
        p = v(nn.PowOp, v(nn.DivOp, y, const(4.0)), const(2.0))
        t = v(nn.TransposeOp, v(nn.TransposeOp, v(nn.AddOp, v(nn.MulOp, e, p), v(nn.MulOp, e, y)),
                                [1, 0]), [1, 0])
        return v(nn.MulOp, v(nn.NegOp, t), v(nn.NegOp, const(np.ones((3, 2)))))

    m = module([(3, 2), (3, 2)], body)
    before = total_cost(m.walk())
    applied = rewrite_greedily(m, enabled_rules(reassociate=True))
    assert len(applied) >= 5
    saved = sum((a.saving for a in applied), Cost())
    assert total_cost(m.walk()) == before - saved


def test_rules_may_only_replace():
    class EraseInstead(AlgebraicRule):
        """neg(x) -> nothing (a broken rule)"""

        EXACT = True

        @op_type_rewrite_pattern
        def match_and_rewrite(self, op: nn.NegOp, rewriter: PatternRewriter):
            rewriter.erase(op)

    m = module([(4,)], lambda x: v(nn.NegOp, x))
    with pytest.raises(TypeError, match="rewriter.replace only"):
        propose(EraseInstead(), ops_of(m, nn.NegOp)[0])


# --- the pass and its rules -------------------------------------------------------------


def test_pass_is_registered_with_its_option():
    assert all_passes()["algebraic"]() is AlgebraicPass
    (spec,) = parse_pipeline("algebraic{reassociate=true}")
    assert AlgebraicPass.from_spec(spec) == AlgebraicPass(reassociate=True)
    (spec,) = parse_pipeline("algebraic")
    assert AlgebraicPass.from_spec(spec).reassociate is False


def test_exact_rules_run_by_default_the_others_only_with_reassociate():
    default = {type(r) for r in enabled_rules(reassociate=False)}
    assert default == {r for r in ALL_RULES if r.EXACT}
    assert {type(r) for r in enabled_rules(reassociate=True)} == set(ALL_RULES)
    assert sr.DivByPowerOfTwo in default and sr.DivByConstant not in default


def test_every_rule_states_its_identity():
    assert len({r.__name__ for r in ALL_RULES}) == len(ALL_RULES)
    for rule in ALL_RULES:
        assert " -> " in rule.identity(), rule.__name__
        assert isinstance(rule.EXACT, bool), rule.__name__


def test_the_pass_rewrites_only_exactly_without_the_option():
    def body(a, b, c):
        return v(nn.AddOp, v(nn.MulOp, a, b), v(nn.MulOp, a, v(nn.MulOp, c, const(1.0))))

    m = module([(4,)] * 3, body)
    AlgebraicPass().apply(Context(), m)
    assert names(m) == ["nn.mul", "nn.mul", "nn.add"]  # only c*1 went
    AlgebraicPass(reassociate=True).apply(Context(), m)
    assert names(m) == ["nn.add", "nn.mul"]


def test_dead_code_is_left_to_dce():
    def body(x):
        v(nn.MulOp, x, const(1.0))  # unused: rewriting it would save nothing
        return v(nn.NegOp, x)

    m = module([(4,)], body)
    assert rewrite_greedily(m, [sr.MulByOne()]) == []
