"""Fusion planning (DNNFusion §4.3, Listing 1): pure analysis, no IR mutation.

    plan = plan_block(build_ecg(block), Budget(), oracle=None)

1. Seeds: the One-to-One operators, smallest intermediate result first (ties in block
   order). A seed that already joined a group is skipped.
2. From the seed, grow through its successors, recursively through theirs (Step 2).
3. Then through the seed's predecessors, recursively through theirs (Step 3).
4. Each candidate must be an unfused nn operator and pass, in this order:
   - Table 3, between the group (first) and a successor, or a predecessor and the group,
     using the group's current fused type: a red cell never fuses;
   - the budget (`Budget`): the group must not outgrow the registers its one loop nest
     would have (the paper's "constraint check", threshold unpublished);
   - convexity: with every group contracted to one node the graph must stay acyclic,
     i.e. no path may leave a group and re-enter it (a residual edge around an unfused
     op), nor may two groups feed each other;
   - a yellow cell asks the cost oracle (Listing 1's Step 2.3) and, without one
     (`fuse{profile=false}`), does not fuse; a green cell fuses.
   After a merge the group's type becomes the cell's fused type.
5. Groups of one operator are not groups: that operator stays unfused.
6. [OURS] A pooling that no group reached and whose input is a convolution's result is
   offered to the convolution's group (or the convolution alone): `table.CONV_POOL`.

Groups the code generator would split are not formed [OURS]: nothing joins a group after
a convolution's pooling (`pools_a_convolution`), no element-wise op joins the group of
the matrix product that reads it (`feeds_a_matrix_product`), and a convolution does not
take a prologue whose value has other users (`prologue_also_used_outside`).

Where the paper is silent [OURS]: the group's type, not the neighbour op's, decides the
cell (Figure 3 rejects GEMM against the block's Many-to-Many type); growth only takes
unfused operators; Step 3 starts from the seed only, as in Listing 1; convexity is
checked on the whole partition (two groups feeding each other are a cycle too).
"""

from __future__ import annotations

import enum
import heapq
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from xdsl.dialects.builtin import Float32Type, ModuleOp, NoneAttr, TensorType
from xdsl.dialects.func import FuncOp
from xdsl.ir import Operation

from sparsec.dialects import nn
from sparsec.dialects.nn import MappingType

from .graph import Ecg, build_ecg, inlined_constant
from .table import CONV_POOL, Colour, lookup


@dataclass(frozen=True)
class Budget:
    """How large a group may grow before its fused loop nest would spill registers.

    The paper stops fusion at an empirically chosen threshold it does not publish. Ours
    are sized for the smallest register files we target, x86-64 with AVX2 (16 vector and
    16 general-purpose registers; AArch64 has 32 and 31, AVX-512 32 vector registers):

    - `vector_registers` = 16: values live at once in the fused body must fit the 16 ymm
      registers. The planner estimates that need with a Sethi-Ullman count over the
      group's data-flow graph (`register_need`).
    - `accumulators` = 12: a Many-to-Many operator keeps a register tile of accumulators
      live while it reads its operands and while its epilogue runs (12 ymm: the 6x16 f32
      tile of the usual AVX2 GEMM micro-kernel), leaving 4 for prologue and epilogue.
    - `pointer_registers` = 12: every tensor the group reads or writes (inputs, weights
      not inlined, outputs) is a base pointer in a general-purpose register: 16 minus
      the stack pointer and three loop indices of the innermost loops.
    - `max_ops` = 16: a cap on the fused body's size (code size, compile and profiling
      time). `fuse{max-ops=1}` turns fusion off.
    """

    max_ops: int = 16
    vector_registers: int = 16
    accumulators: int = 12
    pointer_registers: int = 12


DEFAULT_BUDGET = Budget()


