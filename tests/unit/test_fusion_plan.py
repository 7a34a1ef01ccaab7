"""The fusion planner (DNNFusion Listing 1) on small graphs, and what outlining makes of it."""

import numpy as np
import pytest
from xdsl.utils.exceptions import DiagnosticException

from sparsec.dialects import nn
from sparsec.dialects.nn import MappingType
from sparsec.dialects.nn.builder import FunctionBuilder as Fn
from sparsec.interpreters import interpret
from sparsec.textio import print_module
from sparsec.transforms.fusion import Budget, FusePass, fuse, fusion_report, plan_module
from sparsec.transforms.fusion.graph import Ecg, build_ecg, fusion_mapping
from sparsec.transforms.fusion.outline import extract_group
from sparsec.transforms.fusion.plan import Outcome, _Partition, plan_block, register_need
from sparsec.transforms.fusion.table import Colour

O2O = MappingType.ONE_TO_ONE
O2M = MappingType.ONE_TO_MANY
M2M = MappingType.MANY_TO_MANY


def conv(f, x, cout=None, bias=False):
    cin = x.type.get_shape()[1]
    cout = cout or cin
    b = f.const((cout,), 0.1) if bias else None
    return f(nn.Conv2dOp(x, f.const((cout, cin, 3, 3), 0.05), b, padding=(1, 1)))


def plan_of(module, **kwargs):
    (plan,) = plan_module(module, **kwargs)
    return plan


def names(plan):
    return [[op.name.removeprefix("nn.") for op in g.ops] for g in plan.groups]


def outcomes(plan, candidate):
    return [(d.colour, d.outcome) for d in plan.decisions if d.candidate.name == candidate]


def fused_ops(module):
    return [op for op in module.walk() if isinstance(op, nn.FusedOp)]


def check_fuse_preserves_semantics(module, *inputs):
    """Outline, verify, and compare the interpreter bit for bit."""
    before = interpret(module, *inputs)
    fuse(module)
    module.verify()
    after = interpret(module, *inputs)
    assert all(a.tobytes() == b.tobytes() for a, b in zip(before, after, strict=True))


SHAPE = (1, 4, 6, 6)


def random_inputs(module, seed=0):
    rng = np.random.default_rng(seed)
    function = module.ops.first
    return [rng.standard_normal(t.get_shape()).astype(np.float32)
            for t in function.function_type.inputs.data]


# --- the paper's Figure 3 ---------------------------------------------------------------


def figure_3():
    """GEMM -> Add -> Conv -> Relu -> Mul -> Sub: Add, Relu, Mul, Sub are One-to-One with
    equal intermediate sizes, Conv and GEMM Many-to-Many. GEMM is nn.linear over the last
    dim (ONNX Gemm), so every tensor has the same shape."""
    f = Fn(SHAPE, SHAPE, SHAPE, SHAPE)
    x, y, z, u = f.args
    gemm = f(nn.LinearOp(x, f.const((6, 6), 0.1)))
    add = f(nn.AddOp(gemm, y))
    relu = f(nn.ReluOp(conv(f, add)))
    sub = f(nn.SubOp(f(nn.MulOp(relu, z)), u))
    return f.module(sub)


def test_figure_3_block_forms_and_gemm_stays_out():
    plan = plan_of(figure_3())
    assert names(plan) == [["add", "conv2d", "relu", "mul", "sub"]]
    (group,) = plan.groups
    assert group.seed.name == "nn.add"  # equal sizes: the first One-to-One op seeds
    assert group.mapping is M2M
    assert outcomes(plan, "nn.linear") == [(Colour.RED, Outcome.RED)]  # M2M then M2M


