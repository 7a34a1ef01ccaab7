"""`fuse` on random DAGs of nn operators: semantics kept bit for bit, groups convex,
the pass idempotent; and the code generated from the fused module (one kernel per group
where the generator can) and with fusion off agrees with the interpreter.

Programs are drawn as data (a list of steps over a pool of values, each step reading any
earlier value, so residual edges are common) and then built. Operators: element-wise
unary and binary (with broadcasting against weights and against intermediate results),
batch_norm, conv2d, matmul (by weights and by another value), linear, transpose, reshape,
reductions, softmax, concat, slice, expand, max pooling.
"""

from dataclasses import dataclass

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from xdsl.dialects.builtin import ModuleOp, TensorType, f32
from xdsl.dialects.func import FuncOp, ReturnOp
from xdsl.ir import Block, Region

from sparsec.dialects import nn
from sparsec.interpreters import interpret
from sparsec.runtime.compiled import compile as jit_compile
from sparsec.textio import print_module
from sparsec.transforms.fusion import fuse, fusion_report, plan_module
from sparsec.transforms.fusion.outline import outline_block

UNARY = {"relu": nn.ReluOp, "sigmoid": nn.SigmoidOp, "tanh": nn.TanhOp, "neg": nn.NegOp,
         "abs": nn.AbsOp, "exp": nn.ExpOp}
BINARY = {"add": nn.AddOp, "sub": nn.SubOp, "mul": nn.MulOp, "max": nn.MaxOp,
          "min": nn.MinOp, "div": nn.DivOp}
REDUCE = {"sum": nn.ReduceSumOp, "mean": nn.ReduceMeanOp, "max": nn.ReduceMaxOp}
KINDS = ["unary", "binary", "binary", "weight", "batch_norm", "conv", "conv", "matmul",
         "linear", "transpose", "reshape", "reduce", "softmax", "concat", "slice", "expand",
         "pool"]
MAX_ELEMENTS = 512


@dataclass(frozen=True)
class Program:
    inputs: tuple[tuple[int, ...], ...]
    steps: tuple[tuple, ...]
    outputs: tuple[int, ...]
    seed: int


def broadcast(a, b):
    try:
        return tuple(np.broadcast_shapes(a, b))
    except ValueError:
        return None


