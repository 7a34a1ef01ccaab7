"""The `algebraic` pass: DNNFusion's algebraic graph rewriting with a FLOP cost model."""

from .base import AlgebraicRule
from .greedy import rewrite_greedily
from .pass_ import ALL_RULES, AlgebraicPass, enabled_rules

__all__ = ["ALL_RULES", "AlgebraicPass", "AlgebraicRule", "enabled_rules", "rewrite_greedily"]
