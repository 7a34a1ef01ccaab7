"""DNNFusion's Table 3 as data: what fusing a producer with a consumer gives.

Rows are the first operator (the producer), columns the second (the consumer). Each
cell holds the mapping type of the fused operator and a colour (papers.md §1.3):

  GREEN   legal and profitable: fuse without further analysis ("fuse_through");
  YELLOW  legal, profitability decided by profiling ("fuse_depend");
  RED     illegal or clearly unprofitable: never fuse ("fuse_break").

The table is the paper's, rebuilt from its prose and its count of 23 code-generation
rules (one per green or yellow cell): 13 green, 10 yellow, 2 red.

One documented deviation [OURS], by operator rather than by type: `CONV_POOL`, a pooling
of a dense convolution's element-wise chain fuses into the convolution (green), inside
the red Many-to-Many -> Many-to-Many cell; DNNFusion's Table 5 counts imply it.

Two orders of mapping types exist and must not be confused:

  FUSION_ORDER (used here): One-to-One < Shuffle < Reorganize < One-to-Many < Many-to-Many.
      Every non-red cell's fused type is the larger of its two types in this order
      (Reorganize absorbs Shuffle). Derived from the table [OURS], checked by the tests.
  Footnote 1's order (`MappingType.complexity`, in the dialect): One-to-One < Reorganize
      < Shuffle < One-to-Many < Many-to-Many. It types one operator whose inputs map
      differently; it is not the fusion order.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from sparsec.dialects.nn import MappingType

O2O = MappingType.ONE_TO_ONE
O2M = MappingType.ONE_TO_MANY
M2M = MappingType.MANY_TO_MANY
REORG = MappingType.REORGANIZE
SHUF = MappingType.SHUFFLE


class Colour(enum.Enum):
    """A Table 3 cell's class: what the planner does with the pair."""

    GREEN = "green"
    YELLOW = "yellow"
    RED = "red"


@dataclass(frozen=True)
class Cell:
    """One Table 3 cell: the fused mapping type (None for red) and its colour."""

    fused: MappingType | None
    colour: Colour


G, Y, R = Colour.GREEN, Colour.YELLOW, Colour.RED

TABLE_3: dict[tuple[MappingType, MappingType], Cell] = {
    # first One-to-One: fused with anything in this order is green.
    (O2O, O2O): Cell(O2O, G),
    (O2O, O2M): Cell(O2M, G),
    (O2O, M2M): Cell(M2M, G),
    (O2O, REORG): Cell(REORG, G),
    (O2O, SHUF): Cell(SHUF, G),
    # first One-to-Many: Expand -> Conv is red; O2M -> O2M is yellow by the rule count.
    (O2M, O2O): Cell(O2M, G),
    (O2M, O2M): Cell(O2M, Y),
    (O2M, M2M): Cell(None, R),
    (O2M, REORG): Cell(O2M, Y),
    (O2M, SHUF): Cell(O2M, Y),
    # first Many-to-Many: Conv -> Conv is red; Conv -> Expand/Resize needs profiling.
    (M2M, O2O): Cell(M2M, G),
    (M2M, O2M): Cell(M2M, Y),
    (M2M, M2M): Cell(None, R),
    (M2M, REORG): Cell(M2M, Y),
    (M2M, SHUF): Cell(M2M, Y),
    # first Reorganize / Shuffle: variants of One-to-One, green among themselves and with
    # One-to-One, yellow with the strong types (copying, changed access order).
    (REORG, O2O): Cell(REORG, G),
    (REORG, O2M): Cell(O2M, Y),
    (REORG, M2M): Cell(M2M, Y),
    (REORG, REORG): Cell(REORG, G),
    (REORG, SHUF): Cell(REORG, G),
    (SHUF, O2O): Cell(SHUF, G),
    (SHUF, O2M): Cell(O2M, Y),
    (SHUF, M2M): Cell(M2M, Y),
    (SHUF, REORG): Cell(REORG, G),
    (SHUF, SHUF): Cell(SHUF, G),
}

CONV_POOL = Cell(M2M, G)
"""Our one deviation from the reconstructed table [OURS]: a pooling (max_pool2d,
avg_pool2d, adaptive_avg_pool2d) of a dense convolution's element-wise chain fuses
into the convolution's group, although (M2M, M2M) is red. The planner applies it per
pair of operators, not per pair of types (`plan.pools_a_convolution`): conv -> conv,
linear -> linear, pooling -> conv and every other Many-to-Many pair stay red.

Why: DNNFusion's Table 5 counts (verified, papers.md §1.3) are below the floor the red
cell allows. VGG-16 has 22 Many-to-Many operators (13 conv, 5 max_pool, 1 adaptive pool,
3 linear) and DNNFusion reports 17 layers = 13 + 3 + 1: the five max-pools joined their
convolutions. EfficientNet-B0 has 99 (81 conv, 17 adaptive pools, 1 linear) and
DNNFusion reports 97. Why green and not yellow: the code generator computes the
pooling inside the convolution's kernel after its element-wise epilogue, plane by plane
while the plane is in cache (`lowering/kernels/pooling.per_plane`); the work is that
of the two kernels minus one pass of the convolution's output through memory, so
there is nothing for a profile to decide (measured: benchmarks/README.md "Fusion")."""

FUSION_ORDER: tuple[MappingType, ...] = (O2O, SHUF, REORG, O2M, M2M)
"""Mapping types from weakest to strongest *inside fusion*: a non-red cell's fused type is
the larger of the pair (`fused_max`). Not footnote 1's order (see the module docstring)."""


def fused_max(first: MappingType, second: MappingType) -> MappingType:
    """The larger of two mapping types in FUSION_ORDER."""
    return max(first, second, key=FUSION_ORDER.index)


def lookup(first: MappingType, second: MappingType) -> Cell:
    """Table 3's cell for `first` (producer) fused with `second` (consumer)."""
    return TABLE_3[first, second]
