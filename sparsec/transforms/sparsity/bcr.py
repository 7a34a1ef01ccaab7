"""BCR pruning (GRIM): whole rows and whole columns of every tile of the GEMM view.

Our reading of what papers.md §2.2-2.3 leaves open, stated once:
- rates are per layer and uniform: every tile keeps the same kr rows x kc columns, so a
  kernel runs one fixed-size dense product per tile (`bcr_keep` splits the rate);
- the split: the largest kr * kc that does not exceed the requested density (at least
  `rate` of the weights are pruned; 1 x 1 when even that is too many), then the most
  balanced row and column rates (|kr/bm - kc/bk| smallest), then more rows kept. A
  balanced split matters to the kernel as much as to accuracy: a tile costs one update
  of each kept row's sums, amortised over its kc columns (16x16 at 0.9 keeps 5 x 5, where
  "closest to the density" would pick 13 x 2);
- rows and columns are chosen independently ("independent row and column pruning is
  applied to each block"): the kr rows with the largest L2 norm over the whole tile, and
  the kc columns with the largest L2 norm over the whole tile. Ties keep the lower index.
"""

from __future__ import annotations

import numpy as np

from sparsec.dialects.sparse import matrix_view
from sparsec.dialects.sparse.formats import tiles, untile


def bcr_keep(block: tuple[int, int], rate: float) -> tuple[int, int]:
    """(rows, columns) every tile keeps at `rate` (see the module docstring)."""
    bm, bk = block
    density = (1 - rate) * bm * bk + 1e-9  # (1 - 0.8) * 32 is 6.3999...
    pairs = [(kr, kc) for kr in range(1, bm + 1) for kc in range(1, bk + 1)
             if kr * kc <= density] or [(1, 1)]
    return min(pairs, key=lambda p: (-p[0] * p[1], abs(p[0] / bm - p[1] / bk), -p[0]))


def top_k_mask(scores: np.ndarray, k: int, axis: int = -1) -> np.ndarray:
    """True at the k largest scores along `axis` (ties: the lower index wins)."""
    order = np.argsort(-scores, axis=axis, kind="stable")
    ranks = np.empty_like(order)
    positions = np.arange(scores.shape[axis]).reshape(
        [-1 if a == axis % scores.ndim else 1 for a in range(scores.ndim)])
    np.put_along_axis(ranks, order, np.broadcast_to(positions, order.shape), axis=axis)
    return ranks < k


def bcr_mask(weight: np.ndarray, block: tuple[int, int], rate: float) -> np.ndarray:
    """The kept weights (True) of BCR pruning at `rate`; the block must divide the GEMM
    view (the #sparse.bcr verifier's rule)."""
    grid = tiles(weight.reshape(matrix_view(weight.shape)), block)
    squares = np.square(grid, dtype=np.float64)
    kr, kc = bcr_keep(block, rate)
    rows = top_k_mask(squares.sum(axis=3), kr)  # (block rows, block columns, bm)
    cols = top_k_mask(squares.sum(axis=2), kc)  # (block rows, block columns, bk)
    return untile(rows[..., :, None] & cols[..., None, :]).reshape(weight.shape)