class CostOracle(Protocol):
    """Measures operators for the yellow cells (DNNFusion's profiling database).

    `latency(ops)` is the time of `ops` compiled as one fused kernel (one op: unfused).
    The planner fuses a yellow candidate when latency(group + candidate) <=
    latency(group) + latency(candidate), Listing 1's Step 2.3. The runtime implements
    this (timing JIT code, caching results on disk); `outline.extract_group` builds the
    standalone module to time. Transforms never import the runtime."""

    def latency(self, ops: Sequence[Operation]) -> float: ...


class Outcome(enum.Enum):
    """Why a candidate did or did not join a group."""

    FUSED = "fused"
    RED = "red cell"
    YELLOW = "yellow cell, not profiled"
    SLOWER = "yellow cell, profiled slower"
    BUDGET = "over budget"
    CYCLE = "would create a cycle"
    POOLED = "after a convolution's pooling"
    PROLOGUE = "a prologue the kernel cannot apply"


@dataclass(frozen=True)
class Decision:
    """One candidate considered for the group grown from `seed`."""

    seed: Operation
    candidate: Operation
    colour: Colour
    outcome: Outcome


@dataclass(frozen=True)
class FusionGroup:
    """Operators to fuse (block order) and the fused mapping type."""

    ops: tuple[Operation, ...]
    mapping: MappingType
    seed: Operation

    @property
    def name(self) -> str:
        """`fused_` and the operator names in order, as TVM names fused functions."""
        return group_name(self.ops)


def group_name(ops: Sequence[Operation]) -> str:
    return "fused_" + "_".join(op.name.removeprefix("nn.") for op in ops)


@dataclass(frozen=True)
class BlockPlan:
    """The plan for one block: its ECG, the groups (two or more ops each) in the order of
    their first operator, and every decision taken while growing them."""

    ecg: Ecg
    groups: tuple[FusionGroup, ...]
    decisions: tuple[Decision, ...] = ()

    def group_of(self, op: Operation) -> FusionGroup | None:
        return next((g for g in self.groups if op in g.ops), None)

    def schedule(self) -> list[tuple[int, ...]]:
        """A legal order of the block after fusion: each item is a group's nodes or one
        unfused node. Topological over the contracted graph; among ready items the one
        whose first node comes first in the block goes first, so an already legal block
        keeps its order."""
        ecg = self.ecg
        items: list[tuple[int, ...]] = [tuple(sorted(ecg.index(op) for op in g.ops))
                                        for g in self.groups]
        grouped = {i for item in items for i in item}
        items += [(i,) for i in range(len(ecg.ops)) if i not in grouped]
        item_of = {i: k for k, item in enumerate(items) for i in item}
        succs = [{item_of[s] for i in item for s in ecg.succs[i]} - {k}
                 for k, item in enumerate(items)]
        waiting = [0] * len(items)
        for targets in succs:
            for t in targets:
                waiting[t] += 1
        ready = [(item[0], k) for k, item in enumerate(items) if waiting[k] == 0]
        heapq.heapify(ready)
        order = []
        while ready:
            _, k = heapq.heappop(ready)
            order.append(items[k])
            for t in succs[k]:
                waiting[t] -= 1
                if waiting[t] == 0:
                    heapq.heappush(ready, (items[t][0], t))
        assert len(order) == len(items), "fusion plan has a cycle"
        return order


