"""The baselines' pruning: unstructured magnitude pruning (CSR) and whole-tile pruning
(BSR). Kept counts: max(1, round_half_up((1 - rate) * n)) of a layer's n weights or tiles,
by magnitude (tiles by L2 norm), ties keeping the lower index."""

from __future__ import annotations

import numpy as np

from sparsec.dialects.sparse import matrix_view
from sparsec.dialects.sparse.formats import tiles, untile

from .bcr import top_k_mask
from .schemes import round_half_up


def kept_count(n: int, rate: float) -> int:
    return max(1, round_half_up((1 - rate) * n))


def magnitude_mask(weight: np.ndarray, rate: float) -> np.ndarray:
    """The kept weights (True) of unstructured magnitude pruning at `rate`."""
    scores = np.abs(weight.reshape(-1)).astype(np.float64)
    return top_k_mask(scores, kept_count(scores.size, rate)).reshape(weight.shape)


def bsr_mask(weight: np.ndarray, block: tuple[int, int], rate: float) -> np.ndarray:
    """The kept weights (True) of whole-tile pruning at `rate`, tiles ranked by L2 norm."""
    grid = tiles(weight.reshape(matrix_view(weight.shape)), block)
    norms = np.square(grid, dtype=np.float64).sum(axis=(2, 3))
    kept = top_k_mask(norms.reshape(-1), kept_count(norms.size, rate)).reshape(norms.shape)
    return untile(np.broadcast_to(kept[:, :, None, None], grid.shape)).reshape(weight.shape)
