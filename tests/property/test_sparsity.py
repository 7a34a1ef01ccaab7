"""Sparsity, over generated shapes, blocks, rates and pattern sets:

- pack / unpack round-trip exactly, in both directions, for every format;
- pruning keeps exactly the count the scheme's rounding rule says (schemes.py) and keeps
  the largest-magnitude structure (rows, columns, tiles, kernels, patterns);
- the pattern set is the most frequent top-4 masks of the model's kernels;
- a module with packed weights interprets bit for bit like the module with the dense,
  masked weights (also after a print/parse round trip);
- detection finds the encoding pruning made.

Weights are standard normal float32 drawn from a seeded generator (no exact zeros), so
every count below is a count of nonzeros.
"""

from collections import Counter
from itertools import product

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from xdsl.dialects import func
from xdsl.dialects.builtin import ModuleOp, TensorType, f32
from xdsl.ir import Block, Region

from sparsec.dialects import nn
from sparsec.dialects.sparse import (
    BCRAttr,
    BSRAttr,
    CSRAttr,
    PatternAttr,
    matrix_view,
    pack,
    unpack,
)
from sparsec.dialects.sparse.formats import tiles
from sparsec.interpreters import interpret
from sparsec.textio import parse_module, print_module
from sparsec.transforms.sparsity import BCR, BSR, CSR, Pattern
from sparsec.transforms.sparsity.bcr import bcr_keep, bcr_mask
from sparsec.transforms.sparsity.csr import bsr_mask, magnitude_mask
from sparsec.transforms.sparsity.detect import BLOCK_SIZES, detect, is_exact_tiling
from sparsec.transforms.sparsity.pattern import (
    ALL_PATTERNS,
    connectivity_mask,
    pattern_mask,
    select_patterns,
)
from sparsec.transforms.sparsity.prune import prune_weights
from sparsec.transforms.sparsity.schemes import round_half_up
from sparsec.transforms.sparsity.sparsify import SparsifyPass
from sparsec.universe import make_context

SIZES = (1, 2, 4, 8)
seeds = st.integers(0, 2**32 - 1)
rates = st.floats(0.0, 0.95)
pattern_sets = st.lists(st.sampled_from(ALL_PATTERNS), min_size=1, max_size=8, unique=True)


def normal(seed: int, shape) -> np.ndarray:
    w = np.random.default_rng(seed).standard_normal(shape).astype(np.float32)
    w[w == 0] = 1.0
    return w


@st.composite
def blocked_shapes(draw, sizes=SIZES):
    """(shape, block): a linear [M, K] or conv [Cout, Cin, k, k] weight whose matrix view
    the block divides."""
    bm, bk = draw(st.sampled_from(sizes)), draw(st.sampled_from(sizes))
    rows = bm * draw(st.integers(1, 3))
    if draw(st.booleans()):
        return (rows, bk * draw(st.integers(1, 4))), (bm, bk)
    kernel = draw(st.sampled_from([1, 3]))
    return (rows, bk * draw(st.integers(1, 2)), kernel, kernel), (bm, bk)


@st.composite
def pattern_weights(draw):
    """(weight, pattern set): a conv weight whose every kernel keeps one of the patterns,
    some kernels removed whole, some kept weights exactly zero."""
    patterns = tuple(sorted(draw(pattern_sets)))
    cout, cin = draw(st.integers(1, 6)), draw(st.integers(1, 6))
    seed = draw(seeds)
    rng = np.random.default_rng(seed)
    w = normal(seed, (cout, cin, 9))
    masks = np.zeros((len(patterns), 9), bool)
    for i, p in enumerate(patterns):
        masks[i, list(p)] = True
    kept = masks[rng.integers(0, len(patterns), (cout, cin))]
    kept &= (rng.random((cout, cin)) < 0.7)[:, :, None]
    w = np.where(kept & (rng.random(kept.shape) < 0.9), w, 0).astype(np.float32)
    return w.reshape(cout, cin, 3, 3), patterns


def assert_round_trip(encoding, w):
    arrays = pack(encoding, w)
    back = unpack(encoding, w.shape, arrays)
    assert back.dtype == w.dtype and np.array_equal(back, w)
    again = pack(encoding, back)
    assert all(np.array_equal(arrays[n], again[n]) and arrays[n].dtype == again[n].dtype
               for n in arrays)


# --- pack / unpack ----------------------------------------------------------------------


