"""For every nn operator, the reference interpreter agrees with PyTorch (CPU eager,
torch.nn.functional and torch ops) on the same inputs, over generated shapes and
attributes. Each test builds a one-op `@main` with the op's builder and runs
`sparsec.interpret`.

Tolerances, float32 throughout:
- element-wise ops: rtol 1e-5, atol 1e-6 (a few ulp: PyTorch's vectorised exp/tanh/erf
  are within ~4 ulp of the correctly rounded value; our erf is correctly rounded);
- sums (conv, matmul, linear, reductions, norms, pooling): inputs are standard normal,
  so rounding differences grow with the number of terms and their order; atol is
  1e-6 per summed term, rtol stays 1e-5;
- data movement and max/min: exact.
"""

from math import prod

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from xdsl.dialects import func
from xdsl.dialects.builtin import ModuleOp
from xdsl.ir import Block, Region

from sparsec.dialects import nn
from sparsec.dialects.resources import tensor_type_of
from sparsec.interpreters import interpret

torch = pytest.importorskip("torch")
F = torch.nn.functional

COVERED: set[type] = set()


def covers(*ops):
    """Marks a test as the property test of `ops` (see test_every_operator_is_covered)."""
    def mark(test):
        COVERED.update(ops)
        return test
    return mark


def test_every_operator_is_covered():
    missing = sorted(op.name for op in nn.OPERATORS if op not in COVERED)
    assert not missing, f"operators without a property test against PyTorch: {missing}"


@pytest.fixture(autouse=True, scope="module")
def one_torch_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


# --- helpers ------------------------------------------------------------------------------


def run(build, *arrays: np.ndarray) -> np.ndarray:
    """Build `@main(args) { return build(args) }` and interpret it on `arrays`."""
    types = [tensor_type_of(a) for a in arrays]
    block = Block(arg_types=types)
    op = build(*block.args)
    block.add_ops([op, func.ReturnOp(op.results[0])])
    module = ModuleOp([func.FuncOp("main", (types, [op.results[0].type]), Region(block))])
    (result,) = interpret(module, *arrays)
    return result


def check(actual: np.ndarray, expected, rtol=1e-5, atol=1e-6) -> None:
    expected = expected.numpy() if isinstance(expected, torch.Tensor) else np.asarray(expected)
    assert actual.shape == expected.shape, (actual.shape, expected.shape)
    assert actual.dtype == expected.dtype, (actual.dtype, expected.dtype)
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=atol, equal_nan=True)


def exact(actual: np.ndarray, expected) -> None:
    check(actual, expected, rtol=0, atol=0)


def t(array: np.ndarray):
    return torch.from_numpy(np.array(array))  # a copy (ascontiguousarray makes 0-d 1-d)