def draw_step(draw, shapes):
    """One step reading earlier values; returns (step, result shape) or None if the
    drawn operator does not apply to the drawn operand."""
    kind = draw(st.sampled_from(KINDS))
    i = draw(st.integers(0, len(shapes) - 1))
    s = shapes[i]
    rank = len(s)
    if kind == "unary":
        return ("unary", draw(st.sampled_from(sorted(UNARY))), i), s
    if kind == "binary":
        partners = [j for j, t in enumerate(shapes) if broadcast(s, t) is not None]
        j = draw(st.sampled_from(partners))
        return ("binary", draw(st.sampled_from(sorted(BINARY))), i, j), broadcast(s, shapes[j])
    if kind == "weight":
        options = [(), s[-1:], s, tuple(d if k == 1 else 1 for k, d in enumerate(s))]
        const = draw(st.sampled_from(options))
        return ("weight", draw(st.sampled_from(sorted(BINARY))), i, const), s
    if kind == "batch_norm" and rank == 4:
        return ("batch_norm", i), s
    if kind == "conv" and rank == 4:
        cout, k = draw(st.integers(1, 4)), draw(st.sampled_from([1, 3]))
        bias = draw(st.booleans())
        return ("conv", i, cout, k, bias), (s[0], cout, s[2], s[3])
    if kind == "matmul" and rank >= 2:
        partners = [j for j, t in enumerate(shapes) if len(t) >= 2 and t[-2] == s[-1]
                    and broadcast(s[:-2], t[:-2]) is not None]
        if partners and draw(st.booleans()):
            j = draw(st.sampled_from(partners))
            t = shapes[j]
            return ("matmul", i, j), (*broadcast(s[:-2], t[:-2]), s[-2], t[-1])
        n = draw(st.integers(1, 5))
        return ("matmul_weight", i, n), (*s[:-1], n)
    if kind == "linear":
        n = draw(st.integers(1, 5))
        return ("linear", i, n), (*s[:-1], n)
    if kind == "transpose":
        perm = tuple(draw(st.permutations(range(rank))))
        return ("transpose", i, perm), tuple(s[p] for p in perm)
    if kind == "reshape":
        shape = tuple(draw(st.permutations(s)))
        if rank >= 2 and draw(st.booleans()):
            shape = (*shape[:-2], shape[-2] * shape[-1])
        return ("reshape", i, shape), shape
    if kind == "reduce":
        axis, keep = draw(st.integers(0, rank - 1)), draw(st.booleans())
        if rank == 1:
            keep = True
        shape = tuple(1 if k == axis else d for k, d in enumerate(s) if keep or k != axis)
        return ("reduce", draw(st.sampled_from(sorted(REDUCE))), i, axis, keep), shape
    if kind == "softmax":
        return ("softmax", i, draw(st.integers(0, rank - 1))), s
    if kind == "concat":
        axis = draw(st.integers(0, rank - 1))
        partners = [j for j, t in enumerate(shapes) if len(t) == rank
                    and all(a == b for k, (a, b) in enumerate(zip(s, t, strict=True)) if k != axis)]
        j = draw(st.sampled_from(partners))
        out = tuple(d + shapes[j][k] if k == axis else d for k, d in enumerate(s))
        return ("concat", i, j, axis), out
    if kind == "slice":
        axis = draw(st.integers(0, rank - 1))
        start = draw(st.integers(0, s[axis] - 1))
        end = draw(st.integers(start + 1, s[axis]))
        return ("slice", i, axis, start, end), tuple(end - start if k == axis else d
                                                     for k, d in enumerate(s))
    if kind == "expand" and 1 in s:
        shape = tuple(draw(st.integers(2, 3)) if d == 1 else d for d in s)
        return ("expand", i, shape), shape
    if kind == "pool" and rank == 4 and min(s[2:]) >= 2:
        return ("pool", i), (*s[:2], s[2] // 2, s[3] // 2)
    return None


@st.composite
def programs(draw):
    c, h, w = draw(st.integers(1, 4)), draw(st.integers(2, 4)), draw(st.integers(2, 4))
    inputs = ((1, c, h, w),) * draw(st.integers(1, 2))
    shapes, steps = list(inputs), []
    for _ in range(draw(st.integers(2, 12))):
        drawn = draw_step(draw, shapes)
        if drawn is None or np.prod(drawn[1]) > MAX_ELEMENTS:
            drawn = ("unary", "relu", len(shapes) - 1), shapes[-1]
        steps.append(drawn[0])
        shapes.append(drawn[1])
    extra = draw(st.sets(st.integers(len(inputs), len(shapes) - 2), max_size=2))
    outputs = (len(shapes) - 1, *sorted(extra))
    return Program(inputs, tuple(steps), outputs, draw(st.integers(0, 2**16)))


def build(program: Program) -> ModuleOp:
    rng = np.random.default_rng(program.seed)
    block = Block(arg_types=[TensorType(f32, s) for s in program.inputs])
    values = list(block.args)
    keys = iter(range(10**6))

    def add(op):
        block.add_op(op)
        return op.results[0]

    def weight(shape, low=-1.0, high=1.0):
        array = rng.uniform(low, high, shape).astype(np.float32)
        return add(nn.ConstantOp.from_array(array, f"w{next(keys)}"))

    def shape(k):
        return values[k].type.get_shape()

    for step in program.steps:
        kind, i, *rest = step[0], *step[1:]
        if kind == "unary":
            op = UNARY[i](values[rest[0]])
        elif kind == "binary":
            op = BINARY[i](values[rest[0]], values[rest[1]])
        elif kind == "weight":
            op = BINARY[i](values[rest[0]], weight(rest[1], 0.5, 1.5))
        elif kind == "batch_norm":
            ch = (shape(i)[1],)
            op = nn.BatchNormOp(values[i], weight(ch), weight(ch), weight(ch),
                                weight(ch, 0.5, 2.0))
        elif kind == "conv":
            cout, k, bias = rest
            w = weight((cout, shape(i)[1], k, k))
            op = nn.Conv2dOp(values[i], w, weight((cout,)) if bias else None,
                             padding=(k // 2, k // 2))
        elif kind == "matmul":
            op = nn.MatmulOp(values[i], values[rest[0]])
        elif kind == "matmul_weight":
            op = nn.MatmulOp(values[i], weight((shape(i)[-1], rest[0])))
        elif kind == "linear":
            op = nn.LinearOp(values[i], weight((rest[0], shape(i)[-1])))
        elif kind == "transpose":
            op = nn.TransposeOp(values[i], rest[0])
        elif kind == "reshape":
            op = nn.ReshapeOp(values[i], rest[0])
        elif kind == "reduce":
            op = REDUCE[i](values[rest[0]], [rest[1]], keepdim=rest[2])
        elif kind == "softmax":
            op = nn.SoftmaxOp(values[i], rest[0])
        elif kind == "concat":
            op = nn.ConcatOp([values[i], values[rest[0]]], rest[1])
        elif kind == "slice":
            axis, start, end = rest
            s = shape(i)
            op = nn.SliceOp(values[i], [start if k == axis else 0 for k in range(len(s))],
                            [end if k == axis else d for k, d in enumerate(s)])
        elif kind == "expand":
            op = nn.ExpandOp(values[i], rest[0])
        else:
            op = nn.MaxPool2dOp(values[i], (2, 2))
        values.append(add(op))
    outputs = [values[k] for k in program.outputs]
    block.add_op(ReturnOp(*outputs))
    signature = ([a.type for a in block.args], [o.type for o in outputs])
    return ModuleOp([FuncOp("main", signature, Region(block))])


def assert_convex(plan):
    """No path leaves a group and comes back into it."""
    ecg = plan.ecg
    for group in plan.groups:
        members = {ecg.index(op) for op in group.ops}
        stack = [s for m in members for s in ecg.succs[m] if s not in members]
        seen = set(stack)
        while stack:
            for succ in ecg.succs[stack.pop()]:
                assert succ not in members, f"a path leaves {group.name} and comes back"
                if succ not in seen:
                    seen.add(succ)
                    stack.append(succ)


def assert_defined_before_use(block):
    defined = set(block.args)
    for op in block.ops:
        assert all(v in defined for v in op.operands), f"{op.name} uses an undefined value"
        defined.update(op.results)


class FusionAlwaysPays:
    """A cost oracle under which every yellow cell fuses: the largest groups the table
    allows, as `fuse{profile=true}` may build them."""

    def latency(self, ops):
        return 1.0


@pytest.mark.parametrize("oracle", [None, FusionAlwaysPays()], ids=["profile=false",
                                                                   "yellow-fuses"])
@given(program=programs())
def test_fuse_keeps_semantics_convexity_and_is_idempotent(oracle, program):
    module = build(program)
    module.verify()
    rng = np.random.default_rng(program.seed + 1)
    inputs = [rng.standard_normal(s).astype(np.float32) for s in program.inputs]
    before = interpret(module, *inputs)
    layers = fusion_report(module).layers_before

    plans = plan_module(module, oracle=oracle)
    for plan in plans:
        assert_convex(plan)
        outline_block(plan)
    module.verify()
    assert_defined_before_use(module.ops.first.body.block)
    after = interpret(module, *inputs)
    for a, b in zip(before, after, strict=True):
        assert a.dtype == b.dtype and a.shape == b.shape
        assert a.tobytes() == b.tobytes()

    report = fusion_report(module)
    assert report.layers_before == layers
    assert report.layers_after == layers - sum(len(g.ops) - 1 for g in plans[0].groups)

    text = print_module(module)
    again = plan_module(module, oracle=oracle)
    assert all(not plan.groups for plan in again)
    for plan in again:
        outline_block(plan)
    assert print_module(module) == text


# --- the generated code -------------------------------------------------------------------

RTOL = ATOL = 1e-4
"""JIT vs interpreter (float32), as in test_jit_vs_interpreter.py: |jit - interpreter| <=
1e-4 * max(1, max|interpreter|) + 1e-4 * |interpreter|. Sums run in another order than
numpy's and transcendental functions are polynomials a few ulp off; with fusion the same
arithmetic runs, only without storing intermediates (the prologue and epilogue steps
are the unfused kernels' functions)."""


@pytest.mark.usefixtures("private_jit_cache")
@pytest.mark.parametrize("mode", ["fused", "yellow-fuses", "fusion-off"])
@settings(max_examples=max(3, settings.default.max_examples // 2))
@given(program=programs())
def test_generated_code_matches_the_interpreter(mode, program):
    """fuse (yellow breaks, or every yellow fuses) then the plan-driven code generator;
    or fusion off (`compile(fusion=False)`: one kernel per operator)."""
    module = build(program)
    rng = np.random.default_rng(program.seed + 1)
    inputs = [rng.standard_normal(s).astype(np.float32) for s in program.inputs]
    expected = interpret(module, *inputs)
    if mode != "fusion-off":
        plans = fuse(module, oracle=FusionAlwaysPays() if mode == "yellow-fuses" else None)
    compiled = jit_compile(module, fusion=mode != "fusion-off")
    actual = compiled(*inputs)
    actual = actual if isinstance(actual, tuple) else (actual,)
    for got, want in zip(actual, expected, strict=True):
        assert got.shape == want.shape and got.dtype == want.dtype
        scale = max(1.0, float(np.max(np.abs(want[np.isfinite(want)]), initial=0.0)))
        np.testing.assert_allclose(got, want, rtol=RTOL, atol=ATOL * scale)
    summary = compiled.fusion_summary
    if mode == "fusion-off":
        assert summary["mode"] == "off"
        assert all(len(k["ops"]) == 1 for k in compiled.kernels)
    elif any(plan.groups for plan in plans):
        assert summary["mode"] == "plan"
        assert len(summary["groups"]) == sum(len(plan.groups) for plan in plans)
        kernel_group = {k["name"]: k["group"] for k in compiled.kernels}
        for group in summary["groups"]:  # a kernel never mixes two groups
            assert all(kernel_group[name] == group["name"] for name in group["kernels"])
