"""Kernels that read the views their fusion group folds, instead of copies.

A matrix product reads its operands through them: transposes, slices, expands and
reshapes of either operand become strides of the GEMM's A reads and B packing
(`gemm.strided_operand`); and it stores its result straight into a transpose of it that
keeps the last dim (`views.transpose_in_place`). A layer_norm's element-wise prologue
reads a view whose normalised rows are contiguous at each row's own base
(`reductions.rows_contiguous`). For drawn batch shapes, permutations, slices and
broadcasts, the fused kernel matches the interpreter, and the data movement of the
group is inside the kernel (no copy kernel) wherever the kernel can read it."""

from math import prod

import numpy as np
import pytest
from hypothesis import event, given
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


def fused_matches_interpreter(module, data, shapes, reader: str = "nn.matmul",
                              every_yellow: bool = True):
    """Fuse (every yellow cell, or none: `fuse{profile=false}`), compile, and compare
    every output with the interpreter's on drawn inputs; return the compiled model, the
    `reader` op's kernel and the groups by name."""
    rng = np.random.default_rng(data.draw(st.integers(0, 2**16)))
    inputs = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    expected = interpret(module, *inputs)
    fuse(module, oracle=FusionAlwaysPays() if every_yellow else None)
    compiled = jit_compile(module)
    actual = compiled(*inputs)
    for got, want in zip(actual if isinstance(actual, tuple) else (actual,), expected,
                         strict=True):
        scale = max(1.0, float(np.max(np.abs(want), initial=0.0)))
        np.testing.assert_allclose(got, want, rtol=RTOL, atol=ATOL * scale)
    [kernel] = [k for k in compiled.kernels if reader in k["ops"]]
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


@given(data=st.data())
def test_layer_norm_reads_and_stores_folded_views(data):
    """transpose (and a reshape from 2-D rows) -> add residual -> layer_norm, as after
    attention's output projection: where the transpose keeps each normalised row
    contiguous, the layer_norm kernel reads the moves' base in place; where it moves
    the normalised dim, the transpose is a copy. Optionally a transpose of the result
    that keeps the normalised dims last, which the layer_norm stores in place, and
    besides its own result when that is an output too. The same numbers either way."""
    outer = data.draw(st.lists(st.integers(1, 4), min_size=1, max_size=3))
    normalised = data.draw(st.integers(1, 2))
    dims = (*outer, *(data.draw(st.integers(1, 19)) for _ in range(normalised)))
    rank = len(dims)
    perm = tuple(data.draw(st.permutations(range(rank))))
    source = tuple(dims[perm.index(d)] for d in range(rank))  # transpose(perm) -> dims
    flat = data.draw(st.booleans())  # the rows of a linear layer's 2-D output
    shapes = ((prod(source[:-1]), source[-1]) if flat else source, dims)
    f = FunctionBuilder(*shapes)
    o, residual = f.args
    value = f(nn.ReshapeOp(o, source)) if flat else o
    value = f(nn.AddOp(f(nn.TransposeOp(value, perm)), residual))
    weight = f.uniform(dims[rank - normalised:])
    bias = f.uniform(dims[rank - normalised:])
    result = f(nn.LayerNormOp(value, weight, bias))
    after = (*data.draw(st.permutations(range(rank - normalised))), *range(rank - normalised,
                                                                           rank))
    stored = data.draw(st.booleans())
    outputs = [result]
    if stored:
        outputs = [f(nn.TransposeOp(result, after))]
        if data.draw(st.booleans()):  # the norm's result is read outside too
            outputs.append(result)
    module = f.module(*outputs)
    compiled, kernel, groups = fused_matches_interpreter(module, data, shapes,
                                                         "nn.layer_norm")
    if stored and kernel["group"] in groups and \
            groups[kernel["group"]]["ops"][-1] == "nn.transpose":
        assert kernel["ops"][-1] == "nn.transpose"  # stored by the layer_norm kernel
    # rows stay contiguous when the source dims of the normalised ones (size-1 dims
    # aside) are the source's last dims, in order
    rows = [perm[d] for d in range(rank - normalised, rank) if dims[d] > 1]
    tail = [d for d in range(rank) if source[d] > 1]
    keeps_rows = not rows or rows == tail[-len(rows):]
    group = groups.get(kernel["group"], {"ops": []})
    read_in_place = kernel["ops"][0] in ("nn.transpose", "nn.reshape")
    if keeps_rows and group["ops"][0] in ("nn.transpose", "nn.reshape") and \
            "nn.add" in kernel["ops"]:
        assert read_in_place  # the moves are in the layer_norm's kernel, not a copy
    if not keeps_rows and prod(dims[rank - normalised:]) > 1:
        assert not read_in_place


