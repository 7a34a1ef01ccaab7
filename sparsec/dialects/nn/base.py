"""What every nn operator knows about itself: DNNFusion mapping type, algebraic
properties, FLOPs, and the shape rule its verifier checks.

Mapping types follow DNNFusion §3.1 / Table 2 (see shared/reference/papers.md §1.2):
an operator is classified by how each output element's index maps to the input elements
it reads.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from math import prod
from typing import ClassVar

from xdsl.dialects.builtin import (
    DenseArrayBase,
    FloatAttr,
    IntegerAttr,
    TensorType,
    f64,
    i64,
)
from xdsl.ir import Attribute, SSAValue
from xdsl.irdl import IRDLOperation
from xdsl.utils.exceptions import VerifyException


class MappingType(enum.Enum):
    """DNNFusion's five operator mapping types (Table 2)."""

    ONE_TO_ONE = "one-to-one"
    ONE_TO_MANY = "one-to-many"
    MANY_TO_MANY = "many-to-many"
    REORGANIZE = "reorganize"
    SHUFFLE = "shuffle"

    @property
    def complexity(self) -> int:
        """Footnote 1's order, used to type an operator whose inputs map differently:
        One-to-One < Reorganize < Shuffle < One-to-Many < Many-to-Many.
        (Fusion uses a different order, kept with the fusion table.)"""
        return _COMPLEXITY[self]


_COMPLEXITY = {
    MappingType.ONE_TO_ONE: 0,
    MappingType.REORGANIZE: 1,
    MappingType.SHUFFLE: 2,
    MappingType.ONE_TO_MANY: 3,
    MappingType.MANY_TO_MANY: 4,
}


class Algebra(enum.Flag):
    """Mathematical properties DNNFusion's graph rewriting relies on (§4.2)."""

    NONE = 0
    COMMUTATIVE = enum.auto()
    ASSOCIATIVE = enum.auto()


class NNOperation(IRDLOperation):
    """Base of every nn operator.

    Subclasses set `MAPPING` (or override `mapping_type` when it depends on shapes),
    `ALGEBRA`, `DISTRIBUTES_OVER` (names of ops this one distributes over:
    f(a + b) = f(a) + f(b) for the linear ones, a * (b + c) = a*b + a*c for mul), and
    implement `infer_result_type` (the verifier compares it with the declared result type)
    and `flops`.
    """

    MAPPING: ClassVar[MappingType | None] = None
    ALGEBRA: ClassVar[Algebra] = Algebra.NONE
    DISTRIBUTES_OVER: ClassVar[tuple[str, ...]] = ()

    def mapping_type(self) -> MappingType | None:
        return self.MAPPING

    def infer_result_type(self) -> TensorType:
        raise NotImplementedError(f"{self.name} does not infer its result type")

    def flops(self) -> int:
        """Floating-point operations, counting a multiply-add as 2 (the papers' convention)."""
        return 0

    def _build(self, operands: Sequence, properties: dict[str, Attribute] | None = None,
               regions: Sequence = ()) -> None:
        """Builders' common tail: construct, then set the result type that
        `infer_result_type` computes, so builders and the verifier share one shape rule."""
        flat = [o for o in operands if isinstance(o, SSAValue)]
        placeholder = flat[0].type if flat else TensorType(f64, ())
        super().__init__(operands=operands, properties=properties or {},
                         result_types=[placeholder], regions=regions)
        self.results[0]._type = self.infer_result_type()

    def verify_(self) -> None:
        # (that operands are tensors, the operand definitions check before this runs)
        for value in (*self.operands, *self.results):
            if isinstance(value.type, TensorType) and not value.type.has_static_shape():
                raise VerifyException(f"{self.name}: operands and results must have static "
                                      f"shapes, got {value.type}")
        expected = self.infer_result_type()
        actual = self.results[0].type
        if actual != expected:
            raise VerifyException(f"{self.name}: result type {actual} does not match "
                                  f"the inferred type {expected}")


# --- helpers shared by the op definitions -----------------------------------------------


def tensor(value: SSAValue | Attribute) -> TensorType:
    t = value.type if isinstance(value, SSAValue) else value
    assert isinstance(t, TensorType), t
    return t


def shape_of(value: SSAValue) -> tuple[int, ...]:
    return tuple(tensor(value).get_shape())


def numel(shape: Sequence[int]) -> int:
    return prod(shape)


def ints(values: Sequence[int]) -> DenseArrayBase:
    return DenseArrayBase.from_list(i64, [int(v) for v in values])


def int_attr(value: int) -> IntegerAttr:
    return IntegerAttr(int(value), i64)


def float_attr(value: float) -> FloatAttr:
    return FloatAttr(float(value), f64)


def values_of(attr: DenseArrayBase) -> tuple[int, ...]:
    return tuple(int(v) for v in attr.get_values())


def fail(op: IRDLOperation, message: str) -> VerifyException:
    return VerifyException(f"{op.name}: {message}")


def check_element_types(op: IRDLOperation, values: Sequence[SSAValue]) -> None:
    """All `values` must have one element type (no implicit casts between operands)."""
    types = [tensor(v) for v in values]
    if len({t.get_element_type() for t in types}) > 1:
        raise fail(op, "element types differ: " + " and ".join(str(t) for t in types))


def normalize_axis(op: IRDLOperation, axis: int, rank: int) -> int:
    if not -rank <= axis < rank:
        raise fail(op, f"axis {axis} is out of range for rank {rank}")
    return axis % rank


def broadcast_shapes(op: IRDLOperation, *shapes: Sequence[int]) -> tuple[int, ...]:
    """numpy broadcasting: align trailing dims; each pair equal or one of them 1."""
    rank = max(len(s) for s in shapes)
    out = []
    for i in range(rank):
        dims = {s[len(s) - rank + i] for s in shapes if len(s) - rank + i >= 0}
        dims.discard(1)
        if len(dims) > 1:
            shown = " and ".join("x".join(map(str, s)) or "scalar" for s in shapes)
            raise fail(op, f"shapes {shown} do not broadcast")
        out.append(dims.pop() if dims else 1)
    return tuple(out)
