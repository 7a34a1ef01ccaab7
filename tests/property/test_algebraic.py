"""Every algebraic rule preserves the reference semantics (Hypothesis).

Each test draws shapes and inputs where its rule matches, runs the interpreter on the
module before and after `rewrite_greedily(module, [Rule()])`, and checks that

- the rule fired (it is in the log, and the module changed);
- exact rules (`EXACT = True`) give equal values, element by element, for any float32
  input, NaN and infinities included (`np.array_equal(..., equal_nan=True)`);
- rounding-changing rules stay within the test's stated tolerance:
  |after - before| <= rtol * |before| + atol * max|before|, on inputs of moderate size;
- the whole pass (`algebraic`, with `reassociate` for the rounding-changing rules) does
  too on the same module.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from xdsl.builder import ImplicitBuilder
from xdsl.context import Context
from xdsl.dialects import func
from xdsl.dialects.builtin import ModuleOp, TensorType, f32
from xdsl.ir import Block, Region, SSAValue

from sparsec.dialects import nn
from sparsec.interpreters import interpret
from sparsec.transforms.algebraic import (
    ALL_RULES,
    AlgebraicPass,
    AlgebraicRule,
    enabled_rules,
    layout,
    rewrite_greedily,
)
from sparsec.transforms.algebraic import associative as assoc
from sparsec.transforms.algebraic import commutative as comm
from sparsec.transforms.algebraic import distributive as dist
from sparsec.transforms.algebraic import folding as fold
from sparsec.transforms.algebraic import strength as sr

F32 = np.float32
ANY = st.floats(width=32)  # every float32: NaN, ±inf, ±0, subnormals
MODERATE = st.floats(-4, 4, width=32)
MAGNITUDE = st.floats(0.25, 4, width=32)
AWAY_FROM_ZERO = st.builds(lambda m, s: F32(m * s), MAGNITUDE, st.sampled_from([1, -1]))
POSITIVE = st.floats(0.125, 4, width=32)

REASSOCIATION = (1e-5, 1e-6)  # (rtol, atol): a few roundings of moderate values
FOLDING = (1e-5, 1e-5)  # sums of products folded into weights


# --- building and checking modules ------------------------------------------------------

_keys = itertools.count()


def module(inputs: list[np.ndarray], body: Callable[..., SSAValue]) -> ModuleOp:
    """@main(inputs...) -> body(arguments...), the ops built inside `body`."""
    types = [TensorType(f32, a.shape) for a in inputs]
    block = Block(arg_types=types)
    with ImplicitBuilder(block):
        result = body(*block.args)
        func.ReturnOp(result)
    return ModuleOp([func.FuncOp("main", (types, [result.type]), Region(block))])


def v(op_class, *args, **kwargs) -> SSAValue:
    """Build an op (inside `module`'s body) and return its result."""
    return op_class(*args, **kwargs).results[0]


def const(array) -> SSAValue:
    return v(nn.ConstantOp.from_array, np.asarray(array, F32), f"c{next(_keys)}")


def compare(rule: type[AlgebraicRule], before, after, tolerance) -> None:
    for b, a in zip(before, after, strict=True):
        assert a.dtype == b.dtype and a.shape == b.shape
        if rule.EXACT:
            assert np.array_equal(a, b, equal_nan=True), (b, a)
            continue
        rtol, atol = tolerance
        finite = np.abs(b[np.isfinite(b)])
        scale = float(finite.max()) if finite.size else 1.0
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol * max(scale, 1.0))


def check(rule: type[AlgebraicRule], inputs: list[np.ndarray], body: Callable[..., SSAValue],
          tolerance: tuple[float, float] | None = None) -> None:
    assert rule.EXACT or tolerance is not None, "a rounding-changing rule needs a tolerance"
    original = module(inputs, body)
    before = interpret(original, *inputs)

    rewritten = original.clone()
    applied = rewrite_greedily(rewritten, [rule()])
    assert rule.__name__ in {a.rule for a in applied}, f"{rule.__name__} did not fire"
    assert str(rewritten) != str(original)
    compare(rule, before, interpret(rewritten, *inputs), tolerance)

    everything = original.clone()
    AlgebraicPass(reassociate=not rule.EXACT).apply(Context(), everything)
    compare(rule, before, interpret(everything, *inputs), tolerance)


TESTED: set[type[AlgebraicRule]] = set()


def covers(*rules: type[AlgebraicRule]):
    TESTED.update(rules)
    return lambda test: test


def test_every_rule_has_a_property_test():
    assert TESTED == set(ALL_RULES)


# --- strategies -------------------------------------------------------------------------