def normal(seed: int, shape, scale: float = 1.0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (rng.standard_normal(shape) * scale).astype(np.float32)


seeds = st.integers(0, 2**32 - 1)
shapes = hnp.array_shapes(min_dims=0, max_dims=4, min_side=1, max_side=4)
nchw = hnp.array_shapes(min_dims=4, max_dims=4, min_side=1, max_side=3)
# Any float32, inf and nan included: special values must flow as in PyTorch.
any_float = st.floats(width=32)


# --- element-wise -------------------------------------------------------------------------

UNARY = {
    nn.ReluOp: torch.relu,
    nn.SigmoidOp: torch.sigmoid,
    nn.TanhOp: torch.tanh,
    nn.SiluOp: F.silu,
    nn.HardswishOp: F.hardswish,
    nn.HardsigmoidOp: F.hardsigmoid,
    nn.ExpOp: torch.exp,
    nn.LogOp: torch.log,
    nn.SqrtOp: torch.sqrt,
    nn.RsqrtOp: torch.rsqrt,
    nn.ReciprocalOp: torch.reciprocal,
    nn.NegOp: torch.neg,
    nn.AbsOp: torch.abs,
    nn.ErfOp: torch.erf,
}


@covers(*UNARY)
@pytest.mark.parametrize("op", list(UNARY), ids=lambda op: op.name)
@given(x=hnp.arrays(np.float32, shapes, elements=any_float))
def test_unary(op, x):
    check(run(op, x), UNARY[op](t(x)))


@covers(nn.GeluOp)
@given(x=hnp.arrays(np.float32, shapes, elements=any_float),
       approximate=st.sampled_from(["none", "tanh"]))
def test_gelu(x, approximate):
    check(run(lambda v: nn.GeluOp(v, approximate), x), F.gelu(t(x), approximate=approximate))


@covers(nn.ClampOp)
@given(x=hnp.arrays(np.float32, shapes, elements=any_float),
       bounds=st.lists(st.floats(width=32, allow_nan=False), min_size=2, max_size=2))
def test_clamp(x, bounds):
    low, high = sorted(bounds)
    exact(run(lambda v: nn.ClampOp(v, low, high), x), torch.clamp(t(x), low, high))


BINARY = {
    nn.AddOp: torch.add,
    nn.SubOp: torch.sub,
    nn.MulOp: torch.mul,
    nn.DivOp: torch.div,
    nn.MaxOp: torch.maximum,
    nn.MinOp: torch.minimum,
    nn.PowOp: torch.pow,
}


@covers(*BINARY)
@pytest.mark.parametrize("op", list(BINARY), ids=lambda op: op.name)
@given(data=st.data(),
       shapes=hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=4, max_side=3))
def test_binary_broadcasting(op, data, shapes):
    lhs = data.draw(hnp.arrays(np.float32, shapes.input_shapes[0], elements=any_float))
    rhs = data.draw(hnp.arrays(np.float32, shapes.input_shapes[1], elements=any_float))
    check(run(op, lhs, rhs), BINARY[op](t(lhs), t(rhs)))


@pytest.mark.parametrize("op", [nn.AddOp, nn.SubOp, nn.MulOp, nn.MaxOp, nn.MinOp],
                         ids=lambda op: op.name)
@given(data=st.data(),
       shapes=hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=3, max_side=3))
def test_binary_on_integers(op, data, shapes):
    ints = st.integers(-1000, 1000)
    lhs = data.draw(hnp.arrays(np.int64, shapes.input_shapes[0], elements=ints))
    rhs = data.draw(hnp.arrays(np.int64, shapes.input_shapes[1], elements=ints))
    exact(run(op, lhs, rhs), BINARY[op](t(lhs), t(rhs)))


# --- contractions -------------------------------------------------------------------------


@covers(nn.Conv2dOp)
@given(data=st.data(), seed=seeds)
def test_conv2d(data, seed):
    small = st.integers(1, 3)
    depthwise = data.draw(st.booleans(), "depthwise")
    groups = data.draw(st.integers(1, 4) if depthwise else small, "groups")
    cin_g = 1 if depthwise else data.draw(small, "cin_g")
    cout_g = data.draw(st.integers(1, 2) if depthwise else small, "cout_g")
    kh, kw = data.draw(small), data.draw(small)
    stride = (data.draw(small), data.draw(small))
    dilation = (data.draw(st.integers(1, 2)), data.draw(st.integers(1, 2)))
    top, left, bottom, right = data.draw(st.lists(st.integers(0, 2), min_size=4, max_size=4))
    reach_h, reach_w = dilation[0] * (kh - 1) + 1, dilation[1] * (kw - 1) + 1
    h = data.draw(st.integers(max(1, reach_h - top - bottom), 7), "h")
    w = data.draw(st.integers(max(1, reach_w - left - right), 7), "w")
    n = data.draw(st.integers(1, 2), "n")
    x = normal(seed, (n, groups * cin_g, h, w))
    weight = normal(seed + 1, (groups * cout_g, cin_g, kh, kw))
    bias = normal(seed + 2, (groups * cout_g,)) if data.draw(st.booleans(), "bias") else None

    def build(*args):
        return nn.Conv2dOp(*args, stride=stride, padding=(top, left, bottom, right),
                           dilation=dilation, groups=groups)

    actual = run(build, x, weight) if bias is None else run(build, x, weight, bias)
    padded = F.pad(t(x), (left, right, top, bottom))
    expected = F.conv2d(padded, t(weight), None if bias is None else t(bias), stride, 0,
                        dilation, groups)
    check(actual, expected, atol=1e-6 * (cin_g * kh * kw + 1))


