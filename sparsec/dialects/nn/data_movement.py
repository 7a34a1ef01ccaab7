"""Operators that move data without arithmetic: reshape, transpose, concat, slice, pad,
gather, expand, upsample. FLOPs are zero for all of them."""

from __future__ import annotations

from typing import ClassVar

from xdsl.dialects.builtin import DenseArrayBase, FloatAttr, IntegerAttr, IntegerType, TensorType
from xdsl.ir import SSAValue
from xdsl.irdl import (
    ParsePropInAttrDict,
    irdl_op_definition,
    operand_def,
    prop_def,
    result_def,
    traits_def,
    var_operand_def,
)
from xdsl.traits import Pure

from .base import (
    MappingType,
    NNOperation,
    fail,
    float_attr,
    int_attr,
    ints,
    normalize_axis,
    numel,
    shape_of,
    tensor,
    values_of,
)

_FORMAT = "operands attr-dict `:` functional-type(operands, results)"


class ShapedByResultOperation(NNOperation):
    """An op whose output shape is given by its declared result type."""

    input = operand_def(TensorType)
    result = result_def(TensorType)

    traits = traits_def(Pure())
    assembly_format = _FORMAT

    def __init__(self, input: SSAValue, shape):
        result = TensorType(tensor(input).get_element_type(), tuple(shape))
        super().__init__(operands=[input], result_types=[result])

    def check(self, x: tuple[int, ...], y: tuple[int, ...]) -> None:
        raise NotImplementedError

    def infer_result_type(self) -> TensorType:
        result = tensor(self.result)
        if result.get_element_type() != tensor(self.input).get_element_type():
            raise fail(self, f"element types differ: {tensor(self.input)} -> {result}")
        self.check(shape_of(self.input), shape_of(self.result))
        return result


@irdl_op_definition
class ReshapeOp(ShapedByResultOperation):
    """y = x with the result's shape, row-major order unchanged (also flatten, squeeze,
    unsqueeze, view)."""

    name = "nn.reshape"
    MAPPING: ClassVar[MappingType | None] = MappingType.REORGANIZE

    def check(self, x, y):
        if numel(x) != numel(y):
            raise fail(self, f"cannot reshape {x} ({numel(x)} elements) to {y} "
                             f"({numel(y)} elements)")


@irdl_op_definition
class ExpandOp(ShapedByResultOperation):
    """y = broadcast_to(x, result shape) (numpy rules; ONNX Expand)."""

    name = "nn.expand"
    MAPPING: ClassVar[MappingType | None] = MappingType.ONE_TO_MANY

    def check(self, x, y):
        ok = len(y) >= len(x) and all(a in (1, b) for a, b in zip(x[::-1], y[::-1], strict=False))
        if not ok:
            raise fail(self, f"cannot broadcast {x} to {y}")


@irdl_op_definition
class UpsampleNearestOp(ShapedByResultOperation):
    """Nearest-neighbour resize of NCHW to the result's H x W (PyTorch's "nearest"):
    y[n, c, i, j] = x[n, c, src(i, H, OH), src(j, W, OW)] with src(i, S, O) = i when O = S,
    i // 2 when O = 2S, else min(floor(f32(i) * f32(S / O)), S - 1) computed in float32,
    which is not always floor(i * S / O) (S = 2, O = 82, i = 41 gives 0, not 1)."""

    name = "nn.upsample_nearest"
    MAPPING: ClassVar[MappingType | None] = MappingType.ONE_TO_MANY

    def check(self, x, y):
        if len(x) != 4 or len(y) != 4 or x[:2] != y[:2]:
            raise fail(self, f"needs NCHW input and output with equal N and C, got {x} -> {y}")


@irdl_op_definition
class TransposeOp(NNOperation):
    """y[i_perm[0], ..., i_perm[n-1]] = x[i_0, ..., i_{n-1}], i.e. y = numpy.transpose(x, perm)."""

    name = "nn.transpose"
    MAPPING: ClassVar[MappingType | None] = MappingType.SHUFFLE

    input = operand_def(TensorType)
    result = result_def(TensorType)
    permutation = prop_def(DenseArrayBase)

    traits = traits_def(Pure())
    assembly_format = _FORMAT
    irdl_options = (ParsePropInAttrDict(),)

    def __init__(self, input: SSAValue, permutation):
        self._build([input], {"permutation": ints(permutation)})

    def infer_result_type(self) -> TensorType:
        x, perm = shape_of(self.input), values_of(self.permutation)
        if sorted(perm) != list(range(len(x))):
            raise fail(self, f"permutation {perm} is not a permutation of the {len(x)} dims "
                             f"of {x}")
        return TensorType(tensor(self.input).get_element_type(), [x[p] for p in perm])


