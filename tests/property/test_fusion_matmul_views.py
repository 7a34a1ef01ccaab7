"""A matrix product reads its operands through the views its fusion group folds:
transposes, slices, expands and reshapes of either operand become strides of the GEMM's
A reads and B packing (`gemm.strided_operand`), not copies; and it stores its result
straight into a transpose of it that keeps the last dim (`views.transpose_in_place`).
For drawn batch shapes, permutations, slices and broadcasts, the fused kernel matches
the interpreter, and the data movement of the matmul's group is inside the matmul's
kernel (no copy kernel)."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sparsec.dialects import nn
from sparsec.dialects.nn.builder import FunctionBuilder
from sparsec.interpreters import interpret
from sparsec.runtime.compiled import compile as jit_compile
from sparsec.transforms.fusion import fuse

RTOL = ATOL = 1e-4
"""JIT vs interpreter (float32), as in test_fusion.py: sums run in another order."""


pytestmark = pytest.mark.usefixtures("private_jit_cache")


@st.composite
def operand(draw, rows: int, cols: int, batch: tuple[int, ...]):
    """How a [*batch, rows, cols] operand is made from an input: (input shape, steps)
    with steps among transpose (of the stored matrix), slice (of a larger input), expand
    (of a batch of 1) and reshape (of a flat last dim)."""
    how = draw(st.sampled_from(["plain", "transpose", "slice", "expand", "reshape",
                                "transpose+slice"]))
    if how == "expand" and batch:
        return (1, *batch[1:], rows, cols), [("expand", (*batch, rows, cols))]
    if how == "reshape":
        return (*batch, rows * cols), [("reshape", (*batch, rows, cols))]
    steps = []
    shape = [*batch, rows, cols]
    if "slice" in how:
        extra = draw(st.integers(1, 3))
        start = draw(st.integers(0, extra))
        steps.append(("slice", start, extra))
        shape[-1] += extra
    if "transpose" in how:
        steps.append(("transpose",))
        shape[-2], shape[-1] = shape[-1], shape[-2]
    return tuple(shape), steps[::-1]  # applied input-side first


def apply(f, value, steps):
    for step in steps:
        dims = value.type.get_shape()
        if step[0] == "transpose":
            perm = (*range(len(dims) - 2), len(dims) - 1, len(dims) - 2)
            value = f(nn.TransposeOp(value, perm))
        elif step[0] == "slice":
            _, start, extra = step
            stop = [*dims[:-1], start + dims[-1] - extra]
            value = f(nn.SliceOp(value, [0] * (len(dims) - 1) + [start], stop))
        elif step[0] == "expand":
            value = f(nn.ExpandOp(value, step[1]))
        else:
            value = f(nn.ReshapeOp(value, step[1]))
    return value


class FusionAlwaysPays:
    """Every yellow cell fuses (as `fuse{profile=true}` may decide): Shuffle/Reorganize ->
    Many-to-Many is yellow, so only then do the moves join the matmul's group."""

    def latency(self, ops):
        return 1.0


MOVES = {"nn.transpose", "nn.slice", "nn.expand", "nn.reshape"}


def fused_matches_interpreter(module, data, shapes):
    """Fuse (every yellow cell), compile, and compare with the interpreter on drawn
    inputs; return the compiled model, the matmul's kernel and the groups by name."""
    rng = np.random.default_rng(data.draw(st.integers(0, 2**16)))
    inputs = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    expected = interpret(module, *inputs)[0]
    fuse(module, oracle=FusionAlwaysPays())
    compiled = jit_compile(module)
    actual = compiled(*inputs)
    scale = max(1.0, float(np.max(np.abs(expected), initial=0.0)))
    np.testing.assert_allclose(actual, expected, rtol=RTOL, atol=ATOL * scale)
    [kernel] = [k for k in compiled.kernels if "nn.matmul" in k["ops"]]
    return compiled, kernel, {g["name"]: g for g in compiled.fusion_summary["groups"]}


@given(data=st.data())
def test_matmul_reads_folded_views_of_both_operands(data):
    batch = data.draw(st.sampled_from([(), (2,), (2, 3)]))
    m, depth, n = (data.draw(st.integers(1, 19)) for _ in range(3))
    a_shape, a_steps = data.draw(operand(m, depth, batch))
    b_shape, b_steps = data.draw(operand(depth, n, batch))
    f = FunctionBuilder(a_shape, b_shape)
    a, b = f.args
    # an element-wise op before each chain seeds a group that grows through the moves
    # into the matmul
    lhs = apply(f, f(nn.ReluOp(a)), a_steps)
    rhs = apply(f, f(nn.TanhOp(b)), b_steps)
    module = f.module(f(nn.MatmulOp(lhs, rhs)))
    compiled, kernel, groups = fused_matches_interpreter(module, data, (a_shape, b_shape))
    if kernel["group"] in groups:  # the moves of the matmul's group are read in place
        moves = [op for op in groups[kernel["group"]]["ops"] if op in MOVES]
        assert [op for op in kernel["ops"] if op in MOVES] == moves


@given(data=st.data())
def test_matmul_stores_its_transpose_in_place(data):
    """A transpose of the product that keeps the last dim last (attention's P . V ->
    transpose(0, 2, 1, 3)) is stored by the matmul at the permuted strides: the same
    numbers, and no transpose kernel when it is in the matmul's group."""
    batch = data.draw(st.sampled_from([(2,), (2, 3), (3, 1, 2)]))
    m, depth, n = (data.draw(st.integers(1, 19)) for _ in range(3))
    rank = len(batch) + 2
    perm = (*data.draw(st.permutations(range(rank - 1))), rank - 1)
    f = FunctionBuilder((*batch, m, depth), (*batch, depth, n))
    a, b = f.args
    product = f(nn.MatmulOp(f(nn.ReluOp(a)), f(nn.TanhOp(b))))
    out = f(nn.TransposeOp(product, perm))
    read = data.draw(st.booleans())
    if read:  # a reader of the transposed value, which may read it as a view instead
        out = f(nn.SigmoidOp(out))
    module = f.module(out)
    compiled, kernel, groups = fused_matches_interpreter(
        module, data, ((*batch, m, depth), (*batch, depth, n)))
    if kernel["group"] in groups and "nn.transpose" in groups[kernel["group"]]["ops"]:
        assert not any(k["ops"] == ["nn.transpose"] for k in compiled.kernels)  # no copy
        if not read:  # the transposed value is the output: the matmul stores it
            assert "nn.transpose" in kernel["ops"]
