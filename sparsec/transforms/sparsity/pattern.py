"""PatDNN pruning: kernel patterns and connectivity pruning for 3x3 convolutions.

Following the replication in papers.md §3.2-3.3:
- the pattern set comes from the model's own kernels: each nonzero kernel's top-4 mask
  (the centre plus its 3 largest-magnitude other weights, ties to the lower position)
  is counted over all the model's 3x3 layers, and the `count` most frequent masks are the
  set (ties in frequency: the lexicographically smaller pattern). When the kernels show
  fewer distinct masks than asked, the set is completed from `ALL_PATTERNS` in order;
- each kernel is projected onto the pattern of the set keeping the largest L2 norm (ties:
  the earlier pattern of the set);
- connectivity pruning keeps the max(1, round_half_up(n / connectivity)) kernels of a
  layer's n with the largest L2 norm (of the unprojected kernel), ties to the lower
  index; the rest are removed whole.
The set is returned sorted, so pattern ids do not depend on frequencies.
"""

from __future__ import annotations

from collections.abc import Iterable
from itertools import combinations

import numpy as np

from sparsec.dialects.sparse import CENTRE

from .bcr import top_k_mask
from .schemes import round_half_up

ALL_PATTERNS: tuple[tuple[int, ...], ...] = tuple(
    tuple(sorted((CENTRE, *others)))
    for others in combinations([p for p in range(9) if p != CENTRE], 3))
"""The 56 patterns a 3x3 kernel can keep: the centre and 3 of the 8 others, in order."""


def is_pattern_weight(shape: tuple[int, ...]) -> bool:
    """Whether patterns fit a weight: a convolution weight with 3x3 kernels."""
    return len(shape) == 4 and tuple(shape[2:]) == (3, 3)


def _masks(patterns: Iterable[tuple[int, ...]]) -> np.ndarray:
    patterns = list(patterns)
    masks = np.zeros((len(patterns), 9), bool)
    for index, pattern in enumerate(patterns):
        masks[index, list(pattern)] = True
    return masks


def top4_masks(kernels: np.ndarray) -> np.ndarray:
    """(n, 9) kernels -> (n, 9) masks: the centre and the 3 largest other magnitudes."""
    scores = np.abs(kernels).astype(np.float64)
    scores[:, CENTRE] = np.inf
    return top_k_mask(scores, 4)


def select_patterns(weights: Iterable[np.ndarray], count: int) -> tuple[tuple[int, ...], ...]:
    """The `count` most frequent top-4 masks of the weights' nonzero 3x3 kernels, sorted."""
    kernels = [w.reshape(-1, 9) for w in weights]
    kernels = np.concatenate(kernels) if kernels else np.zeros((0, 9))
    kernels = kernels[(kernels != 0).any(axis=1)]
    codes = top4_masks(kernels).astype(np.int64) @ (1 << np.arange(9))
    counts = np.bincount(codes, minlength=512)
    frequency = np.array([counts[sum(1 << p for p in pattern)] for pattern in ALL_PATTERNS])
    # most frequent first, then canonical order (np.argsort is stable)
    chosen = np.argsort(-frequency, kind="stable")[:count]
    return tuple(sorted(ALL_PATTERNS[i] for i in chosen))


def project_mask(weight: np.ndarray, patterns: tuple[tuple[int, ...], ...]) -> np.ndarray:
    """Each 3x3 kernel keeps the pattern of the set with the largest L2 norm."""
    kernels = weight.reshape(-1, 9)
    masks = _masks(patterns)
    kept_norm = np.square(kernels, dtype=np.float64) @ masks.T.astype(np.float64)
    return masks[np.argmax(kept_norm, axis=1)].reshape(weight.shape)


def connectivity_mask(weight: np.ndarray, connectivity: float) -> np.ndarray:
    """(Cout, Cin) booleans: the kernels connectivity pruning keeps."""
    cout, cin = weight.shape[:2]
    norms = np.square(weight.reshape(cout * cin, -1), dtype=np.float64).sum(axis=1)
    keep = max(1, round_half_up(cout * cin / connectivity))
    return top_k_mask(norms, keep).reshape(cout, cin)


def pattern_mask(weight: np.ndarray, patterns: tuple[tuple[int, ...], ...],
                 connectivity: float) -> np.ndarray:
    """The kept weights (True): connectivity pruning, then each kept kernel's pattern."""
    kernels = connectivity_mask(weight, connectivity)
    return project_mask(weight, patterns) & kernels[:, :, None, None]