@given(blocked_shapes(), st.floats(0, 1), seeds, st.sampled_from(["csr", "bsr", "bcr"]))
def test_pack_unpack_round_trip_unstructured(shape_block, density, seed, format):
    shape, block = shape_block
    w = normal(seed, shape) * (np.random.default_rng(seed + 1).random(shape) < density)
    encoding = {"csr": CSRAttr(), "bsr": BSRAttr(block), "bcr": BCRAttr(block)}[format]
    assert_round_trip(encoding, w.astype(np.float32))


@given(blocked_shapes(), rates, seeds)
def test_pack_unpack_round_trip_bcr_pruned(shape_block, rate, seed):
    shape, block = shape_block
    w = normal(seed, shape)
    pruned = np.where(bcr_mask(w, block, rate), w, 0).astype(np.float64)
    assert_round_trip(BCRAttr(block), pruned)
    arrays = pack(BCRAttr(block), pruned)
    kr, kc = bcr_keep(block, rate)
    assert set(np.diff(arrays["row_ptr"])) == {kr} and set(np.diff(arrays["col_ptr"])) == {kc}


@given(pattern_weights())
def test_pack_unpack_round_trip_pattern(weight_patterns):
    w, patterns = weight_patterns
    assert_round_trip(PatternAttr(patterns), w)
    fkw = pack(PatternAttr(patterns), w)
    assert len(fkw["channels"]) == np.count_nonzero(np.abs(w).sum(axis=(2, 3)))


# --- pruning: exact counts, largest structure kept --------------------------------------


@given(blocked_shapes(), rates, seeds)
def test_bcr_pruning_keeps_the_split_and_the_largest_rows_and_columns(shape_block, rate, seed):
    shape, block = shape_block
    (bm, bk), w = block, normal(seed, shape)
    kr, kc = bcr_keep(block, rate)
    density = (1 - rate) * bm * bk
    # the most weights kept without pruning less than `rate` (one weight at the least)
    assert kr * kc <= density + 1e-9 or (kr, kc) == (1, 1)
    assert not any(kr * kc < a * b <= density + 1e-9
                   for a, b in product(range(1, bm + 1), range(1, bk + 1)))
    mask = bcr_mask(w, block, rate)
    assert np.count_nonzero(np.where(mask, w, 0)) == kr * kc * w.size // (bm * bk)
    grid_w = tiles(w.reshape(matrix_view(shape)).astype(np.float64), block)
    grid_m = tiles(mask.reshape(matrix_view(shape)), block)
    for t_w, t_m in zip(grid_w.reshape(-1, bm, bk), grid_m.reshape(-1, bm, bk), strict=True):
        rows, cols = t_m.any(axis=1), t_m.any(axis=0)
        assert rows.sum() == kr and cols.sum() == kc
        assert np.array_equal(t_m, rows[:, None] & cols[None, :])
        row_norms, col_norms = (t_w**2).sum(axis=1), (t_w**2).sum(axis=0)
        assert row_norms[rows].min() >= row_norms[~rows].max(initial=0)
        assert col_norms[cols].min() >= col_norms[~cols].max(initial=0)


@given(st.integers(1, 6), st.integers(1, 6), st.floats(1.0, 9.0), pattern_sets, seeds)
def test_pattern_pruning_keeps_4_weights_in_the_best_pattern_of_the_best_kernels(
        cout, cin, connectivity, patterns, seed):
    patterns = tuple(sorted(patterns))
    w = normal(seed, (cout, cin, 3, 3))
    mask = pattern_mask(w, patterns, connectivity)
    pruned = np.where(mask, w, 0).reshape(cout * cin, 9)
    kept = (pruned != 0).any(axis=1)
    assert kept.sum() == max(1, round_half_up(cout * cin / connectivity))
    squares = (w.reshape(-1, 9).astype(np.float64)) ** 2
    norms = squares.sum(axis=1)
    assert norms[kept].min() >= norms[~kept].max(initial=0)
    for kernel, square in zip(pruned[kept], squares[kept], strict=True):
        positions = tuple(np.nonzero(kernel)[0])
        assert positions in patterns and 4 in positions
        best = max(square[list(p)].sum() for p in patterns)
        assert square[list(positions)].sum() >= best * (1 - 1e-12)
    assert_round_trip(PatternAttr(patterns), np.where(mask, w, 0))


@given(st.lists(st.tuples(st.integers(1, 4), st.integers(1, 4)), min_size=1, max_size=3),
       st.integers(1, 12), seeds)