@irdl_op_definition
class ConcatOp(NNOperation):
    """y = concatenation of the inputs along `axis` (Table 2: One-to-One)."""

    name = "nn.concat"
    MAPPING: ClassVar[MappingType | None] = MappingType.ONE_TO_ONE

    inputs = var_operand_def(TensorType)
    result = result_def(TensorType)
    axis = prop_def(IntegerAttr)

    traits = traits_def(Pure())
    assembly_format = _FORMAT
    irdl_options = (ParsePropInAttrDict(),)

    def __init__(self, inputs, axis: int):
        self._build([list(inputs)], {"axis": int_attr(axis)})

    def infer_result_type(self) -> TensorType:
        if not self.inputs:
            raise fail(self, "needs at least one input")
        shapes = [shape_of(v) for v in self.inputs]
        rank = len(shapes[0])
        axis = normalize_axis(self, self.axis.value.data, rank)
        element = tensor(self.inputs[0]).get_element_type()
        for s, v in zip(shapes, self.inputs, strict=True):
            if len(s) != rank or any(a != b for i, (a, b) in enumerate(zip(s, shapes[0], strict=True)) if i != axis):
                raise fail(self, f"input shapes {shapes} differ outside axis {axis}")
            if tensor(v).get_element_type() != element:
                raise fail(self, "inputs have different element types: "
                                 + ", ".join(str(tensor(w)) for w in self.inputs))
        out = list(shapes[0])
        out[axis] = sum(s[axis] for s in shapes)
        return TensorType(element, out)


@irdl_op_definition
class SliceOp(NNOperation):
    """y = x[start_0:end_0:step_0, ..., start_{n-1}:end_{n-1}:step_{n-1}], one triple per dim,
    0 <= start <= end <= size, step >= 1 (Table 2: One-to-One)."""

    name = "nn.slice"
    MAPPING: ClassVar[MappingType | None] = MappingType.ONE_TO_ONE

    input = operand_def(TensorType)
    result = result_def(TensorType)
    start = prop_def(DenseArrayBase)
    end = prop_def(DenseArrayBase)
    step = prop_def(DenseArrayBase)

    traits = traits_def(Pure())
    assembly_format = _FORMAT
    irdl_options = (ParsePropInAttrDict(),)

    def __init__(self, input: SSAValue, start, end, step=None):
        step = step or [1] * len(start)
        self._build([input], {"start": ints(start), "end": ints(end), "step": ints(step)})

    def infer_result_type(self) -> TensorType:
        x = shape_of(self.input)
        start, end, step = values_of(self.start), values_of(self.end), values_of(self.step)
        if not len(start) == len(end) == len(step) == len(x):
            raise fail(self, f"start, end and step need one value per dim of {x}")
        out = []
        for size, a, b, s in zip(x, start, end, step, strict=True):
            if not (0 <= a <= b <= size) or s < 1:
                raise fail(self, f"slice {a}:{b}:{s} is out of range for a dim of size {size}")
            out.append(-(-(b - a) // s))
        return TensorType(tensor(self.input).get_element_type(), out)


@irdl_op_definition
class PadOp(NNOperation):
    """Constant padding: y has x in the middle, `low[d]` cells before and `high[d]` after
    along each dim d, filled with `value`. Not in Table 2; each input element maps to one
    output element, so it is typed One-to-One, like Concat with a constant."""

    name = "nn.pad"
    MAPPING: ClassVar[MappingType | None] = MappingType.ONE_TO_ONE

    input = operand_def(TensorType)
    result = result_def(TensorType)
    low = prop_def(DenseArrayBase)
    high = prop_def(DenseArrayBase)
    value = prop_def(FloatAttr)

    traits = traits_def(Pure())
    assembly_format = _FORMAT
    irdl_options = (ParsePropInAttrDict(),)

    def __init__(self, input: SSAValue, low, high, value: float = 0.0):
        self._build([input], {"low": ints(low), "high": ints(high), "value": float_attr(value)})

    def infer_result_type(self) -> TensorType:
        x, low, high = shape_of(self.input), values_of(self.low), values_of(self.high)
        if len(low) != len(x) or len(high) != len(x) or min((*low, *high), default=0) < 0:
            raise fail(self, f"low and high need one non-negative value per dim of {x}")
        return TensorType(tensor(self.input).get_element_type(),
                          [d + a + b for d, a, b in zip(x, low, high, strict=True)])


@irdl_op_definition
class GatherOp(NNOperation):
    """y = numpy.take(table, indices, axis): y[a..., i..., b...] = table[a..., indices[i...], b...]
    (embedding is axis 0). Indices are integers in [0, table.shape[axis]).
    Table 2: Gather is One-to-Many."""

    name = "nn.gather"
    MAPPING: ClassVar[MappingType | None] = MappingType.ONE_TO_MANY

    table = operand_def(TensorType)
    indices = operand_def(TensorType)
    result = result_def(TensorType)
    axis = prop_def(IntegerAttr)

    traits = traits_def(Pure())
    assembly_format = _FORMAT
    irdl_options = (ParsePropInAttrDict(),)

    def __init__(self, table: SSAValue, indices: SSAValue, axis: int = 0):
        self._build([table, indices], {"axis": int_attr(axis)})

    def infer_result_type(self) -> TensorType:
        t, i = shape_of(self.table), shape_of(self.indices)
        axis = normalize_axis(self, self.axis.value.data, len(t))
        if not isinstance(tensor(self.indices).get_element_type(), IntegerType):
            raise fail(self, f"indices must be integers, got {tensor(self.indices)}")
        return TensorType(tensor(self.table).get_element_type(), (*t[:axis], *i, *t[axis + 1:]))