def test_figure_3_outlined():
    module = figure_3()
    check_fuse_preserves_semantics(module, *random_inputs(module))
    (fused,) = fused_ops(module)
    assert fused.mapping.data == "many-to-many"
    assert [op.name for op in fused.body.block.ops] == [
        "nn.add", "nn.conv2d", "nn.relu", "nn.mul", "nn.sub", "nn.yield"]
    report = fusion_report(module)
    assert (report.layers_before, report.layers_after) == (6, 2)
    assert report.bytes_before - report.bytes_after == 4 * 576  # add, conv, relu, mul


# --- patterns the paper says TVM cannot fuse ----------------------------------------------


def test_conv_relu_concat_is_one_group():
    f = Fn(SHAPE, SHAPE)
    x, y = f.args
    cat = f(nn.ConcatOp([f(nn.ReluOp(conv(f, x, bias=True))), y], axis=1))
    module = f.module(cat)
    plan = plan_of(module)
    assert names(plan) == [["conv2d", "relu", "concat"]]
    assert plan.groups[0].mapping is M2M
    check_fuse_preserves_semantics(module, *random_inputs(module))


def gpt2_projection():
    """MatMul + Reshape + Transpose + Add: a GPT-2 attention head split."""
    f = Fn((1, 8, 16), (1, 2, 8, 8))
    x, y = f.args
    mm = f(nn.MatmulOp(x, f.const((16, 16), 0.1)))
    heads = f(nn.TransposeOp(f(nn.ReshapeOp(mm, (1, 8, 2, 8))), (0, 2, 1, 3)))
    return f.module(f(nn.AddOp(heads, y)))


def test_matmul_reshape_transpose_add_without_profiling():
    """Many-to-Many -> Reorganize is a yellow cell: without profiling it breaks, so the
    matmul stays out of {Reshape, Transpose, Add}, a Reorganize group."""
    plan = plan_of(gpt2_projection())
    assert names(plan) == [["reshape", "transpose", "add"]]
    assert plan.groups[0].mapping is MappingType.REORGANIZE
    assert outcomes(plan, "nn.matmul") == [(Colour.YELLOW, Outcome.YELLOW)]


class Oracle:
    """A stand-in for the runtime's timer: every kernel costs the same (fusion pays),
    or its cost grows with the square of its size (fusion does not pay)."""

    def __init__(self, fusion_pays: bool):
        self.fusion_pays = fusion_pays
        self.asked = []

    def latency(self, ops):
        self.asked.append(tuple(op.name for op in ops))
        return 1.0 if self.fusion_pays else float(len(ops) ** 2)


def test_matmul_reshape_transpose_add_with_profiling():
    module = gpt2_projection()
    oracle = Oracle(fusion_pays=True)
    plan = plan_of(module, oracle=oracle)
    assert names(plan) == [["matmul", "reshape", "transpose", "add"]]
    assert plan.groups[0].mapping is M2M
    assert ("nn.matmul", "nn.reshape", "nn.transpose", "nn.add") in oracle.asked
    slow = plan_of(gpt2_projection(), oracle=Oracle(fusion_pays=False))
    assert names(slow) == [["reshape", "transpose", "add"]]
    assert outcomes(slow, "nn.matmul") == [(Colour.YELLOW, Outcome.SLOWER)]
    x, y = random_inputs(module)
    before = interpret(module, x, y)
    fuse(module, oracle=oracle)
    module.verify()
    assert interpret(module, x, y)[0].tobytes() == before[0].tobytes()
    assert len(fused_ops(module)) == 1


def test_sub_pow_reducemean_add_sqrt_is_one_group():
    """TinyBERT's variance: the exponent and epsilon are weights, so Pow and Add stay
    One-to-One (graph.fusion_mapping) and the chain is green all along."""
    f = Fn((1, 8, 16), (1, 8, 16))
    x, mean = f.args
    d = f(nn.PowOp(f(nn.SubOp(x, mean)), f.const((), 2.0)))
    var = f(nn.ReduceMeanOp(d, [-1], keepdim=True))
    std = f(nn.SqrtOp(f(nn.AddOp(var, f.const((), 1e-5)))))
    module = f.module(std)
    plan = plan_of(module)
    assert names(plan) == [["sub", "pow", "reduce_mean", "add", "sqrt"]]
    assert plan.groups[0].seed.name == "nn.add"  # the smallest One-to-One result
    check_fuse_preserves_semantics(module, *random_inputs(module))
    (fused,) = fused_ops(module)
    assert len(fused.inputs) == 2  # the two scalars are cloned into the region