@covers(nn.MatmulOp)
@given(data=st.data(), seed=seeds,
       batch=hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=2, max_side=3))
def test_matmul_broadcasts_batch_dims(data, seed, batch):
    m, k, n = (data.draw(st.integers(1, 5)) for _ in range(3))
    a = normal(seed, (*batch.input_shapes[0], m, k))
    b = normal(seed + 1, (*batch.input_shapes[1], k, n))
    check(run(nn.MatmulOp, a, b), torch.matmul(t(a), t(b)), atol=1e-6 * k)


@covers(nn.LinearOp)
@given(seed=seeds, batch=hnp.array_shapes(min_dims=0, max_dims=2, max_side=3),
       features=st.tuples(st.integers(1, 6), st.integers(1, 5)), with_bias=st.booleans())
def test_linear(seed, batch, features, with_bias):
    inputs, outputs = features
    x = normal(seed, (*batch, inputs))
    w = normal(seed + 1, (outputs, inputs))
    if with_bias:
        b = normal(seed + 2, (outputs,))
        actual, expected = run(nn.LinearOp, x, w, b), F.linear(t(x), t(w), t(b))
    else:
        actual, expected = run(nn.LinearOp, x, w), F.linear(t(x), t(w))
    check(actual, expected, atol=1e-6 * (inputs + 1))


# --- normalisation ------------------------------------------------------------------------


@covers(nn.BatchNormOp)
@given(seed=seeds, shape=hnp.array_shapes(min_dims=2, max_dims=4, max_side=4),
       epsilon=st.sampled_from([1e-5, 1e-3, 0.1]))
def test_batch_norm_inference(seed, shape, epsilon):
    c = shape[1]
    x, scale, bias, mean = (normal(seed + i, s) for i, s in
                            enumerate([shape, (c,), (c,), (c,)]))
    var = np.random.default_rng(seed).uniform(0.05, 3.0, c).astype(np.float32)
    actual = run(lambda *v: nn.BatchNormOp(*v, epsilon=epsilon), x, scale, bias, mean, var)
    expected = F.batch_norm(t(x), t(mean), t(var), t(scale), t(bias), training=False,
                            eps=epsilon)
    check(actual, expected)


@covers(nn.LayerNormOp)
@given(data=st.data(), seed=seeds, shape=hnp.array_shapes(min_dims=1, max_dims=4, max_side=5),
       epsilon=st.sampled_from([1e-5, 1e-12, 0.1]))
def test_layer_norm_over_trailing_dims(data, seed, shape, epsilon):
    normalized = shape[len(shape) - data.draw(st.integers(1, len(shape)), "dims"):]
    x = normal(seed, shape, scale=data.draw(st.sampled_from([0.01, 1.0, 30.0])))
    w, b = normal(seed + 1, normalized), normal(seed + 2, normalized)
    actual = run(lambda *v: nn.LayerNormOp(*v, epsilon=epsilon), x, w, b)
    expected = F.layer_norm(t(x), normalized, t(w), t(b), eps=epsilon)
    check(actual, expected, atol=1e-6 * prod(normalized))


@covers(nn.SoftmaxOp)
@given(data=st.data(), seed=seeds, shape=hnp.array_shapes(min_dims=1, max_dims=4, max_side=5),
       scale=st.sampled_from([1.0, 30.0]))
