"""The cost model that orders the rewrites: FLOPs first, then elements read.

DNNFusion (§4.2) ranks rewrites by #FLOPs alone and counts one FLOP per element for
every element-wise op, transcendental or not (Table 4: `Recip(A) ⊙ Recip(A⊙B)` is 4mn).
`paper_flops` is exactly that count. Two things the paper is silent on:

- Strength reductions trade one op kind for another: x/c -> x*(1/c) and pow(x, 2) -> x*x
  are free by the paper's count, and pow(x, 3) -> x*x*x even costs one more FLOP. So
  `Cost.flops` weighs an element-wise op by what it costs a CPU relative to a multiply
  (`WEIGHT`, rough reciprocal throughputs of vectorised float32 code: divide and square
  root about 4 multiplies, a libm-style exp/log/tanh about 8, pow about 16). Every other
  op keeps its own `flops()` (contractions, reductions, batch norm).
- Table 4's first rule saves no FLOPs at all; the paper applies it because A is loaded
  once instead of twice. `Cost.reads` counts that: the elements an op reads, each
  distinct operand once. It breaks FLOP ties, so a transpose pair that cancels, or
  a(b+1) instead of a + ab, still counts as a saving.

Costs compare lexicographically. The driver applies only rewrites whose saving is
positive, so every rewrite strictly lowers the module's total cost, and the greedy loop
terminates whatever the rules do.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from math import prod

from xdsl.dialects.builtin import TensorType
from xdsl.ir import Operation

from sparsec.dialects import nn

WEIGHT: dict[type[Operation], int] = {
    nn.DivOp: 4, nn.ReciprocalOp: 4, nn.SqrtOp: 4, nn.RsqrtOp: 4,
    nn.ExpOp: 8, nn.LogOp: 8, nn.TanhOp: 8, nn.SigmoidOp: 8, nn.ErfOp: 8, nn.GeluOp: 8,
    nn.SiluOp: 8,
    nn.PowOp: 16,
}
"""FLOP-equivalents per element of the element-wise ops dearer than a multiply."""


@dataclass(frozen=True, order=True)
class Cost:
    """What running some ops costs: weighted FLOPs, then tensor elements read."""

    flops: int = 0
    reads: int = 0

    def __add__(self, other: Cost) -> Cost:
        return Cost(self.flops + other.flops, self.reads + other.reads)

    def __sub__(self, other: Cost) -> Cost:
        return Cost(self.flops - other.flops, self.reads - other.reads)


ZERO = Cost()


def paper_flops(op: Operation) -> int:
    """DNNFusion's #FLOPs of one op (a multiply-add counts 2; constants are free)."""
    return op.flops() if isinstance(op, nn.NNOperation) else 0


def elements(type: object) -> int:
    return prod(type.get_shape()) if isinstance(type, TensorType) else 0


def op_cost(op: Operation) -> Cost:
    if not isinstance(op, nn.NNOperation) or isinstance(op, nn.ConstantOp):
        return ZERO
    distinct = {id(v): v for v in op.operands}.values()
    return Cost(paper_flops(op) * WEIGHT.get(type(op), 1),
                sum(elements(v.type) for v in distinct))


def total_cost(ops: Iterable[Operation]) -> Cost:
    total = ZERO
    for op in ops:
        total += op_cost(op)
    return total