shapes = hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4)
wide_shapes = hnp.array_shapes(min_dims=1, max_dims=3, min_side=2, max_side=4)


def arrays(shape, elements=ANY):
    return hnp.arrays(F32, shape, elements=elements)


@st.composite
def narrower(draw, shape):
    """A shape that broadcasts to `shape` without growing it: a suffix, some dims 1."""
    keep = draw(st.integers(0, len(shape)))
    return tuple(draw(st.sampled_from([1, d])) for d in shape[len(shape) - keep:])


def ordered(swap: bool, a, b):
    return (b, a) if swap else (a, b)


# --- strength reduction -----------------------------------------------------------------


def splat_case(data, value):
    shape = data.draw(shapes)
    x = data.draw(arrays(shape))
    c = np.full(data.draw(narrower(shape)), value, F32)
    return x, c, data.draw(st.booleans())


@covers(sr.MulByOne)
@given(st.data())
def test_mul_by_one(data):
    x, one, swap = splat_case(data, 1.0)
    check(sr.MulByOne, [x], lambda x: v(nn.MulOp, *ordered(swap, x, const(one))))


@covers(sr.MulByMinusOne)
@given(st.data())
def test_mul_by_minus_one(data):
    x, minus_one, swap = splat_case(data, -1.0)
    check(sr.MulByMinusOne, [x], lambda x: v(nn.MulOp, *ordered(swap, x, const(minus_one))))


@covers(sr.AddZero)
@given(st.data())
def test_add_zero(data):
    x, zero, swap = splat_case(data, data.draw(st.sampled_from([0.0, -0.0])))
    check(sr.AddZero, [x], lambda x: v(nn.AddOp, *ordered(swap, x, const(zero))))


@covers(sr.SubZero)
@given(st.data())
def test_sub_zero(data):
    x, zero, _ = splat_case(data, 0.0)
    check(sr.SubZero, [x], lambda x: v(nn.SubOp, x, const(zero)))


@covers(sr.DivByOne)
@given(st.data())
def test_div_by_one(data):
    x, one, _ = splat_case(data, 1.0)
    check(sr.DivByOne, [x], lambda x: v(nn.DivOp, x, const(one)))


@covers(sr.DivByPowerOfTwo)
@given(st.data())
def test_div_by_power_of_two(data):
    shape = data.draw(shapes)
    x = data.draw(arrays(shape))
    exponents = st.integers(-20, 20).map(lambda k: F32(2.0 ** k))
    c = data.draw(arrays(data.draw(narrower(shape)), exponents))
    c *= data.draw(st.sampled_from([1, -1]))
    check(sr.DivByPowerOfTwo, [x], lambda x: v(nn.DivOp, x, const(c)))


@covers(sr.DivByConstant)
@given(st.data())
def test_div_by_constant(data):
    shape = data.draw(shapes)
    x = data.draw(arrays(shape, MODERATE))
    c = data.draw(arrays(data.draw(narrower(shape)), AWAY_FROM_ZERO))
    c[...] = np.where(sr.exact_reciprocal(c), F32(3), c)  # keep it off the exact rule's turf
    check(sr.DivByConstant, [x], lambda x: v(nn.DivOp, x, const(c)), (1e-6, 1e-7))


NON_NEGATIVE = (nn.ReluOp, nn.AbsOp, nn.ExpOp, nn.SigmoidOp)


@covers(sr.SqrtTimesSqrt)
@given(st.data())
def test_sqrt_times_sqrt(data):
    x = data.draw(arrays(data.draw(shapes), MODERATE))
    make_non_negative = data.draw(st.sampled_from(NON_NEGATIVE))
    shared = data.draw(st.booleans())

    def body(x):
        y = v(make_non_negative, x)
        root = v(nn.SqrtOp, y)
        return v(nn.MulOp, root, root if shared else v(nn.SqrtOp, y))

    check(sr.SqrtTimesSqrt, [x], body, (1e-6, 1e-7))


def pow_case(data, exponent, elements=ANY):
    shape = data.draw(shapes)
    x = data.draw(arrays(shape, elements))
    n = np.full(data.draw(narrower(shape)), exponent, F32)
    return x, n


@covers(sr.PowZero)
@given(st.data())
def test_pow_zero(data):
    x, n = pow_case(data, 0.0, MODERATE)  # not signalling NaNs, see PowZero
    check(sr.PowZero, [x], lambda x: v(nn.PowOp, x, const(n)), (0, 0))


@covers(sr.PowOne)
@given(st.data())
def test_pow_one(data):
    x, n = pow_case(data, 1.0)
    check(sr.PowOne, [x], lambda x: v(nn.PowOp, x, const(n)))


