"""DNNFusion-style operator fusion: classify -> plan -> outline (TVM Relax's split).

- `graph`: the block's extended computational graph (mapping types, sizes, edges);
- `table`: Table 3 (fused mapping type and green/yellow/red per producer/consumer pair);
- `plan`: Listing 1 (seeds, growth, budget, convexity) -> a `BlockPlan`, no mutation;
- `outline`: a plan -> `nn.fused` regions, through the rewriter;
- `report`: groups and totals of a (fused) module;
- `fuse`: the `fuse` pass and the `fuse(module, oracle=...)` entry point.
"""

from .fuse import FusePass, fuse
from .plan import Budget, CostOracle, plan_module
from .report import fusion_report

__all__ = ["Budget", "CostOracle", "FusePass", "fuse", "fusion_report", "plan_module"]
