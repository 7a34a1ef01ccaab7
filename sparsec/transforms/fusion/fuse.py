"""`fuse`: DNNFusion's fusion as a pass: plan (pure analysis), then outline (mutation).

    sparsec opt --pass fuse model.mlir                   # yellow cells break
    sparsec opt --pass 'fuse{max-ops=8}' model.mlir      # smaller groups; max-ops=1: off
    sparsec opt --pass fuse --fusion-report model.mlir   # groups and totals on stderr

`fuse{profile=true}` decides yellow cells by timing; it needs a cost oracle, which the
runtime provides (transforms never import the runtime): `fuse(module, oracle=...)`, and
the registry's `fuse` is `runtime.profile.ProfilingFusePass`, this pass with the JIT
oracle and its on-disk profile database. This class alone rejects `profile=true`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp
from xdsl.passes import ModulePass
from xdsl.utils.exceptions import DiagnosticException

from .outline import outline_block
from .plan import DEFAULT_BUDGET, BlockPlan, Budget, CostOracle, plan_module


def fuse(module: ModuleOp, *, budget: Budget = DEFAULT_BUDGET,
         oracle: CostOracle | None = None) -> list[BlockPlan]:
    """Plan every function block of `module`, then outline the groups. Without an
    oracle, yellow cells break. Returns the plans (their ops are gone from the IR)."""
    plans = plan_module(module, budget, oracle)
    for plan in plans:
        outline_block(plan)
    return plans


@dataclass(frozen=True)
class FusePass(ModulePass):
    """Group nn operators into `nn.fused` regions (DNNFusion Listing 1, Table 3)."""

    name = "fuse"

    profile: bool = False
    """Time yellow cells with a cost oracle; false treats them as red."""

    max_ops: int = DEFAULT_BUDGET.max_ops
    """Most operators in one group (1 turns fusion off)."""

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        if self.max_ops < 1:
            raise DiagnosticException(f"fuse: max-ops must be at least 1, got {self.max_ops}")
        if self.profile:
            raise DiagnosticException(
                "fuse{profile=true}: no cost oracle is available to time yellow cells "
                "(the runtime passes one to sparsec.transforms.fusion.fuse); use "
                "fuse{profile=false} to treat yellow cells as breaks")
        fuse(op, budget=replace(DEFAULT_BUDGET, max_ops=self.max_ops))
