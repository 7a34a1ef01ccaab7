"""For every nn operator, the JIT-compiled code agrees with the reference interpreter over
generated shapes and attributes: odd sizes, sizes that are not a multiple of the vector
width, 1x1 kernels, strides, dilation, padding, groups, depthwise, broadcasting, and
element-wise epilogues fused into convolutions and matrix products.

Compiling is the slow part, so each example draws a batch of independent instances of
one op family and compiles them as one module (one output per instance); the example
count is a fifth of the profile's.

Tolerance (float32): |jit - interpreter| <= 1e-4 * max(1, max|interpreter|) elementwise,
plus rtol 1e-4. Sums (convolution, matrix products, reductions, norms) are evaluated in
a different order than numpy's; transcendental functions are polynomials a few ulp from
the correctly rounded value. Data movement and integer ops are exact.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from xdsl.dialects import func
from xdsl.dialects.builtin import ModuleOp
from xdsl.ir import Block, Region, SSAValue

from sparsec.dialects import nn
from sparsec.dialects.resources import tensor_type_of
from sparsec.interpreters import interpret
from sparsec.runtime.compiled import compile as jit_compile

RTOL = 1e-4
ATOL = 1e-4
BATCH = 5
COVERED: set[type] = set()


def covers(*ops):
    def mark(test):
        COVERED.update(ops)
        return test
    return mark


def examples() -> settings:
    return settings(max_examples=max(3, settings.default.max_examples // 5))


@pytest.fixture(autouse=True, scope="module")
def private_cache(tmp_path_factory):
    """Compiled artefacts of these tests go to a temporary cache; lowered IR is verified."""
    patch = pytest.MonkeyPatch()
    patch.setenv("SPARSEC_CACHE_DIR", str(tmp_path_factory.mktemp("jit-cache")))
    patch.setenv("SPARSEC_VERIFY", "1")  # every lowered module must verify
    yield
    patch.undo()


def test_every_operator_is_covered():
    missing = sorted(op.name for op in nn.OPERATORS if op not in COVERED)
    assert not missing, f"operators without a JIT-vs-interpreter property test: {missing}"


# --- building and checking batches ------------------------------------------------------


@dataclass
class Case:
    """One op instance: its inputs, and a builder from block arguments to the ops and the
    value to return."""

    inputs: list[np.ndarray]
    build: Callable[[list[SSAValue]], tuple[list, SSAValue]]
    label: str = ""
    exact: bool = False
    constants: list = field(default_factory=list)


def check_batch(cases: list[Case], threads: int = 1) -> None:
    arrays = [a for case in cases for a in case.inputs]
    types = [tensor_type_of(a) for a in arrays]
    block = Block(arg_types=types)
    results = []
    position = 0
    for case in cases:
        args = list(block.args[position:position + len(case.inputs)])
        position += len(case.inputs)
        ops, result = case.build(args)
        block.add_ops(ops)
        results.append(result)
    block.add_op(func.ReturnOp(*results))
    module = ModuleOp([func.FuncOp("main", (types, [r.type for r in results]),
                                   Region(block))])
    expected = interpret(module, *arrays)
    actual = jit_compile(module, threads=threads)(*arrays)
    actual = actual if isinstance(actual, tuple) else (actual,)
    for case, got, want in zip(cases, actual, expected, strict=True):
        assert got.shape == want.shape and got.dtype == want.dtype, case.label
        if case.exact or want.dtype.kind != "f":
            np.testing.assert_array_equal(got, want, err_msg=case.label)
            continue
        scale = max(1.0, float(np.max(np.abs(want), initial=0.0)))
        np.testing.assert_allclose(got, want, rtol=RTOL, atol=ATOL * scale, err_msg=case.label)


def batches(case: st.SearchStrategy[Case]) -> st.SearchStrategy[list[Case]]:
    return st.lists(case, min_size=1, max_size=BATCH)


dims = st.integers(1, 13)
shapes = st.lists(dims, min_size=1, max_size=4).map(tuple)


def normal(draw, shape, scale=1.0, dtype=np.float32) -> np.ndarray:
    seed = draw(st.integers(0, 2**31 - 1))
    return np.asarray(np.random.default_rng(seed).standard_normal(shape) * scale, dtype)


_KEYS = iter(range(10**9))


def constant(array: np.ndarray) -> nn.ConstantOp:
    return nn.ConstantOp.from_array(array, f"c{next(_KEYS)}")


def one(make: Callable[..., nn.NNOperation]):
    """A builder for an op of the block arguments."""
    def build(args):
        op = make(*args)
        return [op], op.results[0]
    return build


# --- element-wise -----------------------------------------------------------------------

POSITIVE = (nn.LogOp, nn.SqrtOp, nn.RsqrtOp)


@st.composite
def unary_case(draw) -> Case:
    kind = draw(st.sampled_from(nn.UNARY_OPS))
    shape = draw(st.lists(dims, min_size=0, max_size=4).map(tuple))
    x = normal(draw, shape, 3.0)
    if kind in POSITIVE:
        x = np.abs(x) + np.float32(0.05)
    if kind is nn.ReciprocalOp:
        x = np.where(x >= 0, x + 0.1, x - 0.1).astype(np.float32)
    if kind is nn.ClampOp:
        low = draw(st.floats(-2, 1))
        high = low + draw(st.floats(0, 3))
        return Case([x], one(lambda a: nn.ClampOp(a, low, high)), f"clamp{shape}")
    if kind is nn.GeluOp:
        approximate = draw(st.sampled_from(["none", "tanh"]))
        return Case([x], one(lambda a: nn.GeluOp(a, approximate)), f"gelu {approximate}")
    return Case([x], one(kind), f"{kind.name}{shape}")


@covers(*nn.UNARY_OPS)
@examples()
@given(batches(unary_case()))
def test_unary(cases):
    check_batch(cases)


@st.composite
def broadcast_shapes(draw) -> tuple[tuple[int, ...], tuple[int, ...]]:
    out = draw(shapes)

    def operand():
        kept = [d if draw(st.booleans()) else 1 for d in out]
        drop = draw(st.integers(0, len(out)))
        return tuple(kept[drop:])
    return operand(), operand()


@st.composite
def binary_case(draw) -> Case:
    kind = draw(st.sampled_from(nn.BINARY_OPS))
    lhs_shape, rhs_shape = draw(broadcast_shapes())
    lhs, rhs = normal(draw, lhs_shape, 2.0), normal(draw, rhs_shape, 2.0)
    if kind is nn.PowOp:
        lhs = np.abs(lhs) + np.float32(0.1)
        rhs = np.clip(rhs, -2, 2).astype(np.float32)
    if kind is nn.DivOp:
        rhs = np.where(rhs >= 0, rhs + 0.25, rhs - 0.25).astype(np.float32)
    if draw(st.booleans()) and rhs.size == 1:  # a one-element constant: an immediate
        value = rhs

        def build(args):
            c = constant(value)
            op = kind(args[0], c.result)
            return [c, op], op.result
        return Case([lhs], build, f"{kind.name} constant")
    return Case([lhs, rhs], one(kind), f"{kind.name}{lhs_shape}{rhs_shape}")


@covers(*nn.BINARY_OPS)
@examples()
@given(batches(binary_case()))
def test_binary(cases):
    check_batch(cases)


@st.composite
def integer_case(draw) -> Case:
    kind = draw(st.sampled_from([nn.AddOp, nn.SubOp, nn.MulOp, nn.MaxOp, nn.MinOp, nn.ReluOp,
                                 nn.NegOp, nn.AbsOp]))
    shape = draw(shapes)
    seed = draw(st.integers(0, 2**31 - 1))
    rng = np.random.default_rng(seed)
    dtype = draw(st.sampled_from([np.int32, np.int64]))
    x, y = (rng.integers(-1000, 1000, shape).astype(dtype) for _ in range(2))
    if kind in nn.UNARY_OPS:
        return Case([x], one(kind), f"{kind.name} {dtype.__name__}", exact=True)
    return Case([x, y], one(kind), f"{kind.name} {dtype.__name__}", exact=True)


@examples()
@given(batches(integer_case()))
def test_integer_elementwise(cases):
    check_batch(cases)


# --- convolution and matrix products ----------------------------------------------------


def epilogue(draw, value_shape: tuple[int, ...], channel_axis: int | None):
    """Element-wise ops after a contraction (the JIT fuses them): returns (extra inputs,
    builder from (chain value, extra args) to (ops, result))."""
    kind = draw(st.sampled_from(["none", "relu", "add", "bn", "clamp", "mul-channel"]))
    if kind == "none":
        return [], lambda v, extra: ([], v)
    if kind == "relu":
        return [], lambda v, extra: ([r := nn.ReluOp(v)], r.result)
    if kind == "clamp":
        return [], lambda v, extra: ([r := nn.ClampOp(v, 0.0, 6.0)], r.result)
    if kind == "add":
        residual = normal(draw, value_shape)

        def build(v, extra):
            add = nn.AddOp(v, extra[0])
            relu = nn.ReluOp(add.result)
            return [add, relu], relu.result
        return [residual], build
    channels = value_shape[channel_axis if channel_axis is not None else -1]
    if kind == "mul-channel":
        scale_shape = [1] * len(value_shape)
        scale_shape[channel_axis if channel_axis is not None else -1] = channels
        scale = normal(draw, tuple(scale_shape))
        return [scale], lambda v, extra: ([m := nn.MulOp(v, extra[0])], m.result)
    if len(value_shape) < 2 or channel_axis != 1:
        return [], lambda v, extra: ([r := nn.ReluOp(v)], r.result)
    params = [normal(draw, (channels,)), normal(draw, (channels,)), normal(draw, (channels,)),
              np.abs(normal(draw, (channels,))) + np.float32(0.5)]

    def build_bn(v, extra):
        consts = [constant(p) for p in params]
        bn = nn.BatchNormOp(v, *(c.result for c in consts), epsilon=1e-5)
        relu = nn.ReluOp(bn.result)
        return [*consts, bn, relu], relu.result
    return [], build_bn


@st.composite
def conv_case(draw) -> Case:
    kind = draw(st.sampled_from(["dense", "depthwise", "grouped", "pointwise"]))
    groups = 1
    if kind == "depthwise":
        groups = draw(st.integers(1, 9))
        cin_g, cout_g = 1, draw(st.sampled_from([1, 1, 2]))
    elif kind == "grouped":
        groups = draw(st.integers(2, 3))
        cin_g, cout_g = draw(st.integers(1, 4)), draw(st.integers(1, 5))
    else:
        cin_g, cout_g = draw(st.integers(1, 20)), draw(st.integers(1, 20))
    cin, cout = cin_g * groups, cout_g * groups
    if kind == "pointwise":
        kh = kw = 1
    else:
        kh, kw = draw(st.integers(1, 5)), draw(st.integers(1, 5))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    padding = tuple(draw(st.integers(0, max(0, k - 1))) for k in (kh, kw, kh, kw))
    span_h, span_w = dilation[0] * (kh - 1) + 1, dilation[1] * (kw - 1) + 1
    h = draw(st.integers(max(1, span_h - padding[0] - padding[2]), 17))
    w = draw(st.integers(max(1, span_w - padding[1] - padding[3]), 19))
    batch = draw(st.sampled_from([1, 1, 2]))
    x = normal(draw, (batch, cin, h, w))
    weight = normal(draw, (cout, cin_g, kh, kw), 0.5)
    bias = normal(draw, (cout,)) if draw(st.booleans()) else None
    oh = (h + padding[0] + padding[2] - span_h) // stride[0] + 1
    ow = (w + padding[1] + padding[3] - span_w) // stride[1] + 1
    weight_input = draw(st.booleans()) and kind == "dense"
    extra, tail = epilogue(draw, (batch, cout, oh, ow), 1)

    def build(args):
        ops = []
        if weight_input:
            w_value = args[1]
        else:
            ops.append(wc := constant(weight))
            w_value = wc.result
        b_value = None
        if bias is not None:
            ops.append(bc := constant(bias))
            b_value = bc.result
        conv = nn.Conv2dOp(args[0], w_value, b_value, stride=stride, padding=padding,
                           dilation=dilation, groups=groups)
        more, result = tail(conv.result, args[2 if weight_input else 1:])
        return [*ops, conv, *more], result
    inputs = [x, weight] if weight_input else [x]
    return Case([*inputs, *extra], build,
                f"conv {kind} x{x.shape} w{weight.shape} s{stride} p{padding} d{dilation} "
                f"g{groups}")


@covers(nn.Conv2dOp)
@examples()
@given(batches(conv_case()))
def test_conv2d(cases):
    check_batch(cases)


@st.composite
def linear_case(draw) -> Case:
    lead = tuple(draw(st.lists(st.integers(1, 9), max_size=2)))
    k, n = draw(st.integers(1, 40)), draw(st.integers(1, 40))
    m = draw(st.integers(1, 20))
    x = normal(draw, (*lead, m, k))
    weight = normal(draw, (n, k), 0.5)
    bias = normal(draw, (n,)) if draw(st.booleans()) else None
    weight_input = draw(st.integers(0, 4)) == 0
    extra, tail = epilogue(draw, (*lead, m, n), None)

    def build(args):
        ops = []
        if weight_input:
            w_value = args[1]
        else:
            ops.append(wc := constant(weight))
            w_value = wc.result
        b_value = None
        if bias is not None:
            ops.append(bc := constant(bias))
            b_value = bc.result
        linear = nn.LinearOp(args[0], w_value, b_value)
        more, result = tail(linear.result, args[2 if weight_input else 1:])
        return [*ops, linear, *more], result
    inputs = [x, weight] if weight_input else [x]
    return Case([*inputs, *extra], build, f"linear x{x.shape} w{weight.shape}")


@covers(nn.LinearOp)
@examples()
@given(batches(linear_case()))
def test_linear(cases):
    check_batch(cases)


@st.composite
def matmul_case(draw) -> Case:
    batch = tuple(draw(st.lists(st.integers(1, 4), max_size=2)))
    lhs_batch = tuple(b if draw(st.booleans()) else 1 for b in batch)
    rhs_batch = tuple(b if draw(st.booleans()) else 1 for b in batch)
    rhs_batch = rhs_batch[draw(st.integers(0, len(rhs_batch))):]
    m, k, n = draw(st.integers(1, 20)), draw(st.integers(1, 30)), draw(st.integers(1, 30))
    lhs, rhs = normal(draw, (*lhs_batch, m, k)), normal(draw, (*rhs_batch, k, n))
    if draw(st.booleans()):
        def build(args):
            c = constant(rhs)
            op = nn.MatmulOp(args[0], c.result)
            return [c, op], op.result
        return Case([lhs], build, f"matmul {lhs.shape} @ const {rhs.shape}")
    return Case([lhs, rhs], one(nn.MatmulOp), f"matmul {lhs.shape} @ {rhs.shape}")


@covers(nn.MatmulOp)
@examples()
@given(batches(matmul_case()))
def test_matmul(cases):
    check_batch(cases)


# --- normalisation and reductions -------------------------------------------------------


@st.composite
def batch_norm_case(draw) -> Case:
    shape = tuple(draw(st.lists(dims, min_size=2, max_size=4)))
    c = shape[1]
    x = normal(draw, shape)
    params = [normal(draw, (c,)), normal(draw, (c,)), normal(draw, (c,)),
              np.abs(normal(draw, (c,))) + np.float32(0.1)]
    epsilon = draw(st.sampled_from([1e-5, 1e-3]))
    if draw(st.booleans()):
        def build(args):
            consts = [constant(p) for p in params]
            op = nn.BatchNormOp(args[0], *(k.result for k in consts), epsilon=epsilon)
            return [*consts, op], op.result
        return Case([x], build, f"batch_norm {shape}")
    return Case([x, *params], one(lambda *a: nn.BatchNormOp(*a, epsilon=epsilon)),
                f"batch_norm {shape} run-time statistics")


@covers(nn.BatchNormOp)
@examples()
@given(batches(batch_norm_case()))
def test_batch_norm(cases):
    check_batch(cases)


@st.composite
def norm_case(draw) -> Case:
    kind = draw(st.sampled_from(["layer_norm", "softmax"]))
    shape = tuple(draw(st.lists(st.integers(1, 40), min_size=1, max_size=3)))
    x = normal(draw, shape, 2.0)
    if kind == "softmax":
        axis = draw(st.integers(-len(shape), len(shape) - 1))
        return Case([x], one(lambda a: nn.SoftmaxOp(a, axis)), f"softmax {shape} axis {axis}")
    trailing = draw(st.integers(1, len(shape)))
    norm_shape = shape[len(shape) - trailing:]
    weight, bias = normal(draw, norm_shape), normal(draw, norm_shape)
    return Case([x, weight, bias], one(lambda a, w, b: nn.LayerNormOp(a, w, b, 1e-5)),
                f"layer_norm {shape} over {norm_shape}")


@covers(nn.LayerNormOp, nn.SoftmaxOp)
@examples()
@given(batches(norm_case()))
def test_layer_norm_and_softmax(cases):
    check_batch(cases)


@st.composite
def reduce_case(draw) -> Case:
    kind = draw(st.sampled_from([nn.ReduceSumOp, nn.ReduceMeanOp, nn.ReduceMaxOp]))
    shape = draw(shapes)
    axes = draw(st.lists(st.integers(0, len(shape) - 1), min_size=1, unique=True))
    keep = draw(st.booleans())
    x = normal(draw, shape)
    return Case([x], one(lambda a: kind(a, axes, keep)), f"{kind.name} {shape} {axes} {keep}")


@covers(nn.ReduceSumOp, nn.ReduceMeanOp, nn.ReduceMaxOp)
@examples()
@given(batches(reduce_case()))
def test_reductions(cases):
    check_batch(cases)


# --- pooling ----------------------------------------------------------------------------


@st.composite
def pool_case(draw) -> Case:
    kind = draw(st.sampled_from([nn.MaxPool2dOp, nn.AvgPool2dOp, nn.AdaptiveAvgPool2dOp]))
    n, c = draw(st.integers(1, 2)), draw(st.integers(1, 5))
    if kind is nn.AdaptiveAvgPool2dOp:
        h, w = draw(st.integers(1, 16)), draw(st.integers(1, 16))
        size = (draw(st.integers(1, h + 2)), draw(st.integers(1, w + 2)))
        x = normal(draw, (n, c, h, w))
        return Case([x], one(lambda a: nn.AdaptiveAvgPool2dOp(a, size)), f"adaptive {size}")
    kernel = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    padding = (draw(st.integers(0, kernel[0] // 2)), draw(st.integers(0, kernel[1] // 2)))
    ceil = draw(st.booleans())
    dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2))) if kind is nn.MaxPool2dOp \
        else (1, 1)
    span = [d * (k - 1) + 1 for d, k in zip(dilation, kernel, strict=True)]
    h = draw(st.integers(max(1, span[0] - 2 * padding[0]), 17))
    w = draw(st.integers(max(1, span[1] - 2 * padding[1]), 19))
    x = normal(draw, (n, c, h, w))
    if kind is nn.MaxPool2dOp:
        return Case([x], one(lambda a: nn.MaxPool2dOp(a, kernel, stride, padding, dilation,
                                                      ceil)),
                    f"max_pool {x.shape} k{kernel} s{stride} p{padding} d{dilation} c{ceil}")
    include = draw(st.booleans())
    return Case([x], one(lambda a: nn.AvgPool2dOp(a, kernel, stride, padding, ceil, include)),
                f"avg_pool {x.shape} k{kernel} s{stride} p{padding} c{ceil} i{include}")


@covers(nn.MaxPool2dOp, nn.AvgPool2dOp, nn.AdaptiveAvgPool2dOp)
@examples()
@given(batches(pool_case()))
def test_pooling(cases):
    check_batch(cases)


# --- data movement ----------------------------------------------------------------------


@st.composite
def movement_case(draw) -> Case:
    kind = draw(st.sampled_from(["reshape", "expand", "transpose", "concat", "slice", "pad",
                                 "gather", "upsample"]))
    shape = draw(shapes)
    x = normal(draw, shape)
    if kind == "reshape":
        target = tuple(draw(st.permutations(list(shape))))
        then_relu = draw(st.booleans())

        def build(args):
            op = nn.ReshapeOp(args[0], target)
            if not then_relu:
                return [op], op.result
            relu = nn.ReluOp(op.result)
            return [op, relu], relu.result
        return Case([x], build, f"reshape {shape} -> {target}", exact=True)
    if kind == "expand":
        base = tuple(d if draw(st.booleans()) else 1 for d in shape)
        x = normal(draw, base)
        target = (draw(st.integers(1, 3)), *shape) if draw(st.booleans()) else shape
        return Case([x], one(lambda a: nn.ExpandOp(a, target)), f"expand {base}->{target}",
                    exact=True)
    if kind == "transpose":
        perm = draw(st.permutations(list(range(len(shape)))))
        return Case([x], one(lambda a: nn.TransposeOp(a, perm)), f"transpose {perm}", exact=True)
    if kind == "concat":
        axis = draw(st.integers(0, len(shape) - 1))
        parts = [x]
        for _ in range(draw(st.integers(0, 2))):
            other = list(shape)
            other[axis] = draw(dims)
            parts.append(normal(draw, tuple(other)))
        return Case(parts, one(lambda *a: nn.ConcatOp(a, axis)), f"concat axis {axis}",
                    exact=True)
    if kind == "slice":
        start = [draw(st.integers(0, d - 1)) for d in shape]
        end = [draw(st.integers(s + 1, d)) for s, d in zip(start, shape, strict=True)]
        step = [draw(st.integers(1, 3)) for _ in shape]
        return Case([x], one(lambda a: nn.SliceOp(a, start, end, step)),
                    f"slice {start} {end} {step}", exact=True)
    if kind == "pad":
        low = [draw(st.integers(0, 3)) for _ in shape]
        high = [draw(st.integers(0, 3)) for _ in shape]
        value = draw(st.sampled_from([0.0, -1.5]))
        return Case([x], one(lambda a: nn.PadOp(a, low, high, value)), f"pad {low} {high}",
                    exact=True)
    if kind == "gather":
        axis = draw(st.integers(0, len(shape) - 1))
        index_shape = tuple(draw(st.lists(st.integers(1, 6), min_size=1, max_size=2)))
        seed = draw(st.integers(0, 2**31 - 1))
        indices = np.random.default_rng(seed).integers(0, shape[axis], index_shape)
        return Case([x, indices.astype(np.int64)], one(lambda t, i: nn.GatherOp(t, i, axis)),
                    f"gather axis {axis}", exact=True)
    n, c = draw(st.integers(1, 2)), draw(st.integers(1, 3))
    h, w = draw(st.integers(1, 7)), draw(st.integers(1, 7))
    x = normal(draw, (n, c, h, w))
    out = (n, c, draw(st.integers(1, 3 * h)), draw(st.integers(1, 3 * w)))
    return Case([x], one(lambda a: nn.UpsampleNearestOp(a, out)), f"upsample {x.shape}->{out}",
                exact=True)


@covers(nn.ReshapeOp, nn.ExpandOp, nn.TransposeOp, nn.ConcatOp, nn.SliceOp, nn.PadOp,
        nn.GatherOp, nn.UpsampleNearestOp)
@examples()
@given(batches(movement_case()))
def test_data_movement(cases):
    check_batch(cases)


# --- threads ----------------------------------------------------------------------------


@settings(max_examples=3)
@given(batches(st.one_of(conv_case(), linear_case(), matmul_case(), norm_case())))
def test_two_threads(cases):
    """Kernels split over an OpenMP team compute the same numbers."""
    check_batch(cases, threads=2)


def test_large_shapes_take_the_blocked_paths():
    """Sizes past the K block, the panel chunk and the parallel threshold."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((1, 70, 15, 17)).astype(np.float32)
    w = (rng.standard_normal((37, 70, 3, 3)) * 0.1).astype(np.float32)
    a = rng.standard_normal((67, 300)).astype(np.float32)
    b = rng.standard_normal((300, 45)).astype(np.float32)

    def conv(args):
        wc = constant(w)
        op = nn.Conv2dOp(args[0], wc.result, None, stride=(1, 1), padding=(1, 1, 1, 1))
        return [wc, op], op.result
    cases = [Case([x], conv, "conv K=630"), Case([a, b], one(nn.MatmulOp), "matmul K=300"),
             Case([rng.standard_normal((300, 257)).astype(np.float32)],
                  one(lambda t: nn.SoftmaxOp(t, -1)), "softmax rows")]
    check_batch(cases, threads=1)
    check_batch(cases, threads=2)
