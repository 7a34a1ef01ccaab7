"""DNNFusion Table 3 (papers.md §1.3): every cell, the colour counts, both type orders."""

import pytest

from sparsec.dialects.nn import MappingType
from sparsec.transforms.fusion.table import (
    CONV_POOL,
    FUSION_ORDER,
    TABLE_3,
    Colour,
    fused_max,
    lookup,
)

O2O = MappingType.ONE_TO_ONE
O2M = MappingType.ONE_TO_MANY
M2M = MappingType.MANY_TO_MANY
REORG = MappingType.REORGANIZE
SHUF = MappingType.SHUFFLE
G, Y, R = Colour.GREEN, Colour.YELLOW, Colour.RED

# (first, second, fused type, colour), transcribed row by row from papers.md §1.3.
CELLS = [
    (O2O, O2O, O2O, G), (O2O, O2M, O2M, G), (O2O, M2M, M2M, G),
    (O2O, REORG, REORG, G), (O2O, SHUF, SHUF, G),
    (O2M, O2O, O2M, G), (O2M, O2M, O2M, Y), (O2M, M2M, None, R),
    (O2M, REORG, O2M, Y), (O2M, SHUF, O2M, Y),
    (M2M, O2O, M2M, G), (M2M, O2M, M2M, Y), (M2M, M2M, None, R),
    (M2M, REORG, M2M, Y), (M2M, SHUF, M2M, Y),
    (REORG, O2O, REORG, G), (REORG, O2M, O2M, Y), (REORG, M2M, M2M, Y),
    (REORG, REORG, REORG, G), (REORG, SHUF, REORG, G),
    (SHUF, O2O, SHUF, G), (SHUF, O2M, O2M, Y), (SHUF, M2M, M2M, Y),
    (SHUF, REORG, REORG, G), (SHUF, SHUF, SHUF, G),
]


@pytest.mark.parametrize("first, second, fused, colour", CELLS,
                         ids=[f"{a.value}->{b.value}" for a, b, _, _ in CELLS])
def test_cell(first, second, fused, colour):
    cell = lookup(first, second)
    assert cell.fused is fused
    assert cell.colour is colour


def test_the_table_has_exactly_the_25_cells():
    assert len(CELLS) == 25
    assert set(TABLE_3) == {(a, b) for a in MappingType for b in MappingType}


def test_colour_counts_match_the_23_code_generation_rules():
    colours = [cell.colour for cell in TABLE_3.values()]
    assert colours.count(R) == 2
    assert colours.count(G) == 13
    assert colours.count(Y) == 10
    assert {pair for pair, cell in TABLE_3.items() if cell.colour is R} == {(O2M, M2M),
                                                                          (M2M, M2M)}


def test_one_to_one_is_green_with_everything_in_either_order():
    for other in MappingType:
        assert lookup(O2O, other).colour is G
        assert lookup(other, O2O).colour is G


@pytest.mark.parametrize("pair", [p for p, c in TABLE_3.items() if c.colour is not R],
                         ids=lambda p: f"{p[0].value}->{p[1].value}")
def test_fused_type_is_the_max_in_the_fusion_order(pair):
    assert lookup(*pair).fused is fused_max(*pair)


def test_fusion_order_differs_from_footnote_1_order():
    """Inside fusion Reorganize absorbs Shuffle; footnote 1 ranks Shuffle above it."""
    assert FUSION_ORDER == (O2O, SHUF, REORG, O2M, M2M)
    footnote_1 = sorted(MappingType, key=lambda m: m.complexity)
    assert footnote_1 == [O2O, REORG, SHUF, O2M, M2M]
    assert lookup(SHUF, REORG).fused is REORG and lookup(REORG, SHUF).fused is REORG


def test_the_conv_pool_deviation_is_green_many_to_many():
    """Our one deviation (table.CONV_POOL): a convolution's pooling fuses, green, into a
    Many-to-Many group; the type cell it overrides stays red for every other pair."""
    assert CONV_POOL.colour is G and CONV_POOL.fused is M2M
    assert lookup(M2M, M2M).colour is R and lookup(M2M, M2M).fused is None