def test_softmax_any_axis(data, seed, shape, scale):
    axis = data.draw(st.integers(-len(shape), len(shape) - 1), "axis")
    x = normal(seed, shape, scale)
    check(run(lambda v: nn.SoftmaxOp(v, axis), x), torch.softmax(t(x), axis),
          atol=1e-6 * shape[axis])


# --- pooling ------------------------------------------------------------------------------


@st.composite
def pool_windows(draw, dilated: bool):
    """kernel, stride, symmetric padding (at most half the kernel, as PyTorch requires),
    dilation, and an input height/width every window fits."""
    kernel = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    padding = (draw(st.integers(0, kernel[0] // 2)), draw(st.integers(0, kernel[1] // 2)))
    dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2))) if dilated else (1, 1)
    size = tuple(draw(st.integers(max(1, d * (k - 1) + 1 - 2 * p), 8))
                 for k, p, d in zip(kernel, padding, dilation, strict=True))
    return kernel, stride, padding, dilation, size


@covers(nn.MaxPool2dOp)
@given(seed=seeds, window=pool_windows(dilated=True), ceil_mode=st.booleans(),
       nc=st.tuples(st.integers(1, 2), st.integers(1, 3)))
def test_max_pool2d(seed, window, ceil_mode, nc):
    kernel, stride, padding, dilation, size = window
    x = normal(seed, (*nc, *size))
    actual = run(lambda v: nn.MaxPool2dOp(v, kernel, stride, padding, dilation, ceil_mode), x)
    exact(actual, F.max_pool2d(t(x), kernel, stride, padding, dilation, ceil_mode))


@given(seed=seeds, shape=nchw, kernel=st.tuples(st.integers(2, 4), st.integers(2, 4)),
       data=st.data())