@covers(sr.PowTwo)
@given(st.data())
def test_pow_two(data):
    x, n = pow_case(data, 2.0, MODERATE)
    check(sr.PowTwo, [x], lambda x: v(nn.PowOp, x, const(n)), (1e-6, 0))


@covers(sr.PowSmallInteger)
@given(st.data())
def test_pow_small_integer(data):
    exponent = data.draw(st.sampled_from([3, 4, -1, -2, -3, -4]))
    x, n = pow_case(data, exponent, AWAY_FROM_ZERO)
    check(sr.PowSmallInteger, [x], lambda x: v(nn.PowOp, x, const(n)), (1e-6, 0))


@covers(sr.NegOfNeg)
@given(st.data())
def test_neg_of_neg(data):
    x = data.draw(arrays(data.draw(shapes)))
    check(sr.NegOfNeg, [x], lambda x: v(nn.NegOp, v(nn.NegOp, x)))


def two_inputs(data):
    shape = data.draw(shapes)
    x = data.draw(arrays(shape))
    y = data.draw(arrays(data.draw(narrower(shape))))
    return ordered(data.draw(st.booleans()), x, y)


@covers(sr.AddOfNeg)
@given(st.data())
def test_add_of_neg(data):
    x, y = two_inputs(data)
    swap = data.draw(st.booleans())
    check(sr.AddOfNeg, [x, y], lambda x, y: v(nn.AddOp, *ordered(swap, x, v(nn.NegOp, y))))


@covers(sr.SubOfNeg)
@given(st.data())
def test_sub_of_neg(data):
    x, y = two_inputs(data)
    check(sr.SubOfNeg, [x, y], lambda x, y: v(nn.SubOp, x, v(nn.NegOp, y)))


@covers(sr.NegTimesNeg)
@given(st.data())
def test_neg_times_neg(data):
    x, y = two_inputs(data)
    check(sr.NegTimesNeg, [x, y], lambda x, y: v(nn.MulOp, v(nn.NegOp, x), v(nn.NegOp, y)))


# --- layout -----------------------------------------------------------------------------


@covers(layout.TransposeOfTranspose)
@given(st.data())
def test_transpose_of_transpose(data):
    shape = data.draw(hnp.array_shapes(min_dims=2, max_dims=4, max_side=3))
    x = data.draw(arrays(shape))
    p = data.draw(st.permutations(range(len(shape))))
    q = data.draw(st.permutations(range(len(shape))))
    check(layout.TransposeOfTranspose, [x],
          lambda x: v(nn.TransposeOp, v(nn.TransposeOp, x, p), q))


@covers(layout.IdentityTranspose)
@given(st.data())
def test_identity_transpose(data):
    x = data.draw(arrays(data.draw(shapes)))
    check(layout.IdentityTranspose, [x], lambda x: v(nn.TransposeOp, x, range(x.type.get_num_dims())))


@st.composite
def reshapes_of(draw, shape):
    """Another shape with the same number of elements."""
    size = int(np.prod(shape))
    dims = []
    while size > 1:
        divisor = draw(st.sampled_from([d for d in range(2, size + 1) if size % d == 0]))
        dims.append(divisor)
        size //= divisor
    return tuple(draw(st.permutations(dims))) + (1,) * draw(st.integers(0, 1))


@covers(layout.ReshapeOfReshape)
@given(st.data())
def test_reshape_of_reshape(data):
    shape = data.draw(shapes)
    x = data.draw(arrays(shape))
    middle, last = data.draw(reshapes_of(shape)), data.draw(reshapes_of(shape))
    check(layout.ReshapeOfReshape, [x],
          lambda x: v(nn.ReshapeOp, v(nn.ReshapeOp, x, middle), last))


@covers(layout.IdentityReshape)
@given(st.data())
def test_identity_reshape(data):
    shape = data.draw(shapes)
    x = data.draw(arrays(shape))
    check(layout.IdentityReshape, [x], lambda x: v(nn.ReshapeOp, x, shape))


# --- folding ----------------------------------------------------------------------------

UNARY_FOLDS = (nn.NegOp, nn.AbsOp, nn.ReluOp, nn.SqrtOp, nn.ReciprocalOp, nn.RsqrtOp)
BINARY_FOLDS = (nn.AddOp, nn.SubOp, nn.MulOp, nn.DivOp, nn.MaxOp, nn.MinOp)


