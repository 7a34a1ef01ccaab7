"""`algebraic`: DNNFusion's mathematical-property-based graph rewriting (§4.2).

    sparsec opt -p algebraic model.mlir                      # exact rules only
    sparsec opt -p 'algebraic{reassociate=true}' model.mlir  # and the rounding-changing ones

Rules are grouped by family (strength, layout, folding, associative, distributive,
commutative), one RewritePattern per identity. The greedy driver (`greedy.py`) applies
them in the paper's order: within each subgraph, the match with the largest saving by
the cost model (`cost.py`) first, until nothing matches.
"""

from __future__ import annotations

from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp
from xdsl.passes import ModulePass

from . import associative, commutative, distributive, folding, layout, strength
from .base import AlgebraicRule
from .greedy import rewrite_greedily

ALL_RULES: tuple[type[AlgebraicRule], ...] = (
    *strength.RULES, *layout.RULES, *folding.RULES, *associative.RULES,
    *distributive.RULES, *commutative.RULES,
)


def enabled_rules(reassociate: bool) -> list[AlgebraicRule]:
    """The exact rules, plus the rounding-changing ones when `reassociate`."""
    return [rule() for rule in ALL_RULES if rule.EXACT or reassociate]


@dataclass(frozen=True)
class AlgebraicPass(ModulePass):
    """Rewrite nn graphs by algebraic identities, largest FLOP saving first."""

    name = "algebraic"

    reassociate: bool = False
    """Also apply the rules that change floating-point rounding (reassociation,
    distribution, folding into weights)."""

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        rewrite_greedily(op, enabled_rules(self.reassociate))
