"""`nn.constant`: a tensor literal, weights included.

Custom syntax, like MLIR's arith.constant (`attr-dict $value`):

    %w = nn.constant dense_resource<conv1.weight> : tensor<64x3x7x7xf32>
    %c = nn.constant dense<1.000000e+00> : tensor<f32>
    %s = nn.constant {tag = "scale"} dense<2.000000e+00> : tensor<f32>
"""

from __future__ import annotations

import numpy as np
from xdsl.dialects.builtin import (
    DenseIntOrFPElementsAttr,
    DenseResourceAttr,
    TensorType,
)
from xdsl.ir import Attribute
from xdsl.irdl import irdl_op_definition, prop_def, result_def, traits_def
from xdsl.parser import Parser
from xdsl.printer import Printer
from xdsl.traits import ConstantLike, Pure

from ..resources import ArrayResourceAttr, array_of, dense_elements_of
from .base import NNOperation, fail, numel

ConstantValue = ArrayResourceAttr | DenseResourceAttr | DenseIntOrFPElementsAttr

# Arrays up to this many elements are printed inline as dense<...>; larger ones become
# dense_resource blobs in the trailer.
INLINE_LIMIT = 16


@irdl_op_definition
class ConstantOp(NNOperation):
    """y = value. Not an operator in DNNFusion's sense: it has no mapping type."""

    name = "nn.constant"

    value = prop_def(ConstantValue)
    result = result_def(TensorType)

    traits = traits_def(Pure(), ConstantLike())

    def __init__(self, value: Attribute):
        super().__init__(properties={"value": value}, result_types=[value.get_type()])

    @staticmethod
    def from_array(array: np.ndarray, key: str) -> ConstantOp:
        """A constant holding `array`: inline when small, else a resource named `key`
        (keys must be unique within a module)."""
        array = np.asarray(array)
        if array.size <= INLINE_LIMIT:
            return ConstantOp(dense_elements_of(array))
        return ConstantOp(ArrayResourceAttr.from_array(key, array))

    @property
    def array(self) -> np.ndarray:
        return array_of(self.value)

    def infer_result_type(self) -> TensorType:
        value_type = self.value.get_type()
        if value_type != self.result.type:
            raise fail(self, f"value type {value_type} does not match result type "
                             f"{self.result.type}")
        return value_type

    def print(self, printer: Printer) -> None:
        printer.print_op_attributes(self.attributes)
        printer.print_string(" ")
        printer.print_attribute(self.value)

    @classmethod
    def parse(cls, parser: Parser) -> ConstantOp:
        attributes = parser.parse_optional_attr_dict()
        start = parser.pos
        value = parser.parse_attribute()
        if not isinstance(value, DenseIntOrFPElementsAttr | DenseResourceAttr):
            parser.raise_error(f"nn.constant expects dense<...> or dense_resource<...>, "
                               f"got {value}", start)
        op = cls(value)
        op.attributes.update(attributes)
        return op

    def flops(self) -> int:
        return 0

    def size(self) -> int:
        return numel(self.value.get_type().get_shape())