def test_max_pool2d_asymmetric_padding(seed, shape, kernel, data):
    # PyTorch pads symmetrically only: compare with pooling a -inf padded input.
    top, bottom = (data.draw(st.integers(0, kernel[0] // 2)) for _ in range(2))
    left, right = (data.draw(st.integers(0, kernel[1] // 2)) for _ in range(2))
    x = normal(seed, (*shape[:2], shape[2] + kernel[0], shape[3] + kernel[1]))
    actual = run(lambda v: nn.MaxPool2dOp(v, kernel, (1, 2), (top, left, bottom, right)), x)
    padded = F.pad(t(x), (left, right, top, bottom), value=-np.inf)
    exact(actual, F.max_pool2d(padded, kernel, (1, 2)))


@covers(nn.AvgPool2dOp)
@given(seed=seeds, window=pool_windows(dilated=False), ceil_mode=st.booleans(),
       count_include_pad=st.booleans(), nc=st.tuples(st.integers(1, 2), st.integers(1, 3)))
def test_avg_pool2d(seed, window, ceil_mode, count_include_pad, nc):
    kernel, stride, padding, _, size = window
    x = normal(seed, (*nc, *size))
    actual = run(lambda v: nn.AvgPool2dOp(v, kernel, stride, padding, ceil_mode,
                                          count_include_pad), x)
    expected = F.avg_pool2d(t(x), kernel, stride, padding, ceil_mode, count_include_pad)
    check(actual, expected, atol=1e-6 * prod(kernel))


@given(seed=seeds, shape=nchw, kernel=st.tuples(st.integers(2, 4), st.integers(2, 4)),
       data=st.data())
def test_avg_pool2d_asymmetric_padding_counted(seed, shape, kernel, data):
    top, bottom = (data.draw(st.integers(0, kernel[0] // 2)) for _ in range(2))
    left, right = (data.draw(st.integers(0, kernel[1] // 2)) for _ in range(2))
    x = normal(seed, (*shape[:2], shape[2] + kernel[0], shape[3] + kernel[1]))
    actual = run(lambda v: nn.AvgPool2dOp(v, kernel, (2, 1), (top, left, bottom, right)), x)
    expected = F.avg_pool2d(F.pad(t(x), (left, right, top, bottom)), kernel, (2, 1))
    check(actual, expected, atol=1e-6 * prod(kernel))


@covers(nn.AdaptiveAvgPool2dOp)
@given(seed=seeds, shape=hnp.array_shapes(min_dims=4, max_dims=4, min_side=1, max_side=9),
       data=st.data())
def test_adaptive_avg_pool2d(seed, shape, data):
    size = (data.draw(st.integers(1, shape[2] + 2)), data.draw(st.integers(1, shape[3] + 2)))
    x = normal(seed, shape)
    check(run(lambda v: nn.AdaptiveAvgPool2dOp(v, size), x),
          F.adaptive_avg_pool2d(t(x), size), atol=1e-6 * shape[2] * shape[3])


# --- reductions ---------------------------------------------------------------------------

REDUCTIONS = {
    nn.ReduceSumOp: torch.sum,
    nn.ReduceMeanOp: torch.mean,
    nn.ReduceMaxOp: torch.amax,
}


@st.composite
def reduction_axes(draw, rank: int):
    """A non-empty set of distinct dims, each written positive or negative."""
    dims = draw(st.lists(st.integers(0, rank - 1), min_size=1, max_size=rank, unique=True))
    return [d - rank if draw(st.booleans()) else d for d in dims]


@covers(*REDUCTIONS)
@pytest.mark.parametrize("op", list(REDUCTIONS), ids=lambda op: op.name)
@given(data=st.data(), seed=seeds, shape=hnp.array_shapes(min_dims=1, max_dims=4, max_side=5),
       keepdim=st.booleans())
def test_reductions(op, data, seed, shape, keepdim):
    axes = data.draw(reduction_axes(len(shape)), "axes")
    x = normal(seed, shape)
    terms = prod(shape[a] for a in axes)
    check(run(lambda v: op(v, axes, keepdim), x),
          REDUCTIONS[op](t(x), dim=tuple(axes), keepdim=keepdim), atol=1e-6 * terms)


@pytest.mark.parametrize("op", [nn.ReduceSumOp, nn.ReduceMaxOp], ids=lambda op: op.name)
@given(data=st.data(), shape=hnp.array_shapes(min_dims=1, max_dims=3, max_side=4),
       keepdim=st.booleans())
def test_reductions_on_integers(op, data, shape, keepdim):
    axes = data.draw(reduction_axes(len(shape)), "axes")
    x = data.draw(hnp.arrays(np.int64, shape, elements=st.integers(-1000, 1000)))
    exact(run(lambda v: op(v, axes, keepdim), x),
          REDUCTIONS[op](t(x), dim=tuple(axes), keepdim=keepdim))


# --- data movement ------------------------------------------------------------------------


@st.composite
def reshaped(draw, shape):
    """A shape with the same number of elements, made of divisors and stray 1s."""
    remaining, out = prod(shape), []
    while remaining > 1 or draw(st.integers(0, 3)) == 0:
        factor = draw(st.sampled_from([d for d in range(1, remaining + 1) if remaining % d == 0]))
        out.append(factor)
        remaining //= factor
        if len(out) > 5:
            out.append(remaining)
            break
    return tuple(out)


@covers(nn.ReshapeOp)
@given(data=st.data(), seed=seeds, shape=shapes)
def test_reshape(data, seed, shape):
    target = data.draw(reshaped(shape), "target")
    x = normal(seed, shape)
    exact(run(lambda v: nn.ReshapeOp(v, target), x), t(x).reshape(target))


@covers(nn.ExpandOp)
@given(data=st.data(), seed=seeds, target=hnp.array_shapes(min_dims=0, max_dims=4, max_side=3))
def test_expand(data, seed, target):
    kept = data.draw(st.integers(0, len(target)), "rank")
    shape = tuple(d if data.draw(st.booleans()) else 1 for d in target[len(target) - kept:])
    x = normal(seed, shape)
    exact(run(lambda v: nn.ExpandOp(v, target), x), t(x).expand(target))


@covers(nn.TransposeOp)
@given(data=st.data(), seed=seeds, shape=shapes)
def test_transpose(data, seed, shape):
    perm = data.draw(st.permutations(range(len(shape))), "permutation")
    x = normal(seed, shape)
    exact(run(lambda v: nn.TransposeOp(v, perm), x), t(x).permute(tuple(perm)))


@covers(nn.ConcatOp)
@given(data=st.data(), seed=seeds, shape=hnp.array_shapes(min_dims=1, max_dims=4, max_side=3),
       count=st.integers(1, 3))
def test_concat_any_axis(data, seed, shape, count):
    axis = data.draw(st.integers(-len(shape), len(shape) - 1), "axis")
    parts = []
    for i in range(count):
        part = list(shape)
        part[axis] = data.draw(st.integers(1, 3))
        parts.append(normal(seed + i, part))
    exact(run(lambda *v: nn.ConcatOp(v, axis), *parts), torch.cat([t(p) for p in parts], axis))


@covers(nn.SliceOp)
@given(data=st.data(), seed=seeds, shape=hnp.array_shapes(min_dims=1, max_dims=4, max_side=6))
def test_slice_with_steps(data, seed, shape):
    start, end, step = [], [], []
    for size in shape:
        a = data.draw(st.integers(0, size))
        start.append(a)
        end.append(data.draw(st.integers(a, size)))
        step.append(data.draw(st.integers(1, 3)))
    x = normal(seed, shape)
    index = tuple(slice(a, b, s) for a, b, s in zip(start, end, step, strict=True))
    exact(run(lambda v: nn.SliceOp(v, start, end, step), x), t(x)[index])


@covers(nn.PadOp)
@given(data=st.data(), seed=seeds, shape=shapes,
       value=st.one_of(st.just(0.0), st.floats(width=32, allow_nan=False)))
def test_pad(data, seed, shape, value):
    low = [data.draw(st.integers(0, 2)) for _ in shape]
    high = [data.draw(st.integers(0, 2)) for _ in shape]
    x = normal(seed, shape)
    widths = [w for lo, hi in zip(low[::-1], high[::-1], strict=True) for w in (lo, hi)]
    exact(run(lambda v: nn.PadOp(v, low, high, value), x),
          F.pad(t(x), widths, value=value) if shape else t(x))


@covers(nn.GatherOp)
@given(data=st.data(), seed=seeds, shape=hnp.array_shapes(min_dims=1, max_dims=3, max_side=4),
       index_shape=hnp.array_shapes(min_dims=0, max_dims=2, max_side=3),
       index_dtype=st.sampled_from([np.int64, np.int32]))
def test_gather_any_axis(data, seed, shape, index_shape, index_dtype):
    axis = data.draw(st.integers(-len(shape), len(shape) - 1), "axis")
    size = shape[axis]
    indices = data.draw(hnp.arrays(index_dtype, index_shape, elements=st.integers(0, size - 1)))
    table = normal(seed, shape)
    selected = torch.index_select(t(table), axis, t(indices).reshape(-1).long())
    positive = axis % len(shape)
    expected = selected.reshape((*shape[:positive], *index_shape, *shape[positive + 1:]))
    exact(run(lambda *v: nn.GatherOp(*v, axis), table, indices), expected)


@covers(nn.UpsampleNearestOp)
@given(seed=seeds, shape=nchw, size=st.tuples(st.integers(1, 15), st.integers(1, 130)))
@example(seed=0, shape=(1, 1, 3, 2), size=(7, 82))  # float32 scale: not floor(41 * 2 / 82)
def test_upsample_nearest(seed, shape, size):
    x = normal(seed, shape)
    exact(run(lambda v: nn.UpsampleNearestOp(v, (*shape[:2], *size)), x),
          F.interpolate(t(x), size=size, mode="nearest"))