class _Partition:
    """The ECG with every group contracted to one node, kept acyclic.

    Node ids are ECG node indices; a group is named by the id of its seed. `order` is a
    topological order of the contracted graph (None marks a slot freed by a merge), so
    a cycle check between two groups only searches the nodes ordered between them."""

    def __init__(self, ecg: Ecg):
        n = len(ecg.ops)
        self.ecg = ecg
        self.group_of = list(range(n))
        self.members: dict[int, list[int]] = {i: [i] for i in range(n)}
        self.order: list[int | None] = list(range(n))
        self.slot = list(range(n))

    def succs(self, g: int) -> set[int]:
        ecg, group_of = self.ecg, self.group_of
        return {group_of[s] for m in self.members[g] for s in ecg.succs[m]} - {g}

    def preds(self, g: int) -> set[int]:
        ecg, group_of = self.ecg, self.group_of
        return {group_of[p] for m in self.members[g] for p in ecg.preds[m]} - {g}

    def _between(self, first: int, last: int, step) -> set[int]:
        """Nodes strictly between `first` and `last` in the order that `step` (succs or
        preds) reaches from `first` without leaving that window."""
        lo, hi = sorted((self.slot[first], self.slot[last]))
        found: set[int] = set()
        stack = [first]
        while stack:
            for nxt in step(stack.pop()):
                if lo < self.slot[nxt] < hi and nxt not in found:
                    found.add(nxt)
                    stack.append(nxt)
        return found

    def can_merge(self, g: int, h: int) -> bool:
        """Merging g and h keeps the contracted graph acyclic: no path of two or more
        edges runs from the earlier one to the later one."""
        first, last = sorted((g, h), key=self.slot.__getitem__)
        reached = self._between(first, last, self.succs)
        return not any(last in self.succs(x) for x in reached)

    def merge(self, g: int, h: int) -> None:
        """Contract h into g (which must be mergeable) and repair the order: inside the
        window between them, the ancestors of the later node move before the merged
        node, everything else after it."""
        first, last = sorted((g, h), key=self.slot.__getitem__)
        lo, hi = self.slot[first], self.slot[last]
        ancestors = self._between(last, first, self.preds)
        window = [x for x in self.order[lo + 1:hi] if x is not None]
        new = [x for x in window if x in ancestors] + [g]
        new += [x for x in window if x not in ancestors]
        self.order[lo:hi + 1] = new + [None] * (hi - lo + 1 - len(new))
        for offset, x in enumerate(new):
            self.slot[x] = lo + offset
        for m in self.members.pop(h):
            self.group_of[m] = g
            self.members[g].append(m)


def register_need(ecg: Ecg, nodes: Sequence[int], budget: Budget) -> int:
    """Vector registers the fused body of `nodes` needs at once (Sethi-Ullman estimate).

    Each operator is evaluated as a chain of two-operand instructions, its most
    demanding operand first: need = max(l1, l2 + 1, ..., ln + 1) over its operands'
    needs sorted l1 >= l2 >= ...; an operand from outside the group needs 1. A
    Many-to-Many operator adds its accumulator tile, except a pooling: it runs after its
    producer's tile is stored (a pool epilogue) and needs 2, its input and its window. A
    value used twice inside the group stays live in between: +1 for each."""
    inside = {ecg.ops[i]: i for i in nodes}
    need: dict[int, int] = {}
    shared = 0
    for i in sorted(nodes):
        op = ecg.ops[i]
        if isinstance(op, POOLING):
            # a pool epilogue runs after the convolution's tile is stored, reading it
            # back: one operand and one window accumulator, no register tile
            need[i] = 2
            continue
        labels = sorted((need[inside[v.owner]] if v.owner in inside else 1
                         for v in op.operands), reverse=True)
        own = max([labels[0], *(label + 1 for label in labels[1:])]) if labels else 1
        if ecg.mapping[i] is MappingType.MANY_TO_MANY:
            own += budget.accumulators
        need[i] = own
        internal_uses = sum(1 for r in op.results for u in r.uses if u.operation in inside)
        shared += internal_uses > 1
    return max(need.values()) + shared


def tensor_count(ecg: Ecg, nodes: Sequence[int]) -> int:
    """Tensors the fused loop nest addresses: inputs (weights included, inlined
    constants not) plus outputs (results used outside the group)."""
    inside = {ecg.ops[i] for i in nodes}
    inputs = {v for op in inside for v in op.operands
              if v.owner not in inside and inlined_constant(v) is None}
    outputs = sum(1 for op in inside for r in op.results
                  if any(u.operation not in inside for u in r.uses))
    return len(inputs) + outputs


def fits(ecg: Ecg, nodes: Sequence[int], budget: Budget) -> bool:
    return (len(nodes) <= budget.max_ops
            and tensor_count(ecg, nodes) <= budget.pointer_registers
            and register_need(ecg, nodes, budget) <= budget.vector_registers)