def test_whole_decomposed_layer_norm_splits_where_the_table_says():
    """With the mean computed in the graph, x - mean broadcasts an intermediate result:
    Sub is One-to-Many and Sub -> ReduceMean is red; Many-to-Many -> One-to-Many (the
    division's broadcast) is red from the other side. Two groups, two ops left."""
    f = Fn((1, 8, 16))
    (x,) = f.args
    d = f(nn.SubOp(x, f(nn.ReduceMeanOp(x, [-1], keepdim=True))))
    var = f(nn.ReduceMeanOp(f(nn.PowOp(d, f.const((), 2.0))), [-1], keepdim=True))
    y = f(nn.DivOp(d, f(nn.SqrtOp(f(nn.AddOp(var, f.const((), 1e-5)))))))
    module = f.module(y)
    assert names(plan_of(module)) == [["pow", "reduce_mean"], ["add", "sqrt", "div"]]
    check_fuse_preserves_semantics(module, *random_inputs(module))


# --- convexity ---------------------------------------------------------------------------


def test_residual_diamond_that_would_close_a_cycle_is_split():
    """relu feeds conv1 and, around conv1 -> conv2, the add. {relu, add} would both feed
    conv2 (through conv1) and consume it: the add is refused and seeds its own group.
    (relu cannot be conv1's prologue either: its value is also the add's operand, and
    the convolution's packing loop stores nothing.)"""
    f = Fn(SHAPE)
    (x,) = f.args
    a = f(nn.ReluOp(x))
    c2 = conv(f, conv(f, a))
    module = f.module(f(nn.AddOp(a, c2)))
    plan = plan_of(module)
    assert names(plan) == [["conv2d", "add"]]
    assert (Colour.GREEN, Outcome.PROLOGUE) in outcomes(plan, "nn.conv2d")
    assert (Colour.GREEN, Outcome.CYCLE) in outcomes(plan, "nn.add")
    check_fuse_preserves_semantics(module, *random_inputs(module))


def test_two_groups_that_would_feed_each_other_are_refused():
    """With B = {q, b1} and A = {p, a1}, adding a2 to A keeps A convex on its own (no
    path leaves {p, a1, a2} and comes back), but A -> B (a1 -> b1) and B -> A (b2 -> a2
    with q -> b2) would feed each other: a cycle only the whole partition shows."""
    p, q, a1, b1, b2, a2 = range(6)  # a topological order, as block order is
    edges = [(p, a1), (p, a2), (a1, b1), (q, b1), (q, b2), (b2, a2)]
    preds = tuple(tuple(s for s, d in edges if d == n) for n in range(6))
    succs = tuple(tuple(d for s, d in edges if s == n) for n in range(6))
    ecg = Ecg(None, tuple(range(6)), preds, succs, (O2O,) * 6, (4,) * 6, {})
    partition = _Partition(ecg)
    for g, h in [(q, b1), (p, a1)]:
        assert partition.can_merge(g, h)
        partition.merge(g, h)
    assert not partition.can_merge(p, a2)
    assert partition.can_merge(q, b2)
    partition.merge(q, b2)
    assert not partition.can_merge(p, a2)
    assert not partition.can_merge(a2, p)


