"""Outlining: turn a fusion plan into `nn.fused` regions. The only part of fusion that
changes IR, and it does so through a rewriter.

For each group, in block order:

    %y, %z = nn.fused %x, %w attributes {mapping = "many-to-many"} ({
    ^bb0(%a: ..., %b: ...):
      %c = nn.constant dense<2.0> : tensor<f32>     // small constants are cloned in
      ... the group's operators, cloned in block order ...
      nn.yield %r, %s : ...
    }) : (...) -> (...)

- inputs: the values the group reads from outside, in order of first use; constants of
  at most `INLINE_LIMIT` elements are cloned into the region instead (the region is
  IsolatedFromAbove, and the fused code wants their values: an exponent, an epsilon),
  larger weights are inputs so a shared weight stays one tensor;
- outputs: the group's results that are used outside it, in block order; results used
  only inside the group no longer materialise;
- the fused op takes the place of the group's first operator. When a group gathers
  operators from far apart in the block, unfused operators are moved (never reordered
  otherwise) so every value is defined before its use (`BlockPlan.schedule`).
A constant that only group members used is erased: its clones are in the regions.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from xdsl.dialects.builtin import ModuleOp
from xdsl.dialects.func import FuncOp, ReturnOp
from xdsl.ir import Block, Operation, Region, SSAValue
from xdsl.pattern_rewriter import PatternRewriter
from xdsl.rewriter import InsertPoint

from sparsec.dialects.nn import ConstantOp, FusedOp, MappingType, YieldOp

from .graph import inlined_constant
from .plan import BlockPlan, FusionGroup


class Interface(NamedTuple):
    """What a group reads and writes, each list in order of first appearance."""

    inputs: list[SSAValue]
    """Values from outside: become operands of `nn.fused` and block arguments."""
    constants: list[ConstantOp]
    """Small constants the group reads: cloned into the region."""
    outputs: list[SSAValue]
    """Results used outside the group: yielded, they become the op's results."""


def group_interface(ops: Sequence[Operation]) -> Interface:
    """The interface of a group given in block order."""
    inside = set(ops)
    inputs: list[SSAValue] = []
    constants: list[ConstantOp] = []
    for op in ops:
        for value in op.operands:
            if value.owner in inside:
                continue
            constant = inlined_constant(value)
            if constant is not None:
                if constant not in constants:
                    constants.append(constant)
            elif value not in inputs:
                inputs.append(value)
    outputs = [r for op in ops for r in op.results
               if any(use.operation not in inside for use in r.uses)]
    return Interface(inputs, constants, outputs)


def build_region(ops: Sequence[Operation]) -> tuple[Interface, Region]:
    """The group's interface and body: block arguments stand for the inputs, the small
    constants are cloned in, then `ops`, then `nn.yield` of the outputs. The original
    operators are left untouched."""
    interface = group_interface(ops)
    body = Block(arg_types=[v.type for v in interface.inputs])
    mapper: dict[SSAValue, SSAValue] = dict(zip(interface.inputs, body.args, strict=True))
    for constant in interface.constants:
        body.add_op(constant.clone(mapper))
    for op in ops:
        body.add_op(op.clone(mapper))
    body.add_op(YieldOp(*(mapper[r] for r in interface.outputs)))
    return interface, Region(body)


def outline_block(plan: BlockPlan) -> list[FusedOp]:
    """Apply `plan` to its block; return the new `nn.fused` ops in block order."""
    if not plan.groups:
        return []
    ecg = plan.ecg
    rewriter = PatternRewriter(InsertPoint.at_end(ecg.block))
    placed: dict[int, Operation] = {}
    cloned: list[ConstantOp] = []
    for group in plan.groups:
        placed[ecg.index(group.ops[0])] = _outline_group(rewriter, group, cloned)
    for constant in dict.fromkeys(cloned):
        if not constant.result.uses:  # only fused operators used it: its clones remain
            rewriter.erase(constant)
    _reorder(rewriter, plan, placed)
    return [placed[ecg.index(group.ops[0])] for group in plan.groups]


def _outline_group(rewriter: PatternRewriter, group: FusionGroup,
                   cloned: list[ConstantOp]) -> FusedOp:
    """Replace the group's operators by one `nn.fused` before the first of them; note the
    constants cloned into its region in `cloned`."""
    (inputs, constants, outputs), body = build_region(group.ops)
    fused = FusedOp(inputs, [r.type for r in outputs], body, group.mapping)
    fused.location = group.ops[0].location
    rewriter.insert(fused, InsertPoint.before(group.ops[0]))
    for old, new in zip(outputs, fused.results, strict=True):
        new.name_hint = old.name_hint
        rewriter.replace_all_uses_with(old, new)
    for op in reversed(group.ops):
        rewriter.erase(op)
    cloned.extend(constants)
    return fused


def _reorder(rewriter: PatternRewriter, plan: BlockPlan, placed: dict[int, Operation]) -> None:
    """Move operations, where needed, into the order of `plan.schedule()`."""
    ecg = plan.ecg
    previous: Operation | None = None
    for item in plan.schedule():
        op = placed.get(item[0]) if len(item) > 1 else ecg.ops[item[0]]
        if op is None or op.parent is None:  # an erased constant
            continue
        if op.prev_op is not previous:  # xDSL's rewriter has no move: detach, insert
            op.detach()
            where = (InsertPoint.after(previous) if previous is not None
                     else InsertPoint.at_start(ecg.block))
            rewriter.insert(op, where)
        previous = op


def extract_group(ops: Sequence[Operation], mapping: MappingType,
                  name: str = "main") -> ModuleOp:
    """A standalone module whose function `name` runs `ops` (block order) as one
    `nn.fused`: what a cost oracle compiles and times. Weights the group reads are cloned
    into the function; its other inputs become the function's arguments, in order. The
    source IR is not changed."""
    (inputs, _, outputs), body = build_region(ops)
    activations = [v for v in inputs if not isinstance(v.owner, ConstantOp)]
    entry = Block(arg_types=[v.type for v in activations])
    operands: dict[SSAValue, SSAValue] = dict(zip(activations, entry.args, strict=True))
    for value in inputs:
        if isinstance(value.owner, ConstantOp):
            entry.add_op(value.owner.clone(operands))
    fused = FusedOp([operands[v] for v in inputs], [r.type for r in outputs], body, mapping)
    entry.add_ops([fused, ReturnOp(*fused.results)])
    function = FuncOp(name, ([v.type for v in activations], [r.type for r in outputs]),
                      Region(entry))
    return ModuleOp([function])
