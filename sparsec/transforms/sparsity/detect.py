"""Finding the structure of an already-pruned model from its zeros.

For each weight, in this order:
1. fewer than MIN_SPARSITY of its weights zero: dense, left alone;
2. a 3x3 convolution whose nonzero kernels each fit a pattern: #sparse.pattern. The set is
   the model's: the distinct 4-weight masks (centre kept) of all such layers' kernels,
   sorted; kernels with fewer nonzeros must fit one of them;
3. a BCR tile size whose every tile's nonzeros are exactly (rows with a nonzero) x
   (columns with a nonzero), so packing stores no zero: #sparse.bcr with the largest such
   tile (then the taller), tiles of 2..32 rows and columns (powers of two), or only the
   given `block`. Tiles of one row or one column are always exact, so they say nothing
   and are not tried;
4. otherwise: #sparse.csr.

What detection can recover: pruning with tiles (bm, bk) leaves every coarser tiling that
happens to be exact just as valid (when all rows of each tile are kept, tiles side by
side merge exactly); detection then returns the larger tile, which stores the same
weights with fewer indices. A pattern set is recovered up to the patterns no kernel uses.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from sparsec.dialects.sparse import (
    CENTRE,
    BCRAttr,
    CSRAttr,
    PatternAttr,
    SparseEncodingAttr,
    matrix_view,
)
from sparsec.dialects.sparse.formats import covering_pattern, tiles

from .pattern import is_pattern_weight

MIN_SPARSITY = 0.25
"""Weights with a smaller fraction of zeros are dense for detection (and for packing
without pruning): no sparse kernel beats the dense one there."""

BLOCK_SIZES = (2, 4, 8, 16, 32)


def zero_fraction(weight: np.ndarray) -> float:
    return 1 - np.count_nonzero(weight) / weight.size if weight.size else 0.0


def is_sparse(weight: np.ndarray) -> bool:
    return weight.ndim >= 2 and zero_fraction(weight) >= MIN_SPARSITY


def detect(weights: Mapping[str, np.ndarray],
           block: tuple[int, int] | None = None) -> dict[str, SparseEncodingAttr]:
    """The encoding of each sparse weight (dense ones are absent), in the weights' order."""
    sparse = {name: w for name, w in weights.items() if is_sparse(w)}
    pattern_layers, patterns = _pattern_layers(sparse)
    found: dict[str, SparseEncodingAttr] = {}
    for name, weight in sparse.items():
        if name in pattern_layers:
            found[name] = PatternAttr(patterns)
            continue
        found[name] = detect_bcr(weight, block) or CSRAttr()
    return found


def _kernel_masks(weight: np.ndarray) -> np.ndarray | None:
    """The nonzero masks of a 3x3 layer's kernels, or None if some kernel fits no pattern
    (more than 4 nonzeros, or 4 without the centre)."""
    masks = weight.reshape(-1, 9) != 0
    counts = masks.sum(axis=1)
    if np.any(counts > 4) or np.any((counts == 4) & ~masks[:, CENTRE]):
        return None
    return masks


def _pattern_layers(weights: Mapping[str, np.ndarray]) -> tuple[set[str], tuple]:
    """The layers that are pattern-pruned and the model's pattern set: the layers' 4-masks,
    dropping layers (and their masks) until every kept layer's kernels fit the set."""
    masks = {name: m for name, w in weights.items()
             if is_pattern_weight(w.shape) and (m := _kernel_masks(w)) is not None}
    while masks:
        patterns = _full_masks(masks.values())
        if not patterns:
            return set(), ()
        encoding = PatternAttr(patterns)
        misfits = {name for name, m in masks.items()
                   if np.any(covering_pattern(encoding, m.astype(np.int8)) < 0)}
        if not misfits:
            return set(masks), patterns
        masks = {name: m for name, m in masks.items() if name not in misfits}
    return set(), ()


def _full_masks(layer_masks) -> tuple[tuple[int, ...], ...]:
    found: set[tuple[int, ...]] = set()
    for masks in layer_masks:
        full = masks[masks.sum(axis=1) == 4]
        found.update(tuple(np.nonzero(m)[0].tolist()) for m in np.unique(full, axis=0))
    return tuple(sorted(found))


def is_exact_tiling(weight: np.ndarray, block: tuple[int, int]) -> bool:
    """Whether every tile's nonzeros are (its rows with a nonzero) x (its columns with one)."""
    grid = tiles(weight.reshape(matrix_view(weight.shape)), block) != 0
    rows, cols = grid.any(axis=3), grid.any(axis=2)
    return bool(np.array_equal(grid, rows[..., :, None] & cols[..., None, :]))


def detect_bcr(weight: np.ndarray, block: tuple[int, int] | None = None) -> BCRAttr | None:
    m, k = matrix_view(weight.shape)
    candidates: Sequence[tuple[int, int]] = (
        [block] if block else [(bm, bk) for bm in BLOCK_SIZES for bk in BLOCK_SIZES])
    exact = [(bm, bk) for bm, bk in candidates
             if m % bm == 0 and k % bk == 0 and is_exact_tiling(weight, (bm, bk))]
    if not exact:
        return None
    return BCRAttr(max(exact, key=lambda b: (b[0] * b[1], b[0])))
