"""Sparse kernels, over generated shapes, blocks, structures and epilogues: the JIT-compiled
module with packed weights (#sparse.bcr, #sparse.pattern, #sparse.csr) == the reference
interpreter on the same module (unpack + dense op) == the JIT-compiled module with the
dense, masked weights.

Shapes are odd on purpose (rows, columns and output widths that are not multiples of the
vector width, 1x1, 3x3 and rectangular kernels, strides 1-3 per axis, padding, dilation,
groups, depthwise, batches of images, 3-D linear inputs); structures are random (tiles
with different numbers of kept rows and columns, kept weights that are exactly zero,
empty rows and tiles), not only what the pruner makes; epilogues (bias, residual add,
broadcast multiply, ReLU, batch norm) are fused into the sparse kernels. Each example compiles a batch of instances as
one module, with 1 or 2 threads.

Tolerance (float32): |a - b| <= 1e-5 * max(1, max|b|) + 1e-5 * |b| elementwise: the
sparse kernels sum in a different order than numpy and than the dense kernel.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from unittest.mock import patch

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from xdsl.dialects import func
from xdsl.dialects.builtin import ModuleOp, TensorType
from xdsl.ir import Block, Region, SSAValue

from sparsec.dialects import nn
from sparsec.dialects.resources import tensor_type_of
from sparsec.dialects.sparse import AssembleOp, BCRAttr, CSRAttr, PatternAttr, pack
from sparsec.interpreters import interpret
from sparsec.runtime.compiled import compile as jit_compile
from sparsec.transforms.sparsity.pattern import ALL_PATTERNS

RTOL = 1e-5
ATOL = 1e-5
BATCH = 4

_KEYS = iter(range(10**9))


pytestmark = pytest.mark.usefixtures("private_jit_cache")


def examples() -> settings:
    return settings(max_examples=max(3, settings.default.max_examples // 3), deadline=None)


# --- weights ----------------------------------------------------------------------------


def normal(seed: int, shape, scale: float = 1.0) -> np.ndarray:
    return (np.random.default_rng(seed).standard_normal(shape) * scale).astype(np.float32)


def bcr_weight(seed: int, shape: tuple[int, ...], block: tuple[int, int],
               density: float) -> np.ndarray:
    """Random BCR structure: each tile keeps a random set of rows and of columns (some
    tiles none), and a few kept weights are exactly zero."""
    rng = np.random.default_rng(seed)
    m, k = shape[0], int(np.prod(shape[1:]))
    (bm, bk) = block
    rows = rng.random((m // bm, k // bk, bm)) < density
    cols = rng.random((m // bm, k // bk, bk)) < density
    kept = rows[..., :, None] & cols[..., None, :]
    kept = kept.transpose(0, 2, 1, 3).reshape(m, k) & (rng.random((m, k)) > 0.05)
    return np.where(kept, normal(seed + 1, (m, k)), 0).astype(np.float32).reshape(shape)


def csr_weight(seed: int, shape: tuple[int, ...], density: float) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.where(rng.random(shape) < density, normal(seed + 1, shape), 0).astype(np.float32)


def pattern_weight(seed: int, shape: tuple[int, ...], patterns, density: float) -> np.ndarray:
    """Every kernel in one pattern of the set, a fraction pruned whole."""
    rng = np.random.default_rng(seed)
    cout, cin = shape[:2]
    masks = np.zeros((len(patterns), 9), bool)
    for i, p in enumerate(patterns):
        masks[i, list(p)] = True
    kept = masks[rng.integers(0, len(patterns), (cout, cin))]
    kept &= (rng.random((cout, cin)) < density)[:, :, None]
    w = np.where(kept, normal(seed + 1, (cout, cin, 9)), 0).astype(np.float32)
    return w.reshape(shape)


@dataclass
class Weight:
    """A masked weight and the encoding its packed form uses."""

    array: np.ndarray
    encoding: object

    def ops(self, sparse: bool) -> tuple[list, SSAValue]:
        """The weight as a dense constant, or as its packed arrays and a sparse.assemble."""
        if not sparse:
            c = nn.ConstantOp.from_array(self.array, f"w{next(_KEYS)}")
            return [c], c.result
        arrays = [nn.ConstantOp.from_array(a, f"w{next(_KEYS)}")
                  for a in pack(self.encoding, self.array).values()]
        type = TensorType(tensor_type_of(self.array).get_element_type(), self.array.shape,
                          self.encoding)
        assemble = AssembleOp([a.result for a in arrays], type)
        return [*arrays, assemble], assemble.result


def bias_constant(bias: np.ndarray | None) -> tuple[list, SSAValue | None]:
    """The ops that make `bias` a constant, and its value (none without a bias)."""
    if bias is None:
        return [], None
    c = nn.ConstantOp.from_array(bias, f"b{next(_KEYS)}")
    return [c], c.result


@st.composite
def structured(draw, shape: tuple[int, ...], kinds=("bcr", "csr")) -> Weight:
    """A weight of `shape` in one of `kinds` (bcr only with a block that divides it)."""
    m, k = shape[0], int(np.prod(shape[1:]))
    seed = draw(st.integers(0, 2**31 - 1))
    density = draw(st.sampled_from([0.1, 0.4, 0.8, 1.0]))
    usable = [kind for kind in kinds if kind != "pattern" or tuple(shape[2:]) == (3, 3)]
    kind = draw(st.sampled_from(usable))
    if kind == "bcr":
        bm = draw(st.sampled_from([d for d in (1, 2, 3, 4, 8, 16) if m % d == 0]))
        bk = draw(st.sampled_from([d for d in (1, 2, 3, 4, 9, 16) if k % d == 0]))
        return Weight(bcr_weight(seed, shape, (bm, bk), density), BCRAttr((bm, bk)))
    if kind == "pattern":
        patterns = sorted(draw(st.lists(st.sampled_from(ALL_PATTERNS), min_size=1,
                                        max_size=8, unique=True)))
        return Weight(pattern_weight(seed, shape, patterns, density), PatternAttr(patterns))
    return Weight(csr_weight(seed, shape, density), CSRAttr())


# --- cases and checking -----------------------------------------------------------------


@dataclass
class Case:
    """One op instance: run-time inputs, its weight, and a builder from (block arguments,
    weight value) to ops and the value returned."""

    inputs: list[np.ndarray]
    weight: Weight
    build: Callable[[list[SSAValue], SSAValue], tuple[list, SSAValue]]
    label: str


def module_of(cases: list[Case], sparse: bool) -> tuple[ModuleOp, list[np.ndarray]]:
    arrays = [a for case in cases for a in case.inputs]
    types = [tensor_type_of(a) for a in arrays]
    block = Block(arg_types=types)
    results, position = [], 0
    for case in cases:
        args = list(block.args[position:position + len(case.inputs)])
        position += len(case.inputs)
        weight_ops, weight = case.weight.ops(sparse)
        block.add_ops(weight_ops)
        ops, result = case.build(args, weight)
        block.add_ops(ops)
        results.append(result)
    block.add_op(func.ReturnOp(*results))
    function = func.FuncOp("main", (types, [r.type for r in results]), Region(block))
    return ModuleOp([function]), arrays


def close(got: np.ndarray, want: np.ndarray, label: str) -> None:
    assert got.shape == want.shape and got.dtype == want.dtype, label
    scale = max(1.0, float(np.max(np.abs(want), initial=0.0)))
    np.testing.assert_allclose(got, want, rtol=RTOL, atol=ATOL * scale, err_msg=label)


def check_batch(cases: list[Case], threads: int) -> None:
    sparse, arrays = module_of(cases, sparse=True)
    dense, _ = module_of(cases, sparse=False)
    oracle = interpret(sparse, *arrays)
    packed = jit_compile(sparse, threads=threads)
    assert any(k["name"].startswith(("conv2d", "linear", "matmul")) for k in packed.kernels)
    got = packed(*arrays)
    want = jit_compile(dense, threads=threads)(*arrays)
    got = got if isinstance(got, tuple) else (got,)
    want = want if isinstance(want, tuple) else (want,)
    for case, a, b, c in zip(cases, got, want, oracle, strict=True):
        close(a, c, f"{case.label}: jit(packed) vs interpreter")
        close(a, b, f"{case.label}: jit(packed) vs jit(dense masked)")


@st.composite
def epilogue(draw, out_shape: tuple[int, ...], channel_axis: int):
    """Element-wise ops fused after the contraction: (extra inputs, builder)."""
    kind = draw(st.sampled_from(["none", "relu", "residual", "scale", "batch_norm"]))
    seed = draw(st.integers(0, 2**31 - 1))
    if kind == "residual":
        extra = [normal(seed, out_shape)]

        def build(value, args):
            add = nn.AddOp(value, args[0])
            relu = nn.ReluOp(add.result)
            return [add, relu], relu.result
        return extra, build, kind
    if kind == "scale":  # broadcast along the output's innermost dim
        extra = [normal(seed, out_shape[-1:])]

        def build(value, args):
            mul = nn.MulOp(value, args[0])
            return [mul], mul.result
        return extra, build, kind
    if kind == "batch_norm" and channel_axis == 1 and len(out_shape) == 4:
        c = out_shape[1]
        stats = [normal(seed, (c,)), normal(seed + 1, (c,)), normal(seed + 2, (c,)),
                 np.abs(normal(seed + 3, (c,))) + np.float32(0.5)]

        def build(value, args):
            consts = [nn.ConstantOp.from_array(s, f"bn{next(_KEYS)}") for s in stats]
            bn = nn.BatchNormOp(value, *(c.result for c in consts), epsilon=1e-5)
            return [*consts, bn], bn.result
        return [], build, kind
    if kind in ("relu", "batch_norm"):
        def build(value, args):
            relu = nn.ReluOp(value)
            return [relu], relu.result
        return [], build, "relu"
    return [], lambda value, args: ([], value), "none"


@st.composite
def linear_case(draw) -> Case:
    leading = draw(st.sampled_from([(1,), (3,), (7,), (2, 5), (13,)]))
    n_out = draw(st.integers(1, 6)) * draw(st.sampled_from([1, 3, 4, 8]))
    depth = draw(st.integers(1, 5)) * draw(st.sampled_from([1, 2, 3, 4]))
    weight = draw(structured((n_out, depth)))
    seed = draw(st.integers(0, 2**31 - 1))
    x = normal(seed, (*leading, depth))
    bias = normal(seed + 1, (n_out,)) if draw(st.booleans()) else None
    extra, tail, kind = draw(epilogue((*leading, n_out), len(leading)))

    def build(args, w):
        ops, b = bias_constant(bias)
        op = nn.LinearOp(args[0], w, b)
        more, result = tail(op.result, args[1:])
        return [*ops, op, *more], result
    return Case([x, *extra], weight, build,
                f"linear x{x.shape} w{weight.array.shape} {weight.encoding} {kind}")


@st.composite
def conv_case(draw, kinds=("bcr", "csr", "pattern", "pattern")) -> Case:
    n = draw(st.integers(1, 2))
    kind = draw(st.sampled_from(["plain", "plain", "grouped", "depthwise"]))
    groups = {"plain": 1, "grouped": 2, "depthwise": draw(st.integers(2, 5))}[kind]
    cg = 1 if kind == "depthwise" else draw(st.integers(1, 4))
    per_group = 1 if kind == "depthwise" else draw(st.sampled_from([1, 2, 3, 4, 8, 12]))
    c_in, c_out = cg * groups, per_group * groups
    kh, kw = draw(st.sampled_from([(1, 1), (3, 3), (3, 3), (3, 1), (1, 3), (2, 3)]))
    sh, sw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    dilation = draw(st.sampled_from([1, 1, 2]))
    pad = draw(st.integers(0, 1))
    reach_h, reach_w = dilation * (kh - 1) + 1, dilation * (kw - 1) + 1
    h = draw(st.integers(max(1, reach_h - 2 * pad), 11))
    # wide rows too: a band row's vectors wholly inside the input are loaded plainly,
    # and with stride 3 that needs more than 3 x 8 columns
    w = draw(st.one_of(st.integers(max(1, reach_w - 2 * pad), 13), st.integers(25, 40)))
    weight = draw(structured((c_out, cg, kh, kw), kinds))
    seed = draw(st.integers(0, 2**31 - 1))
    x = normal(seed, (n, c_in, h, w))
    bias = normal(seed + 1, (c_out,)) if draw(st.booleans()) else None
    oh = (h + 2 * pad - reach_h) // sh + 1
    ow = (w + 2 * pad - reach_w) // sw + 1
    extra, tail, epi = draw(epilogue((n, c_out, oh, ow), 1))

    def build(args, wv):
        ops, b = bias_constant(bias)
        op = nn.Conv2dOp(args[0], wv, b, stride=(sh, sw),
                         padding=(pad, pad, pad, pad), dilation=(dilation, dilation),
                         groups=groups)
        more, result = tail(op.result, args[1:])
        return [*ops, op, *more], result
    return Case([x, *extra], weight, build,
                f"conv x{x.shape} w{weight.array.shape} g{groups} s{sh}x{sw} p{pad} "
                f"d{dilation} {weight.encoding} {epi}")


@st.composite
def matmul_case(draw) -> Case:
    """A constant 2-D right operand: re-packed at compile time as a linear weight."""
    batch = draw(st.sampled_from([(), (2,)]))
    m = draw(st.integers(1, 9))
    depth = draw(st.integers(1, 4)) * draw(st.sampled_from([1, 2, 4]))
    n_out = draw(st.integers(1, 4)) * draw(st.sampled_from([1, 3, 8]))
    weight = draw(structured((depth, n_out)))
    x = normal(draw(st.integers(0, 2**31 - 1)), (*batch, m, depth))

    def build(args, w):
        op = nn.MatmulOp(args[0], w)
        return [op], op.result
    return Case([x], weight, build, f"matmul x{x.shape} w{weight.array.shape} "
                                    f"{weight.encoding}")


@examples()
@given(st.lists(linear_case(), min_size=1, max_size=BATCH), st.integers(1, 2))
def test_sparse_linear(cases, threads):
    check_batch(cases, threads)


@examples()
@given(st.lists(conv_case(), min_size=1, max_size=BATCH), st.integers(1, 2))
def test_sparse_conv2d(cases, threads):
    check_batch(cases, threads)


@examples()
@given(st.lists(matmul_case(), min_size=1, max_size=BATCH), st.integers(1, 2))
def test_sparse_matmul(cases, threads):
    check_batch(cases, threads)


@examples()
@given(st.lists(conv_case(("bcr",)), min_size=1, max_size=BATCH), st.integers(1, 2))
def test_bcr_convolution_with_k_in_segments(cases, threads):
    """Every BCR convolution through the in-memory kernel, with K cut into segments of
    one block column where it reads a band in place (large layers get segments of
    several, `bcr.segment_columns`): the sums of every (block row, panel) wait in their
    own slots between segments."""
    from sparsec.lowering.kernels.sparse import bcr

    with patch.object(bcr, "in_registers", lambda *_: False), \
            patch.object(bcr, "XP_BYTES", 0), patch.object(bcr, "X_SEGMENT_BYTES", 0), \
            patch.object(bcr, "MIN_SEGMENT", 1), patch.object(bcr, "SUMS_BYTES", 1 << 40):
        check_batch(cases, threads)