def test_pattern_set_is_the_most_frequent_top4_masks(layer_shapes, count, seed):
    weights = [normal(seed + i, (o, c, 3, 3)) for i, (o, c) in enumerate(layer_shapes)]
    chosen = select_patterns(weights, count)
    frequency = Counter()
    for w in weights:
        for kernel in np.abs(w.reshape(-1, 9)):
            others = sorted((p for p in range(9) if p != 4), key=lambda p: -kernel[p])
            frequency[tuple(sorted([4, *others[:3]]))] += 1
    assert len(chosen) == count == len(set(chosen)) and list(chosen) == sorted(chosen)
    least_chosen = min(frequency[p] for p in chosen)
    assert all(frequency[p] <= least_chosen for p in ALL_PATTERNS if p not in chosen)
    PatternAttr(chosen)  # a valid set


@given(blocked_shapes(), rates, seeds)
def test_csr_and_bsr_pruning_keep_the_rounded_count(shape_block, rate, seed):
    shape, block = shape_block
    w = normal(seed, shape)
    kept = magnitude_mask(w, rate)
    assert kept.sum() == max(1, round_half_up((1 - rate) * w.size))
    assert np.abs(w[kept]).min() >= np.abs(w[~kept]).max(initial=0)
    tiles_kept = bsr_mask(w, block, rate)
    ntiles = w.size // (block[0] * block[1])
    assert tiles_kept.sum() == max(1, round_half_up((1 - rate) * ntiles)) * block[0] * block[1]
    assert is_exact_tiling(np.where(tiles_kept, w, 0), block)


@given(st.integers(1, 5), st.integers(1, 5), st.floats(1.0, 6.0), seeds)
def test_connectivity_ties_keep_the_lower_index(cout, cin, connectivity, seed):
    w = np.ones((cout, cin, 3, 3), np.float32)
    kept = connectivity_mask(w, connectivity).reshape(-1)
    n = max(1, round_half_up(cout * cin / connectivity))
    assert kept.tolist() == [True] * n + [False] * (cout * cin - n)


# --- packed modules interpret like dense masked modules ---------------------------------


def conv_linear_module(conv_w: np.ndarray, fc_w: np.ndarray, size: int) -> ModuleOp:
    """x -> conv2d(3x3, pad 1) -> relu -> reshape -> linear."""
    cout, cin = conv_w.shape[:2]
    x_type = TensorType(f32, (1, cin, size, size))
    block = Block(arg_types=[x_type])
    cw = nn.ConstantOp.from_array(conv_w, "conv.weight")
    conv = nn.Conv2dOp(block.args[0], cw.result, padding=(1, 1))
    relu = nn.ReluOp(conv.result)
    flat = nn.ReshapeOp(relu.result, (1, cout * size * size))
    lw = nn.ConstantOp.from_array(fc_w, "fc.weight")
    fc = nn.LinearOp(flat.result, lw.result)
    block.add_ops([cw, conv, relu, flat, lw, fc, func.ReturnOp(fc.result)])
    return ModuleOp([func.FuncOp("main", ([x_type], [fc.result.type]), Region(block))])


@st.composite
def models_and_schemes(draw):
    bm, bk = draw(st.sampled_from([1, 2, 4])), draw(st.sampled_from([1, 2, 4]))
    cout, cin, size = bm * draw(st.integers(1, 2)), bk * draw(st.integers(1, 2)), 2
    out = bm * draw(st.integers(1, 2))
    rate = draw(st.floats(0.1, 0.9))
    scheme = draw(st.sampled_from([
        BCR((bm, bk), rate), CSR(rate), BSR((bm, bk), rate),
        Pattern(draw(st.integers(1, 8)), draw(st.floats(1.0, 4.0)), (bm, bk), rate)]))
    seed = draw(seeds)
    return (normal(seed, (cout, cin, 3, 3)), normal(seed + 1, (out, cout * size * size)),
            size, scheme, seed)


@given(models_and_schemes())
def test_packed_module_interprets_exactly_like_the_dense_masked_module(model):
    conv_w, fc_w, size, scheme, seed = model
    pruned = prune_weights({"conv.weight": conv_w, "fc.weight": fc_w}, scheme)
    masked = {name: np.where(p.mask, w, 0).astype(np.float32) if name in pruned else w
              for name, w in (("conv.weight", conv_w), ("fc.weight", fc_w))
              for p in [pruned.get(name)]}
    dense = conv_linear_module(masked["conv.weight"], masked["fc.weight"], size)
    packed = conv_linear_module(conv_w, fc_w, size)
    SparsifyPass.from_scheme(scheme).apply(make_context(), packed)
    text = print_module(packed)
    assert text.count("sparse.assemble") == len(pruned)
    assert all(str(p.encoding) in text for p in pruned.values())
    x = normal(seed + 2, (1, conv_w.shape[1], size, size))
    [expected] = interpret(dense, x)
    assert np.array_equal(interpret(packed, x)[0], expected)
    assert np.array_equal(interpret(parse_module(text), x)[0], expected)
    assert print_module(parse_module(text)) == text