def test_outlining_moves_an_operator_when_a_group_spans_it():
    """The group {relu, conv, add} feeds u (a red conv) and reads x, but u comes before x
    in the block: the fused op must follow x and precede u, so an operator moves."""
    f = Fn(SHAPE, SHAPE)
    x0, y0 = f.args
    c1 = conv(f, f(nn.ReluOp(x0)))
    u = conv(f, c1)
    x = f(nn.LinearOp(y0, f.const((6, 6), 0.2)))
    module = f.module(f(nn.AddOp(c1, x)), u)
    assert names(plan_of(module)) == [["relu", "conv2d", "add"]]
    check_fuse_preserves_semantics(module, *random_inputs(module))
    body = [op.name for op in module.ops.first.body.block.ops]
    assert body.index("nn.linear") < body.index("nn.fused") < body.index("nn.conv2d")


# --- red and yellow cells ----------------------------------------------------------------


def test_conv_conv_is_left_alone():
    f = Fn(SHAPE)
    module = f.module(conv(f, conv(f, f.args[0])))
    text = print_module(module)
    assert plan_of(module).groups == ()
    fuse(module)
    assert print_module(module) == text


def test_red_one_to_many_then_many_to_many_breaks():
    """relu -> expand -> conv: the group is One-to-Many after the expand; Expand -> Conv is
    red."""
    f = Fn((1, 1, 6, 6))
    e = f(nn.ExpandOp(f(nn.ReluOp(f.args[0])), SHAPE))
    module = f.module(conv(f, e))
    plan = plan_of(module)
    assert names(plan) == [["relu", "expand"]]
    assert plan.groups[0].mapping is O2M
    assert outcomes(plan, "nn.conv2d") == [(Colour.RED, Outcome.RED)]


def test_red_many_to_many_group_meets_many_to_many():
    """conv1 -> relu -> conv2: relu seeds and takes conv2 (green, a prologue); the group
    is then Many-to-Many and conv1 before it is red."""
    f = Fn(SHAPE)
    module = f.module(conv(f, f(nn.ReluOp(conv(f, f.args[0])))))
    plan = plan_of(module)
    assert names(plan) == [["relu", "conv2d"]]
    assert [d.outcome for d in plan.decisions] == [Outcome.FUSED, Outcome.RED]


def yellow_graph():
    f = Fn(SHAPE)
    t = f(nn.TransposeOp(conv(f, f(nn.ReluOp(f.args[0]))), (0, 1, 3, 2)))
    return f.module(t)


def test_yellow_breaks_without_profiling():
    plan = plan_of(yellow_graph())
    assert names(plan) == [["relu", "conv2d"]]
    assert outcomes(plan, "nn.transpose") == [(Colour.YELLOW, Outcome.YELLOW)]


def test_yellow_fuses_when_the_oracle_says_it_pays():
    plan = plan_of(yellow_graph(), oracle=Oracle(fusion_pays=True))
    assert names(plan) == [["relu", "conv2d", "transpose"]]


def test_pass_refuses_profile_true_without_an_oracle():
    with pytest.raises(DiagnosticException, match="no cost oracle"):
        FusePass(profile=True).apply(None, yellow_graph())


# --- seeds, budget, weights --------------------------------------------------------------


def test_the_smallest_one_to_one_result_seeds_first():
    """A squeeze-excitation tail: sigmoid (16 bytes) seeds before relu (576 bytes)."""
    f = Fn(SHAPE)
    r = f(nn.ReluOp(f.args[0]))
    s = f(nn.SigmoidOp(f(nn.ReduceSumOp(r, [2, 3], keepdim=True))))
    module = f.module(f(nn.MulOp(r, s)))
    plan = plan_of(module)
    assert plan.decisions[0].seed.name == "nn.sigmoid"
    assert names(plan) == [["relu", "reduce_sum"], ["sigmoid", "mul"]]
    assert plan.groups[1].mapping is O2M  # r * s broadcasts s: One-to-Many
    check_fuse_preserves_semantics(module, *random_inputs(module))


