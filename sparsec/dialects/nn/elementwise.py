"""Element-wise operators: unary maps and binary maps with numpy broadcasting.

FLOPs: one per output element for every element-wise op, transcendental or not. This is
DNNFusion Table 4's convention (Recip(A) ⊙ Recip(A⊙B) costs 4mn).
"""

from __future__ import annotations

from typing import ClassVar

from xdsl.dialects.builtin import FloatAttr, StringAttr, TensorType
from xdsl.ir import Attribute, SSAValue
from xdsl.irdl import (
    ParsePropInAttrDict,
    irdl_op_definition,
    operand_def,
    prop_def,
    result_def,
    traits_def,
)
from xdsl.traits import Pure

from .base import (
    Algebra,
    MappingType,
    NNOperation,
    broadcast_shapes,
    fail,
    float_attr,
    numel,
    shape_of,
    tensor,
)

_FORMAT = "operands attr-dict `:` functional-type(operands, results)"


class UnaryOperation(NNOperation):
    """y[i] = f(x[i])."""

    MAPPING: ClassVar[MappingType | None] = MappingType.ONE_TO_ONE

    input = operand_def(TensorType)
    result = result_def(TensorType)

    traits = traits_def(Pure())
    assembly_format = _FORMAT
    irdl_options = (ParsePropInAttrDict(),)

    def __init__(self, input: SSAValue, **properties: Attribute):
        self._build([input], properties)

    def infer_result_type(self) -> TensorType:
        return tensor(self.input)

    def flops(self) -> int:
        return numel(shape_of(self.result))


@irdl_op_definition
class ReluOp(UnaryOperation):
    """y = max(x, 0)"""

    name = "nn.relu"


@irdl_op_definition
class ClampOp(UnaryOperation):
    """y = min(max(x, min), max); relu6 is clamp(0, 6). Bounds may be ±inf."""

    name = "nn.clamp"
    min = prop_def(FloatAttr)
    max = prop_def(FloatAttr)

    def __init__(self, input: SSAValue, min: float, max: float):
        super().__init__(input, min=float_attr(min), max=float_attr(max))

    def verify_(self) -> None:
        super().verify_()
        if self.min.value.data > self.max.value.data:
            raise fail(self, f"min {self.min.value.data} is greater than max "
                             f"{self.max.value.data}")


@irdl_op_definition
class SigmoidOp(UnaryOperation):
    """y = 1 / (1 + exp(-x))"""

    name = "nn.sigmoid"


@irdl_op_definition
class TanhOp(UnaryOperation):
    """y = tanh(x)"""

    name = "nn.tanh"


@irdl_op_definition
class GeluOp(UnaryOperation):
    """y = x * Φ(x) (approximate = "none"), or the tanh form
    0.5 x (1 + tanh(sqrt(2/π) (x + 0.044715 x³))) (approximate = "tanh"), as in PyTorch."""

    name = "nn.gelu"
    approximate = prop_def(StringAttr)

    def __init__(self, input: SSAValue, approximate: str = "none"):
        super().__init__(input, approximate=StringAttr(approximate))

    def verify_(self) -> None:
        super().verify_()
        if self.approximate.data not in ("none", "tanh"):
            raise fail(self, f"approximate must be \"none\" or \"tanh\", "
                             f"got \"{self.approximate.data}\"")


@irdl_op_definition
class SiluOp(UnaryOperation):
    """y = x * sigmoid(x)"""

    name = "nn.silu"


@irdl_op_definition
class HardswishOp(UnaryOperation):
    """y = x * clamp(x + 3, 0, 6) / 6"""

    name = "nn.hardswish"


@irdl_op_definition
class HardsigmoidOp(UnaryOperation):
    """y = clamp(x + 3, 0, 6) / 6"""

    name = "nn.hardsigmoid"


@irdl_op_definition
class ExpOp(UnaryOperation):
    """y = exp(x)"""

    name = "nn.exp"


@irdl_op_definition
class LogOp(UnaryOperation):
    """y = ln(x)"""

    name = "nn.log"


@irdl_op_definition
class SqrtOp(UnaryOperation):
    """y = sqrt(x)"""

    name = "nn.sqrt"


