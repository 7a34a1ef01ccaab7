"""Sparsity schemes: what a user asks for (`sparsec.BCR(...)`, `sparsec.Pattern(...)`).

A scheme is plain data; `prune.prune_weights` turns it into masks and encodings, for the
`sparsify` pass and for the torch-side `sparsec.prune` alike.

Rates are fractions of weights set to zero. How a rate becomes a count of kept weights,
per scheme (`round_half_up(x)` = floor(x + 1/2)):
- BCR: every tile keeps kr whole rows and kc whole columns, the same kr x kc in every tile
  of a layer (regular kernels); (kr, kc) is `bcr.bcr_keep(block, rate)`, the pair with the
  largest kr * kc <= (1 - rate) * bm * bk, the most balanced among equals. The achieved
  rate is 1 - kr*kc / (bm*bk) >= rate: 8x4 tiles at rate 0.8 keep 3 x 2 of 32 (rate
  0.8125), 16x16 tiles at 0.9 keep 5 x 5 (0.902).
- Pattern: every kept 3x3 kernel keeps exactly 4 weights; a layer of n kernels keeps
  max(1, round_half_up(n / connectivity)) kernels.
- CSR: a layer of n weights keeps max(1, round_half_up((1 - rate) * n)) weights.
- BSR: a layer of n tiles keeps max(1, round_half_up((1 - rate) * n)) tiles.
Ties in magnitude keep the lower index (stable sorts), so pruning is deterministic.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


def round_half_up(x: float) -> int:
    return math.floor(x + 0.5)


def parse_block(text: str) -> tuple[int, int]:
    """"8x4" -> (8, 4)."""
    parts = text.lower().split("x")
    if len(parts) != 2 or not all(p.strip().isdigit() for p in parts):
        raise ValueError(f"a block is written ROWSxCOLUMNS, e.g. 8x4; got {text!r}")
    rows, cols = int(parts[0]), int(parts[1])
    _check_block((rows, cols))
    return rows, cols


def _check_block(block: tuple[int, int]) -> None:
    if len(block) != 2 or min(block) < 1:
        raise ValueError(f"block must be two positive integers (rows, columns), got {block}")


def _check_rate(rate: float) -> None:
    if not 0 <= rate < 1:
        raise ValueError(f"rate is the fraction of weights pruned, in [0, 1); got {rate}")


@dataclass(frozen=True)
class BCR:
    """GRIM's Block-based Column-Row pruning: the weight's GEMM view (Cout x Cin*kh*kw,
    out x in) in `block` tiles; whole rows and whole columns of each tile pruned by L2
    norm to `rate`. Weights whose GEMM view the block does not divide stay dense."""

    block: tuple[int, int] = (8, 4)
    rate: float = 0.8

    def __post_init__(self):
        object.__setattr__(self, "block", tuple(int(b) for b in self.block))
        _check_block(self.block)
        _check_rate(self.rate)


@dataclass(frozen=True)
class Pattern:
    """PatDNN's pattern + connectivity pruning for 3x3 convolutions: each kept kernel keeps
    4 weights in one of `patterns` patterns (the most frequent in the model's own kernels,
    centre always kept), and 1/`connectivity` of each layer's kernels are kept (by L2
    norm). Layers patterns do not fit (1x1 and other kernels, linear) get BCR with `block`
    (each side moved to a divisor of the layer's GEMM view, `prune.fallback_block`: a 7x7
    stem with K = 147 gets 8x7) and `rate`; `rate=None` matches the pattern layers'
    compression, 1 - 4 / (9 * connectivity)."""

    patterns: int = 8
    connectivity: float = 3.6
    block: tuple[int, int] = (8, 4)
    rate: float | None = None

    def __post_init__(self):
        object.__setattr__(self, "block", tuple(int(b) for b in self.block))
        if not 1 <= self.patterns <= 56:
            raise ValueError(f"patterns must be in 1..56 (the 4-weight patterns of a 3x3 "
                             f"kernel that keep its centre), got {self.patterns}")
        if not self.connectivity >= 1:
            raise ValueError(f"connectivity is the kernel compression (keep 1/connectivity "
                             f"of the kernels), >= 1; got {self.connectivity}")
        _check_block(self.block)
        if self.rate is not None:
            _check_rate(self.rate)

    @property
    def fallback(self) -> BCR:
        """The BCR scheme for layers patterns do not fit."""
        rate = 1 - 4 / (9 * self.connectivity) if self.rate is None else self.rate
        return BCR(self.block, rate)


@dataclass(frozen=True)
class CSR:
    """Unstructured magnitude pruning of each weight to `rate`, stored as CSR."""

    rate: float = 0.8

    def __post_init__(self):
        _check_rate(self.rate)


@dataclass(frozen=True)
class BSR:
    """Whole `block` tiles of the GEMM view pruned by L2 norm to `rate`, stored as BSR."""

    block: tuple[int, int] = (8, 4)
    rate: float = 0.8

    def __post_init__(self):
        object.__setattr__(self, "block", tuple(int(b) for b in self.block))
        _check_block(self.block)
        _check_rate(self.rate)


Scheme = BCR | Pattern | CSR | BSR
