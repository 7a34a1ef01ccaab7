"""DNNFusion's greedy rewriting scheme (§4.2), on top of ordinary xDSL rewrite patterns.

1. Partition the graph into subgraphs, cutting at operators that have none of the
   algebraic properties (`subgraphs`).
2. Within each subgraph, enumerate every match of every rule and price it with the cost
   model (`propose`): the rule runs against a `TrialRewriter`, which records the
   replacement instead of making it; the saving is the cost of the ops that the
   replacement would leave dead minus the cost of the ops it would create.
3. Apply the match with the largest saving (`commit`), and repeat until nothing in the
   subgraph matches with a positive saving.
4. Repeat over all subgraphs until a whole round changes nothing (a rewrite can create
   matches across a cut, e.g. a folded batch norm joins its conv to the next add).

Where the paper is silent:
- A rewrite rooted at a cut operator (transpose, batch_norm, ...) belongs to that
  operator's own one-op subgraph, so the extra rules (layout, folding) run in the same
  scheme.
- Ties are broken by program order, then by rule order, so the result is deterministic.
- Only rewrites with a positive saving are applied. Each one lowers the module's total
  cost (`cost.py`), so the loop terminates; `commit` checks that the saving it realised
  is the one it priced.
- Subgraphs are recomputed each round rather than maintained.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from xdsl.dialects.builtin import ModuleOp
from xdsl.ir import Operation, OpResult, SSAValue
from xdsl.pattern_rewriter import PatternRewriter
from xdsl.transforms.dead_code_elimination import is_trivially_dead, would_be_trivially_dead

from sparsec.dialects import nn
from sparsec.dialects.nn import Algebra

from .base import AlgebraicRule
from .cost import ZERO, Cost, op_cost, total_cost

HOMOMORPHIC_UNARY = (nn.ReciprocalOp, nn.SqrtOp, nn.RsqrtOp, nn.AbsOp, nn.NegOp, nn.ExpOp,
                     nn.LogOp)
"""Unary ops with an algebraic property the nn dialect does not record: reciprocal,
square root and abs distribute over mul, neg over add, exp turns add into mul and log
mul into add. Table 4's rules are built from them."""

DISTRIBUTED_OVER = frozenset(name for op in nn.OPERATORS for name in op.DISTRIBUTES_OVER)
"""Ops something distributes over (add, sub): the other half of a distributive law."""


def has_property(op: Operation) -> bool:
    """Is `op` associative, commutative or distributive, in the paper's sense?"""
    if not isinstance(op, nn.NNOperation):
        return False
    return (op.ALGEBRA != Algebra.NONE or bool(op.DISTRIBUTES_OVER)
            or op.name in DISTRIBUTED_OVER or isinstance(op, HOMOMORPHIC_UNARY))


def subgraphs(module: Operation) -> list[list[Operation]]:
    """The module's nn operators in groups: connected components of the ops that have a
    property (edges are def-use edges within a block), and every other op on its own.
    Groups and the ops in them are in program order."""
    ops = [op for op in module.walk() if isinstance(op, nn.OPERATORS)]
    leader: dict[Operation, Operation] = {op: op for op in ops}

    def find(op: Operation) -> Operation:
        while leader[op] is not op:
            leader[op] = leader[leader[op]]
            op = leader[op]
        return op

    for op in ops:
        if not has_property(op):
            continue
        for operand in op.operands:
            producer = operand.owner
            if producer in leader and has_property(producer) and producer.parent is op.parent:
                leader[find(producer)] = find(op)
    groups: dict[Operation, list[Operation]] = {}
    for op in ops:
        groups.setdefault(find(op), []).append(op)
    return list(groups.values())


class TrialRewriter(PatternRewriter):
    """Runs a rule without changing the IR: `replace` records the new ops and values.
    Rules change the IR through `replace` only; anything else is refused."""

    def __init__(self, op: Operation):
        super().__init__(op)
        self.new_ops: list[Operation] | None = None
        self.new_results: list[SSAValue] = []

    def replace(self, op: Operation, new_ops: Operation | Sequence[Operation],
                new_results: Sequence[SSAValue | None] | None = None,
                safe_erase: bool = True) -> None:
        new_ops = [new_ops] if isinstance(new_ops, Operation) else list(new_ops)
        if new_results is None:
            new_results = new_ops[-1].results
        assert self.new_ops is None, "a rule replaces its op once"
        assert all(v is not None for v in new_results)
        self.new_ops, self.new_results = new_ops, list(new_results)  # type: ignore[arg-type]

    def _refuse(self, *args, **kwargs):
        raise TypeError("algebraic rules change the IR through rewriter.replace only")

    insert = erase = replace_all_uses_with = replace_uses_with_if = _refuse  # type: ignore
    notify_op_modified = replace_value_with_new_type = inline_block = _refuse  # type: ignore