@st.composite
def constant_expression(draw):
    """A function that builds one foldable op on constants."""
    kind = draw(st.sampled_from(["unary", "binary", "clamp", "transpose", "reshape", "slice",
                                 "concat", "pad", "expand"]))
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=3, max_side=3))
    c = draw(arrays(shape))
    if kind == "unary":
        op = draw(st.sampled_from(UNARY_FOLDS))
        return lambda: v(op, const(c))
    if kind == "binary":
        op = draw(st.sampled_from(BINARY_FOLDS))
        d = draw(arrays(draw(narrower(shape))))
        swap = draw(st.booleans())
        return lambda: v(op, *ordered(swap, const(c), const(d)))
    if kind == "clamp":
        low, high = sorted(draw(st.lists(MODERATE, min_size=2, max_size=2)))
        return lambda: v(nn.ClampOp, const(c), low, high)
    if kind == "transpose":
        p = draw(st.permutations(range(len(shape))))
        return lambda: v(nn.TransposeOp, const(c), p)
    if kind == "reshape":
        target = draw(reshapes_of(shape))
        return lambda: v(nn.ReshapeOp, const(c), target)
    if kind == "slice":
        start = [draw(st.integers(0, d - 1)) for d in shape]
        end = [draw(st.integers(s + 1, d)) for s, d in zip(start, shape, strict=True)]
        step = [draw(st.integers(1, 2)) for _ in shape]
        return lambda: v(nn.SliceOp, const(c), start, end, step)
    if kind == "concat":
        d = draw(arrays(shape))
        axis = draw(st.integers(0, len(shape) - 1))
        return lambda: v(nn.ConcatOp, [const(c), const(d)], axis)
    if kind == "pad":
        small = c.reshape(-1)[:2]
        fill, high = draw(MODERATE), draw(st.integers(0, 2))
        return lambda: v(nn.PadOp, const(small), [1], [high], fill)
    small = c.reshape(-1)[:1]
    return lambda: v(nn.ExpandOp, const(small), (2, 2))


@covers(fold.FoldConstant)
@given(st.data())
def test_fold_constant(data):
    build = data.draw(constant_expression())
    probe = module([], build)  # to learn the folded value's type
    result_type = next(op for op in probe.walk() if isinstance(op, func.ReturnOp)).operands[0].type
    x = data.draw(arrays(tuple(result_type.get_shape())))
    check(fold.FoldConstant, [x], lambda x: v(nn.AddOp, x, build()))


@dataclass(frozen=True)
class Weighted:
    """A conv2d or linear with constant weights; calling it on a value builds it."""

    kind: str
    x: np.ndarray
    w: np.ndarray
    b: np.ndarray | None
    stride: int = 1
    pad: int = 0
    groups: int = 1

    @property
    def channels(self) -> int:
        return self.w.shape[0]

    def __call__(self, x: SSAValue) -> SSAValue:
        bias = None if self.b is None else const(self.b)
        if self.kind == "conv":
            return v(nn.Conv2dOp, x, const(self.w), bias, stride=(self.stride, self.stride),
                     padding=(self.pad, self.pad), groups=self.groups)
        return v(nn.LinearOp, x, const(self.w), bias)