@given(blocked_shapes(), st.floats(0.3, 0.95), seeds, st.sampled_from(["bcr", "bsr", "csr"]))
def test_packing_existing_zeros_without_a_rate_is_lossless(shape_block, density, seed, format):
    (_, k), (bm, bk) = matrix_view(shape_block[0]), shape_block[1]
    w = normal(seed, matrix_view(shape_block[0]))
    w = np.where(np.random.default_rng(seed).random(w.shape) < density, w, 0).astype(np.float32)
    module = _linear_module(w)
    SparsifyPass(format, f"{bm}x{bk}").apply(make_context(), module)
    assert ("sparse.assemble" in print_module(module)) == (np.count_nonzero(w) <= 0.75 * w.size)
    x = normal(seed + 1, (1, k))
    assert np.array_equal(interpret(module, x)[0], np.matmul(x, w.T))


def _linear_module(w: np.ndarray) -> ModuleOp:
    x_type = TensorType(f32, (1, w.shape[1]))
    block = Block(arg_types=[x_type])
    c = nn.ConstantOp.from_array(w, "fc.weight")
    fc = nn.LinearOp(block.args[0], c.result)
    block.add_ops([c, fc, func.ReturnOp(fc.result)])
    return ModuleOp([func.FuncOp("main", ([x_type], [fc.result.type]), Region(block))])


# --- detection ------------------------------------------------------------------------


@given(st.sampled_from([2, 4, 8]), st.sampled_from([2, 4, 8]), st.integers(1, 3),
       st.integers(1, 3), st.floats(0.3, 0.9), seeds)
def test_detect_recovers_the_bcr_block(bm, bk, mb, kb, rate, seed):
    w = normal(seed, (bm * mb, bk * kb))
    pruned = np.where(bcr_mask(w, (bm, bk), rate), w, 0)
    found = detect({"w": pruned})
    if not found:  # at most 25% zeros: dense for detection
        assert np.count_nonzero(pruned) > 0.75 * pruned.size
        return
    encoding = found["w"]
    assert isinstance(encoding, BCRAttr)
    # the pruning's block, or an exact tiling of the same zeros that detection prefers:
    # a larger tile, or one as large and taller (module docstring). (2 x 4 tiles keeping
    # one weight each in a 4 x 4 weight can be exact 4 x 2 tiles too.)
    rows, cols = encoding.block
    assert encoding.block == (bm, bk) or (
        (rows * cols, rows) > (bm * bk, bm) and is_exact_tiling(pruned, encoding.block))
    values = pack(encoding, pruned)["values"]
    assert np.count_nonzero(values) == len(values) == np.count_nonzero(pruned)
    # pruned rows make the pruning's block the answer, unless another exact tiling is
    # preferred by chance (few weights kept)
    preferred = [(r, c) for r in BLOCK_SIZES for c in BLOCK_SIZES
                 if (r * c, r) > (bm * bk, bm) and pruned.shape[0] % r == 0
                 and pruned.shape[1] % c == 0 and is_exact_tiling(pruned, (r, c))]
    if bcr_keep((bm, bk), rate)[0] < bm and not preferred:
        assert encoding.block == (bm, bk)


@given(st.lists(st.tuples(st.integers(2, 6), st.integers(2, 6)), min_size=1, max_size=3),
       st.integers(1, 8), st.floats(1.0, 3.0), seeds)
def test_detect_recovers_the_pattern_set(layer_shapes, count, connectivity, seed):
    weights = {f"conv{i}": normal(seed + i, (o, c, 3, 3))
               for i, (o, c) in enumerate(layer_shapes)}
    pruned = prune_weights(weights, Pattern(count, connectivity))
    masked = {n: np.where(p.mask, weights[n], 0) for n, p in pruned.items()}
    found = detect(masked)
    [encoding] = {p.encoding for p in pruned.values()}
    used = {tuple(np.nonzero(k)[0]) for w in masked.values() for k in w.reshape(-1, 9) if k.any()}
    assert set(found) == set(masked)
    assert all(e == PatternAttr(tuple(p for p in encoding.patterns if p in used))
               for e in found.values())


@given(st.floats(0.5, 0.8), seeds)
def test_detect_finds_unstructured_sparsity(rate, seed):
    w = normal(seed, (64, 64))
    pruned = np.where(magnitude_mask(w, rate), w, 0)
    assert detect({"w": pruned}) == {"w": CSRAttr()}


@given(blocked_shapes(), seeds)
def test_detect_leaves_dense_weights_alone(shape_block, seed):
    shape, _ = shape_block
    assert detect({"w": normal(seed, shape)}) == {}