POOLING = (nn.MaxPool2dOp, nn.AvgPool2dOp, nn.AdaptiveAvgPool2dOp)


def pools_a_convolution(ecg: Ecg, nodes: Sequence[int]) -> bool:
    """Is `nodes` what one convolution kernel with a pool epilogue computes
    (`table.CONV_POOL`, the one Many-to-Many pair that fuses)?

    Exactly two Many-to-Many ops: an f32 nn.conv2d C whose weight carries no sparse
    encoding (the sparse kernels take no pool epilogue) and a max/avg/adaptive-average
    pooling P. Walking back from P's input, every producer up to C is an element-wise op
    of `nodes` with exactly one operand from inside `nodes` (the chain), and every chain
    value before P's input has one use: the code generator's epilogue chain, so C's
    kernel reaches P's input in registers. P's input may have other users (the
    squeeze-excite multiply): the kernel stores it anyway. Every other op is an
    element-wise ancestor of C inside `nodes` (C's prologue): nothing in the group reads
    P's result or the chain, so the group ends at P."""
    ops = [ecg.ops[i] for i in nodes]
    heavy = [op for i, op in zip(nodes, ops, strict=True)
             if ecg.mapping[i] is MappingType.MANY_TO_MANY]
    convs = [op for op in heavy if isinstance(op, nn.Conv2dOp)]
    pools = [op for op in heavy if isinstance(op, POOLING)]
    if len(heavy) != 2 or len(convs) != 1 or len(pools) != 1:
        return False
    conv, pool = convs[0], pools[0]
    weight = conv.weight.type
    if not isinstance(weight, TensorType) or not isinstance(weight.encoding, NoneAttr) or \
            not isinstance(weight.get_element_type(), Float32Type):
        return False
    inside = set(ops)
    value = pool.operands[0]
    last = True
    chain: set[Operation] = set()
    while isinstance(value.owner, Operation) and value.owner is not conv:
        owner = value.owner
        if owner not in inside or not _elementwise(owner):
            return False
        if not last and not value.has_one_use():
            return False
        links = [v for v in owner.operands if v.owner in inside]
        if len(links) != 1:
            return False
        chain.add(owner)
        value, last = links[0], False
    if value.owner is not conv or not (last or value.has_one_use()):
        return False
    ancestors: set[Operation] = set()
    stack: list[Operation] = [conv]
    while stack:
        for operand in stack.pop().operands:
            owner = operand.owner
            if owner in inside and owner not in ancestors:
                ancestors.add(owner)  # type: ignore[arg-type]
                stack.append(owner)  # type: ignore[arg-type]
    prologue = inside - {conv, pool} - chain
    return prologue <= ancestors and all(_elementwise(op) for op in prologue)


def reads_a_convolution_pool(ecg: Ecg, nodes: Sequence[int]) -> bool:
    """Does an op of `nodes` read the result of a pooling of `nodes` that pools a dense
    convolution's element-wise chain? Such a pooling is kept for its convolution's
    kernel (step 6), which ends there: a pooling kernel takes no epilogue."""
    ops = {ecg.ops[i] for i in nodes}
    for op in ops:
        if isinstance(op, POOLING) and _pools_a_chain(op) and any(
                use.operation in ops for use in op.results[0].uses):
            return True
    return False


def _pools_a_chain(pool: Operation) -> bool:
    """Is `pool`'s input a dense f32 convolution's result, possibly through element-wise
    ops whose results (but the last) have one use?"""
    value, last = pool.operands[0], True
    while isinstance(value.owner, Operation) and _elementwise(value.owner):
        if not last and not value.has_one_use():
            return False
        value, last = value.owner.operands[0], False
    conv = value.owner
    if not isinstance(conv, nn.Conv2dOp) or not (last or value.has_one_use()):
        return False
    weight = conv.weight.type
    return isinstance(weight, TensorType) and isinstance(weight.encoding, NoneAttr) and \
        isinstance(weight.get_element_type(), Float32Type)