@st.composite
def weighted_case(draw, bias: bool | None = None, linear_rank: int | None = None):
    kind = draw(st.sampled_from(["conv", "linear"]))
    has_bias = draw(st.booleans()) if bias is None else bias
    if kind == "conv":
        cin, cout, k = draw(st.integers(1, 3)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
        groups = draw(st.sampled_from([1, cin]))  # or depthwise
        cout = cin if groups > 1 else cout
        size = draw(st.integers(k, 5))
        x = draw(arrays((1, cin, size, size), MODERATE))
        w = draw(arrays((cout, cin // groups, k, k), MODERATE))
        stride, pad = draw(st.integers(1, 2)), draw(st.integers(0, k // 2))
    else:
        rank = linear_rank or draw(st.integers(1, 3))
        inputs, cout = draw(st.integers(1, 4)), draw(st.integers(1, 4))
        leading = tuple(draw(st.integers(1, 3)) for _ in range(rank - 1))
        x = draw(arrays((*leading, inputs), MODERATE))
        w = draw(arrays((cout, inputs), MODERATE))
        stride, pad, groups = 1, 0, 1
    b = draw(arrays((cout,), MODERATE)) if has_bias else None
    return Weighted(kind, x, w, b, stride, pad, groups)


@covers(fold.FoldBatchNormIntoWeights)
@given(st.data())
def test_fold_batch_norm_into_weights(data):
    producer = data.draw(weighted_case(linear_rank=2))
    channels = producer.channels
    scale, shift, mean = (data.draw(arrays((channels,), MODERATE)) for _ in range(3))
    var = data.draw(arrays((channels,), POSITIVE))
    epsilon = data.draw(st.sampled_from([1e-5, 1e-3]))

    def body(x):
        return v(nn.BatchNormOp, producer(x), const(scale), const(shift), const(mean),
                 const(var), epsilon)

    check(fold.FoldBatchNormIntoWeights, [producer.x], body, FOLDING)


def per_channel_constant(data, producer: Weighted, elements):
    """A constant that broadcasts along the output channels only."""
    channels = producer.channels
    if producer.kind == "conv":
        shape = data.draw(st.sampled_from([(), (1,), (channels, 1, 1), (1, channels, 1, 1)]))
    else:
        shape = data.draw(st.sampled_from([(), (1,), (channels,)]))
    return data.draw(arrays(shape, elements))


@covers(fold.FoldMulIntoWeights)
@given(st.data())
def test_fold_mul_into_weights(data):
    producer = data.draw(weighted_case())
    c = per_channel_constant(data, producer, MODERATE)
    swap = data.draw(st.booleans())
    check(fold.FoldMulIntoWeights, [producer.x],
          lambda x: v(nn.MulOp, *ordered(swap, producer(x), const(c))), FOLDING)


def bias_body(data, producer, c):
    form = data.draw(st.sampled_from(["add", "add-swapped", "sub"]))

    def body(x):
        y, term = producer(x), const(c)
        if form == "sub":
            return v(nn.SubOp, y, term)
        return v(nn.AddOp, *ordered(form == "add-swapped", y, term))

    return body


@covers(fold.FoldAddIntoMissingBias)
@given(st.data())
def test_fold_add_into_missing_bias(data):
    producer = data.draw(weighted_case(bias=False))
    c = per_channel_constant(data, producer, ANY)
    check(fold.FoldAddIntoMissingBias, [producer.x], bias_body(data, producer, c))


@covers(fold.FoldAddIntoBias)
@given(st.data())
def test_fold_add_into_bias(data):
    producer = data.draw(weighted_case(bias=True))
    c = per_channel_constant(data, producer, MODERATE)
    check(fold.FoldAddIntoBias, [producer.x], bias_body(data, producer, c), FOLDING)


@covers(fold.MergeLinears)
@given(st.data())
def test_merge_linears(data):
    rows, inputs, outputs = (data.draw(st.integers(1, 3)) for _ in range(3))
    hidden = data.draw(st.integers(max(inputs, outputs) + 1, 8))  # merging saves FLOPs
    x = data.draw(arrays((rows, inputs), MODERATE))
    w1 = data.draw(arrays((hidden, inputs), MODERATE))
    w2 = data.draw(arrays((outputs, hidden), MODERATE))
    b1, b2 = (data.draw(st.none() | arrays((n,), MODERATE)) for n in (hidden, outputs))

    def body(x):
        first = v(nn.LinearOp, x, const(w1), None if b1 is None else const(b1))
        return v(nn.LinearOp, first, const(w2), None if b2 is None else const(b2))

    check(fold.MergeLinears, [x], body, FOLDING)


# --- associative (Table 4, rows 1-4) ----------------------------------------------------


def factors(data, count, elements=AWAY_FROM_ZERO, shape=None):
    """`count` arrays whose shapes broadcast together to `shape` (the first has it)."""
    shape = shape or data.draw(shapes)
    first = data.draw(arrays(shape, elements))
    rest = [data.draw(arrays(data.draw(narrower(shape)), elements)) for _ in range(count - 1)]
    order = data.draw(st.permutations(range(count)))
    arrays_ = [first, *rest]
    return [arrays_[i] for i in order]


@covers(assoc.RecipOfProduct)
@given(st.data())
def test_recip_of_product(data):
    a, b = factors(data, 2)
    s1, s2 = data.draw(st.booleans()), data.draw(st.booleans())

    def body(a, b):
        recip_a = v(nn.ReciprocalOp, a)
        recip_ab = v(nn.ReciprocalOp, v(nn.MulOp, *ordered(s1, a, b)))
        return v(nn.MulOp, *ordered(s2, recip_a, recip_ab))

    check(assoc.RecipOfProduct, [a, b], body, REASSOCIATION)


@covers(assoc.SqrtPairProduct)
@given(st.data())
def test_sqrt_pair_product(data):
    a, b, c = factors(data, 3)
    shared = data.draw(st.booleans())
    swaps = [data.draw(st.booleans()) for _ in range(3)]

    def body(a, b, c):
        b = v(nn.AbsOp, b)  # a proof that b >= 0
        root = v(nn.SqrtOp, b)
        left = v(nn.MulOp, *ordered(swaps[0], a, root))
        right = v(nn.MulOp, *ordered(swaps[1], root if shared else v(nn.SqrtOp, b), c))
        return v(nn.MulOp, *ordered(swaps[2], left, right))

    check(assoc.SqrtPairProduct, [a, b, c], body, REASSOCIATION)


@covers(assoc.AbsPairProduct)
@given(st.data())
def test_abs_pair_product(data):
    shape = data.draw(shapes)
    a, c = (data.draw(arrays(shape, AWAY_FROM_ZERO)) for _ in range(2))  # 4mn -> 3mn
    b = data.draw(arrays(data.draw(narrower(shape)), AWAY_FROM_ZERO))
    grouping = data.draw(st.permutations([0, 1, 2]))  # which leaves the inner mul takes
    swaps = [data.draw(st.booleans()) for _ in range(2)]

    def body(a, b, c):
        leaves = [v(nn.AbsOp, a), b, v(nn.AbsOp, c)]
        x, y, z = (leaves[i] for i in grouping)
        return v(nn.MulOp, *ordered(swaps[0], v(nn.MulOp, x, y), z))

    check(assoc.AbsPairProduct, [a, b, c], body, REASSOCIATION)


@covers(assoc.RepeatedFactor)
@given(st.data())
def test_repeated_factor(data):
    shape = data.draw(hnp.array_shapes(min_dims=2, max_dims=3, min_side=2, max_side=4))
    a, b, c = (data.draw(arrays(shape, AWAY_FROM_ZERO)) for _ in range(3))
    shared = data.draw(st.booleans())
    swaps = [data.draw(st.booleans()) for _ in range(3)]

    def body(a, b, c):
        def reduce_sum():
            return v(nn.ReduceSumOp, b, [-1], True)

        u = reduce_sum()
        left = v(nn.MulOp, *ordered(swaps[0], a, u))
        right = v(nn.MulOp, *ordered(swaps[1], u if shared else reduce_sum(), c))
        return v(nn.MulOp, *ordered(swaps[2], left, right))

    check(assoc.RepeatedFactor, [a, b, c], body, REASSOCIATION)


# --- distributive (Table 4, rows 5-7) ---------------------------------------------------


@covers(dist.FactorCommonMultiplicand)
@given(st.data())
def test_factor_common_multiplicand(data):
    a, b, c = factors(data, 3, MODERATE)
    combine = data.draw(st.sampled_from([nn.AddOp, nn.SubOp]))
    swaps = [data.draw(st.booleans()) for _ in range(2)]

    def body(a, b, c):
        return v(combine, v(nn.MulOp, *ordered(swaps[0], a, b)),
                 v(nn.MulOp, *ordered(swaps[1], a, c)))

    check(dist.FactorCommonMultiplicand, [a, b, c], body, REASSOCIATION)


@covers(dist.FactorCommonMultiplicand)
@given(st.data())
def test_table_4_row_7_square_minus_product(data):
    """Square(A+B) - (A+B)⊙C -> (A+B)⊙(A+B-C), the two A+B being separate ops."""
    a, b, c = factors(data, 3, MODERATE)
    swap = data.draw(st.booleans())

    def body(a, b, c):
        s1, s2 = v(nn.AddOp, a, b), v(nn.AddOp, a, b)
        return v(nn.SubOp, v(nn.MulOp, s1, s1), v(nn.MulOp, *ordered(swap, s2, c)))

    check(dist.FactorCommonMultiplicand, [a, b, c], body, REASSOCIATION)


@covers(dist.FactorOutOperand)
@given(st.data())
def test_factor_out_operand(data):
    shape = data.draw(wide_shapes)
    a = data.draw(arrays(shape, MODERATE))
    b = data.draw(arrays(data.draw(narrower(shape)), MODERATE))
    swaps = [data.draw(st.booleans()) for _ in range(2)]

    def body(a, b):
        return v(nn.AddOp, *ordered(swaps[0], a, v(nn.MulOp, *ordered(swaps[1], a, b))))

    check(dist.FactorOutOperand, [a, b], body, REASSOCIATION)


@covers(dist.FactorCommonDivisor)
@given(st.data())
def test_factor_common_divisor(data):
    a, b, c = factors(data, 3, AWAY_FROM_ZERO)
    combine = data.draw(st.sampled_from([nn.AddOp, nn.SubOp]))
    check(dist.FactorCommonDivisor, [a, b, c],
          lambda a, b, c: v(combine, v(nn.DivOp, a, c), v(nn.DivOp, b, c)), REASSOCIATION)


@covers(dist.FactorCommonMatmulOperand)
@given(st.data())
def test_factor_common_matmul_operand(data):
    m, k, n = (data.draw(st.integers(1, 4)) for _ in range(3))
    batch = data.draw(st.sampled_from([(), (2,)]))
    side = data.draw(st.sampled_from(["left", "right"]))
    combine = data.draw(st.sampled_from([nn.AddOp, nn.SubOp]))
    shared_shape, other_shape = ((*batch, m, k), (*batch, k, n))
    if side == "right":
        shared_shape, other_shape = (*batch, k, n), (*batch, m, k)
    a = data.draw(arrays(shared_shape, MODERATE))
    b, c = (data.draw(arrays(other_shape, MODERATE)) for _ in range(2))

    def product(shared, other):
        return v(nn.MatmulOp, *((shared, other) if side == "left" else (other, shared)))

    check(dist.FactorCommonMatmulOperand, [a, b, c],
          lambda a, b, c: v(combine, product(a, b), product(a, c)), FOLDING)


@covers(dist.FactorCommonConvInput)
@given(st.data())
def test_factor_common_conv_input(data):
    first = data.draw(weighted_case())
    second = replace(first, w=data.draw(arrays(first.w.shape, MODERATE)),
                     b=data.draw(st.none() | arrays((first.channels,), MODERATE)))
    combine = data.draw(st.sampled_from([nn.AddOp, nn.SubOp]))
    check(dist.FactorCommonConvInput, [first.x], lambda x: v(combine, first(x), second(x)),
          FOLDING)


@covers(dist.MergeReduceSums)
@given(st.data())
def test_merge_reduce_sums(data):
    shape = data.draw(wide_shapes)
    a, b = (data.draw(arrays(shape, MODERATE)) for _ in range(2))
    axes = data.draw(st.lists(st.integers(0, len(shape) - 1), min_size=1, unique=True))
    keep = data.draw(st.booleans())
    combine = data.draw(st.sampled_from([nn.AddOp, nn.SubOp]))
    check(dist.MergeReduceSums, [a, b],
          lambda a, b: v(combine, v(nn.ReduceSumOp, a, axes, keep),
                         v(nn.ReduceSumOp, b, axes, keep)), FOLDING)


# --- commutative ------------------------------------------------------------------------


@covers(comm.ScaleOutOfReduction)
@given(st.data())
def test_scale_out_of_reduction(data):
    shape = data.draw(wide_shapes)
    x = data.draw(arrays(shape, MODERATE))
    axes = data.draw(st.lists(st.integers(0, len(shape) - 1), min_size=1, unique=True))
    keep = data.draw(st.booleans())
    c_shape = list(data.draw(narrower(shape)))
    for axis in axes:  # c is constant along the reduced axes
        offset = axis - (len(shape) - len(c_shape))
        if offset >= 0:
            c_shape[offset] = 1
    c = data.draw(arrays(tuple(c_shape), MODERATE))
    reduce = data.draw(st.sampled_from([nn.ReduceSumOp, nn.ReduceMeanOp]))
    swap = data.draw(st.booleans())
    check(comm.ScaleOutOfReduction, [x],
          lambda x: v(reduce, v(nn.MulOp, *ordered(swap, x, const(c))), axes, keep), FOLDING)


def unary_of(data, kinds):
    kind = data.draw(st.sampled_from(kinds))
    if kind is nn.ClampOp:
        low, high = sorted(data.draw(st.lists(MODERATE, min_size=2, max_size=2)))
        return lambda x: v(nn.ClampOp, x, low, high)
    return lambda x: v(kind, x)


@covers(comm.MonotoneOutOfReduceMax, comm.ExpOutOfReduceMax)
@given(st.data())
def test_out_of_reduce_max(data):
    rule = data.draw(st.sampled_from([comm.MonotoneOutOfReduceMax, comm.ExpOutOfReduceMax]))
    shape = data.draw(wide_shapes)
    x = data.draw(arrays(shape, ANY if rule.EXACT else MODERATE))
    axes = data.draw(st.lists(st.integers(0, len(shape) - 1), min_size=1, unique=True))
    keep = data.draw(st.booleans())
    f = unary_of(data, rule.MONOTONE)
    check(rule, [x], lambda x: v(nn.ReduceMaxOp, f(x), axes, keep), (1e-6, 0))


@covers(comm.MonotoneOutOfMaxPool, comm.ExpOutOfMaxPool)
@given(st.data())
def test_out_of_max_pool(data):
    rule = data.draw(st.sampled_from([comm.MonotoneOutOfMaxPool, comm.ExpOutOfMaxPool]))
    kernel = (data.draw(st.integers(2, 3)), data.draw(st.integers(2, 3)))
    padding = tuple(data.draw(st.integers(0, k // 2)) for k in kernel)
    ceil_mode = data.draw(st.booleans())
    size = (data.draw(st.integers(4, 6)), data.draw(st.integers(4, 6)))
    x = data.draw(arrays((1, 2, *size), ANY if rule.EXACT else MODERATE))
    f = unary_of(data, rule.MONOTONE)
    check(rule, [x], lambda x: v(nn.MaxPool2dOp, f(x), kernel, (2, 2), padding,
                                 ceil_mode=ceil_mode), (1e-6, 0))


@covers(comm.ProductOfExps)
@given(st.data())
def test_product_of_exps(data):
    a, b = factors(data, 2, MODERATE)
    check(comm.ProductOfExps, [a, b],
          lambda a, b: v(nn.MulOp, v(nn.ExpOp, a), v(nn.ExpOp, b)), (1e-5, 0))


# --- all the rules together on random expression DAGs -----------------------------------

DAG_SHAPE = (2, 3)


@st.composite
def expression_dags(draw, unary, binary, constants):
    """A function building a random DAG of element-wise and layout ops over two 2x3
    inputs and a few constants (every value keeps the 2x3 shape), and its inputs."""
    steps = draw(st.lists(st.tuples(st.integers(0, 99), st.integers(0, 99),
                                    st.integers(0, 99)), min_size=1, max_size=10))
    kinds = [*unary, *binary, "transposes", "reshapes"]

    def build(x, y):
        values = [x, y, *(const(c) for c in constants)]
        for kind_index, i, j in steps:
            kind, a, b = kinds[kind_index % len(kinds)], values[i % len(values)], values[j % len(values)]
            if a.type.get_shape() != DAG_SHAPE:
                a = x
            if kind == "transposes":
                values.append(v(nn.TransposeOp, v(nn.TransposeOp, a, [1, 0]), [1, 0]))
            elif kind == "reshapes":
                values.append(v(nn.ReshapeOp, v(nn.ReshapeOp, a, (6,)), DAG_SHAPE))
            elif kind in unary:
                values.append(v(kind, a))
            else:
                values.append(v(kind, a, b))
        return values[-1] if values[-1].type.get_shape() == DAG_SHAPE else v(nn.AddOp, x, values[-1])

    return build


EXACT_CONSTANTS = [np.array(1, F32), np.array(0, F32), np.array(-1, F32), np.full(3, 0.5, F32),
                   np.array([1, 2, 4], F32)]


@given(st.data())
def test_exact_rules_together_change_no_value(data):
    build = data.draw(expression_dags(
        unary=(nn.NegOp, nn.AbsOp, nn.ReluOp, nn.SqrtOp, nn.ExpOp, nn.ReciprocalOp),
        binary=(nn.AddOp, nn.SubOp, nn.MulOp, nn.DivOp, nn.MaxOp), constants=EXACT_CONSTANTS))
    inputs = [data.draw(arrays(DAG_SHAPE)) for _ in range(2)]
    original = module(inputs, build)
    rewritten = original.clone()
    AlgebraicPass().apply(Context(), rewritten)
    for b, a in zip(interpret(original, *inputs), interpret(rewritten, *inputs), strict=True):
        assert np.array_equal(a, b, equal_nan=True)
    assert rewrite_greedily(rewritten, enabled_rules(reassociate=False)) == []  # a fixpoint


@given(st.data())
def test_all_rules_together_stay_close_on_positive_values(data):
    """No subtraction and positive values: nothing cancels, so reassociation can only
    add a few roundings per op."""
    build = data.draw(expression_dags(
        unary=(nn.SqrtOp, nn.ReciprocalOp, nn.AbsOp),
        binary=(nn.AddOp, nn.MulOp, nn.DivOp, nn.MaxOp),
        constants=[np.array(1, F32), np.array(2, F32), np.array([0.5, 3, 0.25], F32)]))
    inputs = [data.draw(arrays(DAG_SHAPE, MAGNITUDE)) for _ in range(2)]
    original = module(inputs, build)
    rewritten = original.clone()
    AlgebraicPass(reassociate=True).apply(Context(), rewritten)
    for b, a in zip(interpret(original, *inputs), interpret(rewritten, *inputs), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5)
    assert rewrite_greedily(rewritten, enabled_rules(reassociate=True)) == []  # a fixpoint