@dataclass(frozen=True)
class Proposal:
    """`rule` matches at `op`; applying it lowers the module's cost by `saving`."""

    rule: AlgebraicRule
    op: Operation
    saving: Cost


@dataclass(frozen=True)
class Applied:
    """One rewrite the driver made (what tests and reports read)."""

    rule: str
    op: str
    saving: Cost


def dying_ops(root: Operation, kept: Sequence[SSAValue]) -> list[Operation]:
    """`root` and every side-effect-free op that would be left without users once
    `root`'s results are replaced by `kept` (ops defining `kept` stay alive)."""
    keep = {v.op for v in kept if isinstance(v, OpResult)}
    dead = {root}
    work = [root]
    while work:
        op = work.pop()
        for operand in op.operands:
            producer = operand.owner
            if (not isinstance(producer, Operation) or producer in dead or producer in keep
                    or not would_be_trivially_dead(producer)):
                continue
            if all(use.operation in dead for r in producer.results for use in r.uses):
                dead.add(producer)
                work.append(producer)
    return list(dead)


def propose(rule: AlgebraicRule, op: Operation) -> Proposal | None:
    """Price `rule` at `op` without changing the IR; None if it does not match or does
    not lower the cost."""
    if all(result.first_use is None for result in op.results):
        return None  # dead code: the `dce` pass's business, and nothing to save here
    trial = TrialRewriter(op)
    rule.match_and_rewrite(op, trial)
    if trial.new_ops is None:
        return None
    try:
        saving = total_cost(dying_ops(op, trial.new_results)) - total_cost(trial.new_ops)
    finally:
        for new_op in reversed(trial.new_ops):
            new_op.erase()
    return Proposal(rule, op, saving) if saving > ZERO else None


def best_proposal(ops: Sequence[Operation], rules: Sequence[AlgebraicRule]) -> Proposal | None:
    best = None
    for op in ops:
        for rule in rules:
            proposal = propose(rule, op)
            if proposal is not None and (best is None or proposal.saving > best.saving):
                best = proposal
    return best


def commit(proposal: Proposal) -> tuple[Applied, list[Operation]]:
    """Apply the proposal for real, erase what it left dead, and return the new ops."""
    op, rule = proposal.op, proposal.rule
    inserted: list[Operation] = []
    rewriter = PatternRewriter(op)
    rewriter.operation_insertion_handler.append(inserted.append)
    producers = [v.owner for v in op.operands if isinstance(v.owner, Operation)]
    removed = op_cost(op)
    name = op.name
    rule.match_and_rewrite(op, rewriter)
    assert op.parent is None, f"{type(rule).__name__} did not replace {name} on commit"
    while producers:
        producer = producers.pop()
        if producer.parent is None or not is_trivially_dead(producer):
            continue
        removed += op_cost(producer)
        producers.extend(v.owner for v in producer.operands if isinstance(v.owner, Operation))
        rewriter.erase(producer)
    realised = removed - total_cost(inserted)
    assert realised == proposal.saving, (f"{type(rule).__name__}: priced {proposal.saving}, "
                                         f"realised {realised}")
    return Applied(type(rule).__name__, name, realised), inserted


def rewrite_greedily(module: ModuleOp, rules: Sequence[AlgebraicRule]) -> list[Applied]:
    """Apply `rules` to `module` in DNNFusion's greedy order until none lowers the cost;
    return what was applied, in order."""
    applied: list[Applied] = []
    changed = True
    while changed:
        changed = False
        for group in subgraphs(module):
            while (proposal := best_proposal(group, rules)) is not None:
                done, new_ops = commit(proposal)
                applied.append(done)
                changed = True
                group = [op for op in group if op.parent is not None]
                group += [op for op in new_ops if isinstance(op, nn.OPERATORS)]
    return applied
