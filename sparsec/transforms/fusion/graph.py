"""The extended computational graph (DNNFusion §3, ECG) of one block: pure analysis.

Nodes are every operation of the block, in block order; node i is `ecg.ops[i]`. Edges
are data dependences (including uses inside an op's nested regions) plus program-order
edges between operations with side effects, so any schedule of the graph is a legal
order of the block. Only nn operators are fusable: constants (weights, DNNFusion's
"model inputs"), `nn.fused` groups and every other dialect's ops are fusion barriers.

Mapping types come from the dialect (`op.mapping_type()`, Table 2) with one refinement
for fusion [OURS]: an element-wise binary op broadcasts *weights* without being
One-to-Many. Table 2 makes "elementwise with broadcast" One-to-Many because an input
element feeds many output elements; when that input is a constant (a bias, the 2.0 of
`pow(x, 2.0)`, an epsilon) there is no producer to fuse on that side, and the edge that
fusion does cross maps One-to-One. The ECG distinguishes weights from intermediate
results for this reason. Without the refinement `conv -> add(bias)` would be a yellow
cell and the paper's own TinyBERT group Sub+Pow+ReduceMean+Add+Sqrt (which TVM cannot
fuse and DNNFusion does) would be red at Pow -> ReduceMean.
"""

from __future__ import annotations

from dataclasses import dataclass

from xdsl.dialects.builtin import TensorType
from xdsl.ir import Block, Operation, SSAValue
from xdsl.traits import Pure

from sparsec.dialects.nn import BINARY_OPS, ConstantOp, FusedOp, MappingType, NNOperation
from sparsec.dialects.nn.constant import INLINE_LIMIT
from sparsec.transforms.classify import result_bytes


def inlined_constant(value: SSAValue) -> ConstantOp | None:
    """The constant that outlining clones into a group's region, if `value` is one.

    Small constants (at most `INLINE_LIMIT` elements: the ones MLIR text prints inline,
    scalars, biases of small layers) are cloned so the group's code sees their values
    (an exponent of 2.0, an epsilon); larger weights become inputs of `nn.fused`, so a
    weight shared by several groups is stored once."""
    owner = value.owner
    if not isinstance(owner, ConstantOp):
        return None
    shape = owner.result.type.get_shape()
    count = 1
    for dim in shape:
        count *= dim
    return owner if count <= INLINE_LIMIT else None


def is_weight(value: SSAValue) -> bool:
    return isinstance(value.owner, ConstantOp)


def fusion_mapping(op: Operation) -> MappingType | None:
    """The mapping type fusion uses for `op`, or None when `op` never fuses.

    The dialect's type, except that a binary element-wise op is typed by its non-constant
    operands only (see the module docstring)."""
    if not isinstance(op, NNOperation) or isinstance(op, ConstantOp | FusedOp):
        return None
    if isinstance(op, BINARY_OPS):
        activations = [v for v in op.operands if not is_weight(v)]
        if activations:
            shape = op.results[0].type.get_shape()
            same = all(v.type.get_shape() == shape for v in activations)
            return MappingType.ONE_TO_ONE if same else MappingType.ONE_TO_MANY
    return op.mapping_type()


def _used_values(op: Operation) -> list[SSAValue]:
    """Operands of `op` and of every op nested in its regions, in walk order."""
    return [v for inner in op.walk() for v in inner.operands]


@dataclass(frozen=True)
class Ecg:
    """One block's extended computational graph."""

    block: Block
    ops: tuple[Operation, ...]
    preds: tuple[tuple[int, ...], ...]
    """Producers of node i, in operand order, without repeats."""
    succs: tuple[tuple[int, ...], ...]
    """Consumers of node i, in block order."""
    mapping: tuple[MappingType | None, ...]
    """Fusion mapping type of node i; None for a barrier."""
    ir_bytes: tuple[int, ...]
    """Bytes of node i's results (Listing 1's IRS_size)."""
    positions: dict[Operation, int]
    """Node index of each op."""

    def index(self, op: Operation) -> int:
        return self.positions[op]

    def fusable(self, i: int) -> bool:
        return self.mapping[i] is not None


def build_ecg(block: Block) -> Ecg:
    """Analyse `block` (no mutation)."""
    ops = tuple(block.ops)
    index = {op: i for i, op in enumerate(ops)}
    preds: list[list[int]] = [[] for _ in ops]
    succs: list[set[int]] = [set() for _ in ops]

    def add_edge(src: int, dst: int) -> None:
        if src != dst and src not in preds[dst]:
            preds[dst].append(src)
            succs[src].add(dst)

    last_effect: int | None = None
    for i, op in enumerate(ops):
        for value in _used_values(op):
            producer = index.get(value.owner) if isinstance(value.owner, Operation) else None
            if producer is not None:
                add_edge(producer, i)
        if not op.has_trait(Pure):  # keep side-effecting ops (and the terminator) in order
            if last_effect is not None:
                add_edge(last_effect, i)
            last_effect = i
    mapping = tuple(fusion_mapping(op) for op in ops)
    ir_bytes = tuple(sum(result_bytes(r.type) for r in op.results
                         if isinstance(r.type, TensorType)) for op in ops)
    return Ecg(block, ops, tuple(tuple(p) for p in preds),
               tuple(tuple(sorted(s)) for s in succs), mapping, ir_bytes, index)