def prologue_also_used_outside(ecg: Ecg, nodes: Sequence[int]) -> bool:
    """Does a convolution of `nodes` read, directly or through element-wise ops of
    `nodes`, an element-wise value of `nodes` that has other users? [OURS] The
    convolution applies its prologue while packing its input and stores nothing of it,
    so such a value needs a kernel of its own: the group would be split."""
    ops = {ecg.ops[i] for i in nodes}
    for op in ops:
        if not isinstance(op, nn.Conv2dOp):
            continue
        value = op.operands[0]
        while value.owner in ops and _elementwise(value.owner):  # type: ignore[arg-type]
            if not value.has_one_use():
                return True
            value = value.owner.operands[0]  # type: ignore[union-attr]
    return False


def feeds_a_matrix_product(ecg: Ecg, nodes: Sequence[int]) -> bool:
    """Does an element-wise op of `nodes` compute an operand of an nn.linear / nn.matmul
    of `nodes`? [OURS] The GEMM kernel reads its operands in place (or packs B from
    memory) and applies no prologue, so such a group is always split by the code
    generator into the element-wise kernel and the product's: a group only in name.
    The element-wise op can instead join the producer before it as its epilogue
    (VGG-16's linear -> relu -> linear, BERT's linear -> gelu -> linear)."""
    ops = {ecg.ops[i] for i in nodes}
    return any(isinstance(op, nn.LinearOp | nn.MatmulOp) and any(
        v.owner in ops and _elementwise(v.owner) for v in op.operands)  # type: ignore[arg-type]
        for op in ops)


def _elementwise(op: Operation) -> bool:
    return isinstance(op, (*nn.UNARY_OPS, *nn.BINARY_OPS, nn.BatchNormOp))


@dataclass
class _Growth:
    """One round of Listing 1: the group grown from `seed`."""

    ecg: Ecg
    partition: _Partition
    budget: Budget
    oracle: CostOracle | None
    fused: list[bool]
    seed: int
    decisions: list[Decision]
    mapping: MappingType = field(init=False)

    def __post_init__(self) -> None:
        self.mapping = self.ecg.mapping[self.seed]
        self.fused[self.seed] = True

    @property
    def nodes(self) -> list[int]:
        return sorted(self.partition.members[self.seed])

    def run(self) -> None:
        for succ in self.ecg.succs[self.seed]:
            self.fuse_successor(succ)
        for pred in self.ecg.preds[self.seed]:
            self.fuse_predecessor(pred)

    def fuse_successor(self, node: int) -> None:
        if self.try_fuse(node, consumer=True):
            for succ in self.ecg.succs[node]:
                self.fuse_successor(succ)

    def fuse_predecessor(self, node: int) -> None:
        if self.try_fuse(node, consumer=False):
            for pred in self.ecg.preds[node]:
                self.fuse_predecessor(pred)

    def try_fuse(self, node: int, consumer: bool) -> bool:
        """Listing 1's mapping check, constraint check and profiling for one candidate."""
        ecg = self.ecg
        kind = ecg.mapping[node]
        if kind is None or self.fused[node]:
            return False
        cell = lookup(self.mapping, kind) if consumer else lookup(kind, self.mapping)
        merged = [*self.nodes, node]
        if pools_a_convolution(ecg, merged):
            if cell.colour is Colour.RED:
                cell = CONV_POOL
            outcome = self.judge(node, cell.colour)
        elif cell.colour is Colour.RED:
            outcome = Outcome.RED
        elif pools_a_convolution(ecg, self.nodes) or reads_a_convolution_pool(ecg, merged):
            outcome = Outcome.POOLED  # a convolution's pooling ends its group
        elif feeds_a_matrix_product(ecg, merged) or prologue_also_used_outside(ecg, merged):
            outcome = Outcome.PROLOGUE
        else:
            outcome = self.judge(node, cell.colour)
        self.decisions.append(Decision(ecg.ops[self.seed], ecg.ops[node], cell.colour,
                                       outcome))
        if outcome is not Outcome.FUSED:
            return False
        assert cell.fused is not None
        self.partition.merge(self.seed, node)
        self.fused[node] = True
        self.mapping = cell.fused
        return True

    def judge(self, node: int, colour: Colour) -> Outcome:
        if colour is Colour.RED:
            return Outcome.RED
        if not fits(self.ecg, [*self.nodes, node], self.budget):
            return Outcome.BUDGET
        if not self.partition.can_merge(self.seed, node):
            return Outcome.CYCLE
        if colour is Colour.YELLOW:
            return self.profile(node)
        return Outcome.FUSED

    def profile(self, node: int) -> Outcome:
        if self.oracle is None:
            return Outcome.YELLOW
        ops = self.ecg.ops
        group = [ops[i] for i in self.nodes]
        together = self.oracle.latency(sorted([*group, ops[node]], key=self.ecg.index))
        apart = self.oracle.latency(group) + self.oracle.latency([ops[node]])
        return Outcome.FUSED if together <= apart else Outcome.SLOWER