@given(data=st.data())
def test_linear_stores_its_moved_result_in_place(data):
    """linear -> reshape (its columns cut into pieces) -> transpose (-> reshape) -> output,
    as attention's packed q | k | v projection. Where the pieces move in front of the
    tokens, in order, and each is a run of whole vectors (16 columns), the linear kernel
    stores the runs into the moved value's buffer and there is no copy kernel
    (`views.linear_moves_in_place`); where the transpose brings another dim last, the
    moves are a copy; any other permutation may go either way. The same numbers always."""
    tokens = data.draw(st.lists(st.integers(1, 5), min_size=1, max_size=2))
    pieces = data.draw(st.lists(st.integers(1, 4), min_size=1, max_size=2))
    width = data.draw(st.sampled_from([8, 16, 32, 48]))
    depth = data.draw(st.integers(1, 19))
    dims = (*tokens, *pieces, width)
    rank = len(dims)
    front = data.draw(st.booleans())
    if front:  # (pieces..., tokens..., width): torch's _in_projection_packed
        perm = (*range(len(tokens), rank - 1), *range(len(tokens)), rank - 1)
    else:
        perm = tuple(data.draw(st.permutations(range(rank))))
    columns = prod(pieces) * width
    f = FunctionBuilder((prod(tokens), depth))
    (x,) = f.args
    y = f(nn.LinearOp(x, f.uniform((columns, depth)), f.uniform((columns,))))
    moved = f(nn.TransposeOp(f(nn.ReshapeOp(y, dims)), perm))
    if data.draw(st.booleans()):  # merge the first two dims, as torch's .view after it
        after = [dims[p] for p in perm]
        moved = f(nn.ReshapeOp(moved, (after[0] * after[1], *after[2:])))
    # an element-wise reader seeds a group that grows back through the moves into the
    # linear layer (attention scales q); the moved value is returned too, so it is
    # stored, not only read through its view
    module = f.module(moved, f(nn.MulOp(moved, f.array(np.float32(0.125)))))
    compiled, kernel, groups = fused_matches_interpreter(module, data,
                                                         ((prod(tokens), depth),),
                                                         "nn.linear")
    copies = [k for k in compiled.kernels if "nn.transpose" in k["ops"] and k is not kernel]
    assert "nn.transpose" in groups[kernel["group"]]["ops"]  # the moves join the linear
    if front and width % 16 == 0:
        assert "nn.transpose" in kernel["ops"] and not copies
    if perm[-1] != rank - 1 and dims[perm[-1]] > 1:
        assert "nn.transpose" not in kernel["ops"] and copies


