"""The fusion report: what `fuse` did to a module, read back from the IR.

Counted as DNNFusion's Table 5 counts them:
- layers: nn operators (constants are weights, not layers); before fusion every operator
  inside an `nn.fused` counts, after it the `nn.fused` counts once;
- intermediate bytes: the bytes of every operator's result (Listing 1's IRS_size,
  function outputs included); after fusion only the tensors that still materialise:
  results of unfused operators and the outputs of each `nn.fused`. The difference is
  the bytes of the tensors that no longer exist (ECG's IR_removable results).

It reads any module, fused or not (an unfused module reports before == after), so the
CLI (`sparsec opt --fusion-report`) and `CompiledModel.report()` share it.
"""

from __future__ import annotations

from dataclasses import dataclass

from xdsl.dialects.builtin import ModuleOp, TensorType
from xdsl.dialects.func import FuncOp
from xdsl.ir import Operation

from sparsec.dialects.nn import ConstantOp, FusedOp, NNOperation, YieldOp
from sparsec.transforms.classify import result_bytes

from .plan import group_name


def _is_layer(op: Operation) -> bool:
    return isinstance(op, NNOperation) and not isinstance(op, ConstantOp | FusedOp | YieldOp)


def _bytes(op: Operation) -> int:
    return sum(result_bytes(r.type) for r in op.results if isinstance(r.type, TensorType))


@dataclass(frozen=True)
class GroupReport:
    """One `nn.fused`: its name, mapping type, operators and the bytes it saves."""

    name: str
    mapping: str
    ops: tuple[str, ...]
    bytes_before: int
    bytes_after: int

    @staticmethod
    def of(fused: FusedOp) -> GroupReport:
        ops = [op for op in fused.body.block.ops if _is_layer(op)]
        return GroupReport(group_name(ops), fused.mapping.data, tuple(op.name for op in ops),
                           sum(_bytes(op) for op in ops), _bytes(fused))


@dataclass(frozen=True)
class FunctionReport:
    """One function's groups (block order), unfused operators and totals."""

    name: str
    groups: tuple[GroupReport, ...]
    unfused: tuple[str, ...]
    unfused_bytes: int

    @property
    def layers_before(self) -> int:
        return len(self.unfused) + sum(len(g.ops) for g in self.groups)

    @property
    def layers_after(self) -> int:
        return len(self.unfused) + len(self.groups)

    @property
    def bytes_before(self) -> int:
        return self.unfused_bytes + sum(g.bytes_before for g in self.groups)

    @property
    def bytes_after(self) -> int:
        return self.unfused_bytes + sum(g.bytes_after for g in self.groups)

    @staticmethod
    def of(function: FuncOp) -> FunctionReport:
        groups, unfused, unfused_bytes = [], [], 0
        for block in function.body.blocks:
            for op in block.ops:
                if isinstance(op, FusedOp):
                    groups.append(GroupReport.of(op))
                elif _is_layer(op):
                    unfused.append(op.name)
                    unfused_bytes += _bytes(op)
        return FunctionReport(function.sym_name.data, tuple(groups), tuple(unfused),
                              unfused_bytes)


@dataclass(frozen=True)
class FusionReport:
    functions: tuple[FunctionReport, ...]

    @property
    def layers_before(self) -> int:
        return sum(f.layers_before for f in self.functions)

    @property
    def layers_after(self) -> int:
        return sum(f.layers_after for f in self.functions)

    @property
    def bytes_before(self) -> int:
        return sum(f.bytes_before for f in self.functions)

    @property
    def bytes_after(self) -> int:
        return sum(f.bytes_after for f in self.functions)

    def __str__(self) -> str:
        lines = []
        for f in self.functions:
            lines.append(f"fusion report for @{f.name}: {_count(len(f.groups), 'group')}, "
                         f"{_count(len(f.unfused), 'unfused operator')}")
            for k, g in enumerate(f.groups):
                lines.append(f"  group {k}: {g.name} ({g.mapping}, {len(g.ops)} ops, "
                             f"{g.bytes_before - g.bytes_after} intermediate bytes removed)")
                lines.append(f"    {', '.join(g.ops)}")
            if f.unfused:
                lines.append(f"  unfused: {', '.join(f.unfused)}")
        lines.append(f"layers: {self.layers_before} -> {self.layers_after}")
        before, after = self.bytes_before, self.bytes_after
        share = f" ({100 * (before - after) / before:.1f}% removed)" if before else ""
        lines.append(f"intermediate bytes: {before} -> {after}{share}")
        return "\n".join(lines)


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def fusion_report(module: ModuleOp) -> FusionReport:
    """The report of every function in `module`, in order."""
    return FusionReport(tuple(FunctionReport.of(op) for op in module.walk()
                              if isinstance(op, FuncOp)))