@irdl_op_definition
class RsqrtOp(UnaryOperation):
    """y = 1 / sqrt(x)"""

    name = "nn.rsqrt"


@irdl_op_definition
class ReciprocalOp(UnaryOperation):
    """y = 1 / x"""

    name = "nn.reciprocal"


@irdl_op_definition
class NegOp(UnaryOperation):
    """y = -x"""

    name = "nn.neg"


@irdl_op_definition
class AbsOp(UnaryOperation):
    """y = |x|"""

    name = "nn.abs"


@irdl_op_definition
class ErfOp(UnaryOperation):
    """y = erf(x)"""

    name = "nn.erf"


class BinaryOperation(NNOperation):
    """y[i] = f(lhs[i'], rhs[i'']) with numpy broadcasting.

    Mapping type (Table 2): One-to-One when both operands have the result's shape;
    "elementwise with broadcast" is One-to-Many.
    """

    lhs = operand_def(TensorType)
    rhs = operand_def(TensorType)
    result = result_def(TensorType)

    traits = traits_def(Pure())
    assembly_format = _FORMAT

    ALGEBRA: ClassVar[Algebra] = Algebra.NONE

    def __init__(self, lhs: SSAValue, rhs: SSAValue):
        self._build([lhs, rhs])

    def mapping_type(self) -> MappingType:
        out = shape_of(self.result)
        if shape_of(self.lhs) == out and shape_of(self.rhs) == out:
            return MappingType.ONE_TO_ONE
        return MappingType.ONE_TO_MANY

    def infer_result_type(self) -> TensorType:
        lhs, rhs = tensor(self.lhs), tensor(self.rhs)
        if lhs.get_element_type() != rhs.get_element_type():
            raise fail(self, f"element types differ: {lhs} and {rhs}")
        shape = broadcast_shapes(self, lhs.get_shape(), rhs.get_shape())
        return TensorType(lhs.get_element_type(), shape)

    def flops(self) -> int:
        return numel(shape_of(self.result))


@irdl_op_definition
class AddOp(BinaryOperation):
    """y = lhs + rhs"""

    name = "nn.add"
    ALGEBRA: ClassVar[Algebra] = Algebra.COMMUTATIVE | Algebra.ASSOCIATIVE


@irdl_op_definition
class SubOp(BinaryOperation):
    """y = lhs - rhs"""

    name = "nn.sub"


@irdl_op_definition
class MulOp(BinaryOperation):
    """y = lhs * rhs"""

    name = "nn.mul"
    ALGEBRA: ClassVar[Algebra] = Algebra.COMMUTATIVE | Algebra.ASSOCIATIVE
    DISTRIBUTES_OVER: ClassVar[tuple[str, ...]] = ("nn.add", "nn.sub")


@irdl_op_definition
class DivOp(BinaryOperation):
    """y = lhs / rhs"""

    name = "nn.div"
    # (a + b) / c = a/c + b/c: division distributes over add/sub from the right only.
    DISTRIBUTES_OVER: ClassVar[tuple[str, ...]] = ("nn.add", "nn.sub")


@irdl_op_definition
class MaxOp(BinaryOperation):
    """y = max(lhs, rhs)"""

    name = "nn.max"
    ALGEBRA: ClassVar[Algebra] = Algebra.COMMUTATIVE | Algebra.ASSOCIATIVE


@irdl_op_definition
class MinOp(BinaryOperation):
    """y = min(lhs, rhs)"""

    name = "nn.min"
    ALGEBRA: ClassVar[Algebra] = Algebra.COMMUTATIVE | Algebra.ASSOCIATIVE


@irdl_op_definition
class PowOp(BinaryOperation):
    """y = lhs ** rhs"""

    name = "nn.pow"


UNARY_OPS = (
    ReluOp, ClampOp, SigmoidOp, TanhOp, GeluOp, SiluOp, HardswishOp, HardsigmoidOp, ExpOp,
    LogOp, SqrtOp, RsqrtOp, ReciprocalOp, NegOp, AbsOp, ErfOp,
)
BINARY_OPS = (AddOp, SubOp, MulOp, DivOp, MaxOp, MinOp, PowOp)