def qkv_projection(data):
    """Attention's q | k | v projection: linear -> reshape -> transpose (pieces in front)
    -> slices; one piece (q) is cut into heads, moved in front of the tokens and scaled
    (q * 1/sqrt(d), maybe followed by a tanh), the others are read by sigmoids. The input
    may arrive through a transpose that moves a dim of size 1 (the encoder's (B, S, E)
    -> (S, B, E)). Returns the module, its input shapes, whether q's piece starts at a
    multiple of 16 columns and whether q's elements move in runs of 16, and whether the
    input is transposed."""
    tokens = data.draw(st.integers(1, 5))
    pieces = data.draw(st.integers(2, 3))
    heads = data.draw(st.integers(1, 3))
    head = data.draw(st.sampled_from([8, 16, 32]))
    depth = data.draw(st.integers(1, 19))
    width = heads * head
    piece = data.draw(st.integers(0, pieces - 1))
    through = data.draw(st.booleans())
    shapes = ((1, tokens, depth),) if through else ((tokens, depth),)
    f = FunctionBuilder(*shapes)
    (x,) = f.args
    if through:
        x = f(nn.TransposeOp(x, (1, 0, 2)))
    rows = (tokens, 1) if through else (tokens,)
    y = f(nn.LinearOp(x, f.uniform((pieces * width, depth)), f.uniform((pieces * width,))))
    split = f(nn.TransposeOp(f(nn.ReshapeOp(y, (*rows, pieces, width))),
                             (len(rows), *range(len(rows)), len(rows) + 1)))
    outputs = []
    for i in range(pieces):
        part = f(nn.SliceOp(split, [i] + [0] * len(rows) + [0],
                            [i + 1, *rows, width]))
        if i != piece:
            outputs.append(f(nn.SigmoidOp(part)))
            continue
        q = f(nn.TransposeOp(f(nn.ReshapeOp(part, (tokens, heads, head))), (1, 0, 2)))
        scale = data.draw(st.sampled_from([0.125, 0.3]))
        q = f(nn.MulOp(q, f.array(np.float32(scale))))
        if data.draw(st.booleans()):
            q = f(nn.TanhOp(q))
        outputs.insert(0, q)
    # q's heads move in front of the tokens in runs of one head, unless either is one
    run = width if tokens == 1 or heads == 1 else head
    return f.module(*outputs), shapes, (piece * width) % 16 == 0, run % 16 == 0, through


def no_scaling_kernel(compiled, kernel) -> bool:
    """Is there no kernel besides `kernel` that ends in q's multiply or tanh?"""
    return not [k for k in compiled.kernels if k is not kernel
                and k["ops"][-1] in ("nn.mul", "nn.tanh")]


@given(data=st.data())
def test_linear_stores_scaled_columns_in_place(data):
    """`qkv_projection` with every yellow cell fused. Where the linear stores q | k | v
    in place and q's columns start, and move, in runs of whole vectors (16 columns),
    the linear kernel scales those columns in registers and stores them into the scaled
    value's buffer: the multiply is no kernel of its own
    (`views.linear_columns_in_place`); narrower runs keep it a kernel. A transposed input
    is read in place. The same numbers always."""
    module, shapes, starts, runs, through = qkv_projection(data)
    compiled, kernel, groups = fused_matches_interpreter(module, data, shapes, "nn.linear")
    group = groups[kernel["group"]]["ops"]
    aligned = starts and runs
    after = kernel["ops"][kernel["ops"].index("nn.linear") + 1:]
    if "nn.mul" in group and "nn.transpose" in after:  # q | k | v stored in place
        assert ("nn.mul" in after) == aligned
        event(f"q | k | v in place, q {'in place' if aligned else 'a kernel'}")
        if aligned:  # no multiply of its own
            assert no_scaling_kernel(compiled, kernel)
    if through and "nn.transpose" in group[:1]:
        assert kernel["ops"][0] == "nn.transpose"  # the input read through its view


@given(data=st.data())
def test_copy_stores_scaled_rows_in_place(data):
    """`qkv_projection` with `fuse{profile=false}`: the linear layer stays out of the
    moves' group, so a copy kernel materialises q | k | v (k and v are read outside).
    Where q's elements move in runs of 16, the copy kernel scales q's rows in registers
    and stores them into the scaled value's buffer too: the multiply is no kernel of its
    own (`views.linear_columns_in_place`, a copy's `ColumnStore`); narrower runs keep it
    a kernel. The same numbers always."""
    module, shapes, _, runs, _ = qkv_projection(data)
    compiled, kernel, groups = fused_matches_interpreter(module, data, shapes, "nn.mul",
                                                         every_yellow=False)
    group = groups.get(kernel["group"], {"ops": []})["ops"]
    copies = kernel["ops"][:kernel["ops"].index("nn.slice")] if "nn.slice" in \
        kernel["ops"] else []
    if "nn.slice" in group and copies:  # q scaled by the copy of q | k | v
        assert runs
        assert no_scaling_kernel(compiled, kernel)
        event("q scaled by the copy kernel")
    elif "nn.slice" in group and group[0] == "nn.reshape":  # the copy's group
        assert not runs
        event("q a kernel of its own: runs narrower than 16")