def test_weights_broadcast_without_making_an_op_one_to_many():
    f = Fn(SHAPE, (1, 4, 1, 1))
    x, s = f.args
    bias = f(nn.AddOp(x, f.const((1, 4, 1, 1), 0.5)))
    scaled = f(nn.MulOp(bias, s))
    f.module(scaled)
    assert bias.owner.mapping_type() is O2M  # Table 2, as the dialect states it
    assert fusion_mapping(bias.owner) is O2O  # fusion crosses only the x edge
    assert fusion_mapping(scaled.owner) is O2M  # s is an intermediate result


def test_max_ops_caps_groups():
    module = figure_3()
    capped = plan_of(module, budget=Budget(max_ops=3))
    assert names(capped) == [["add", "conv2d", "relu"], ["mul", "sub"]]
    assert (Colour.GREEN, Outcome.BUDGET) in outcomes(capped, "nn.mul")
    FusePass(max_ops=1).apply(None, module)
    assert fused_ops(module) == []


def test_too_many_tensors_for_the_pointer_registers():
    """A concat of 12 arguments reads 12 tensors and writes 1: over the 12 base pointers,
    so the relu that feeds it stays alone."""
    f = Fn(*[SHAPE] * 12)
    cat = f(nn.ConcatOp([f(nn.ReluOp(f.args[0])), *f.args[1:]], axis=1))
    module = f.module(cat)
    assert outcomes(plan_of(module), "nn.concat") == [(Colour.GREEN, Outcome.BUDGET)]
    assert plan_of(module, budget=Budget(pointer_registers=13)).groups


def test_register_need_counts_the_accumulator_tile():
    ecg = build_ecg(figure_3().ops.first.body.block)
    index = {op.name: i for i, op in enumerate(ecg.ops)}
    budget = Budget()
    assert register_need(ecg, [index["nn.add"]], budget) == 2
    assert register_need(ecg, [index["nn.add"], index["nn.conv2d"]], budget) == 14
    small = plan_of(figure_3(), budget=Budget(vector_registers=13))
    assert names(small) == [["relu", "mul", "sub"]]  # no Many-to-Many op fits any more


def test_planning_does_not_change_the_module():
    module = figure_3()
    text = print_module(module)
    plan_block(build_ecg(module.ops.first.body.block))
    assert print_module(module) == text


def test_extract_group_builds_what_an_oracle_times():
    module = figure_3()
    (group,) = plan_of(module).groups
    text = print_module(module)
    single = extract_group(group.ops, group.mapping)
    assert print_module(module) == text
    single.verify()
    function = single.ops.first
    assert [op.name for op in function.body.block.ops] == ["nn.constant", "nn.fused",
                                                          "func.return"]
    x, y, z, u = random_inputs(module)
    gemm = np.matmul(x, np.full((6, 6), 0.1, np.float32).T)  # the group's input
    np.testing.assert_allclose(interpret(single, gemm, y, z, u)[0],
                               interpret(module, x, y, z, u)[0], rtol=1e-5, atol=1e-6)


def test_fuse_is_idempotent_on_figure_3():
    module = figure_3()
    fuse(module)
    text = print_module(module)
    fuse(module)
    assert print_module(module) == text


def test_element_wise_input_of_a_linear_joins_the_producer_instead():
    """linear -> relu -> linear: relu seeds; the second linear would take it as a
    prologue, which the GEMM kernel cannot apply (the group would be two kernels), so
    relu joins the first linear as its epilogue."""
    f = Fn((2, 8))
    x = f(nn.LinearOp(f.args[0], f.const((8, 8), 0.1)))
    module = f.module(f(nn.LinearOp(f(nn.ReluOp(x)), f.const((8, 8), 0.1))))
    plan = plan_of(module)
    assert names(plan) == [["linear", "relu"]]
    assert outcomes(plan, "nn.linear") == [(Colour.GREEN, Outcome.PROLOGUE),
                                           (Colour.GREEN, Outcome.FUSED)]