def plan_block(ecg: Ecg, budget: Budget = DEFAULT_BUDGET, oracle: CostOracle | None = None
               ) -> BlockPlan:
    """Listing 1 over one block: seeds, growth, groups. Reads the IR, never changes it."""
    partition = _Partition(ecg)
    fused = [False] * len(ecg.ops)
    decisions: list[Decision] = []
    seeds = sorted((i for i, kind in enumerate(ecg.mapping) if kind is MappingType.ONE_TO_ONE),
                   key=lambda i: (ecg.ir_bytes[i], i))
    growths: dict[int, _Growth] = {}
    for seed in seeds:
        if fused[seed]:
            continue
        growth = _Growth(ecg, partition, budget, oracle, fused, seed, decisions)
        growth.run()
        growths[seed] = growth
    _pool_convolutions(ecg, partition, budget, oracle, fused, decisions, growths)
    groups = [FusionGroup(tuple(ecg.ops[i] for i in growth.nodes), growth.mapping,
                          ecg.ops[seed])
              for seed, growth in growths.items() if len(growth.nodes) > 1]
    groups.sort(key=lambda g: ecg.index(g.ops[0]))
    return BlockPlan(ecg, tuple(groups), tuple(decisions))


def _pool_convolutions(ecg: Ecg, partition: _Partition, budget: Budget,
                       oracle: CostOracle | None, fused: list[bool],
                       decisions: list[Decision], growths: dict[int, _Growth]) -> None:
    """Step 6 [OURS]: a pooling still unfused after Listing 1 whose input a convolution
    produces directly (VGG's conv -> max_pool, once `algebraic` has moved the relu after
    the pool) is reached from no One-to-One seed. It is offered to its convolution's
    group, or to the convolution alone as a new group seeded there, with the same
    checks (`table.CONV_POOL`, budget, convexity)."""
    for node, op in enumerate(ecg.ops):
        if fused[node] or not isinstance(op, POOLING):
            continue
        producer = op.operands[0].owner
        if not isinstance(producer, nn.Conv2dOp) or producer not in ecg.positions:
            continue
        root = partition.group_of[ecg.index(producer)]
        growth = growths.get(root)
        if growth is None:
            if fused[root]:
                continue
            growth = _Growth(ecg, partition, budget, oracle, fused, root, decisions)
            if not growth.try_fuse(node, consumer=True):
                fused[root] = False
                continue
            growths[root] = growth
        else:
            growth.try_fuse(node, consumer=True)


def function_blocks(module: ModuleOp):
    """The blocks fusion works on: every block of every function, in order."""
    for op in module.walk():
        if isinstance(op, FuncOp):
            yield from op.body.blocks


def plan_module(module: ModuleOp, budget: Budget = DEFAULT_BUDGET,
                oracle: CostOracle | None = None) -> list[BlockPlan]:
    """One plan per function block of `module`."""
    return [plan_block(build_ecg(block), budget, oracle) for block in function_blocks(module)]
