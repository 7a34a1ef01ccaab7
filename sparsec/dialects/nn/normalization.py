"""Normalisations and softmax."""

from __future__ import annotations

from typing import ClassVar

from xdsl.dialects.builtin import FloatAttr, IntegerAttr, TensorType
from xdsl.ir import SSAValue
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
    MappingType,
    NNOperation,
    check_element_types,
    fail,
    float_attr,
    int_attr,
    normalize_axis,
    numel,
    shape_of,
    tensor,
)

_FORMAT = "operands attr-dict `:` functional-type(operands, results)"


@irdl_op_definition
class BatchNormOp(NNOperation):
    """Inference batch normalisation over channel axis 1:

        y[n, c, ...] = (x[n, c, ...] - mean[c]) / sqrt(var[c] + epsilon) * scale[c] + bias[c]

    Table 2 lists BatchNormalization as One-to-One (the statistics are constants).
    """

    name = "nn.batch_norm"
    MAPPING: ClassVar[MappingType | None] = MappingType.ONE_TO_ONE

    input = operand_def(TensorType)
    scale = operand_def(TensorType)
    bias = operand_def(TensorType)
    mean = operand_def(TensorType)
    var = operand_def(TensorType)
    result = result_def(TensorType)
    epsilon = prop_def(FloatAttr)

    traits = traits_def(Pure())
    assembly_format = _FORMAT
    irdl_options = (ParsePropInAttrDict(),)

    def __init__(self, input: SSAValue, scale: SSAValue, bias: SSAValue, mean: SSAValue,
                 var: SSAValue, epsilon: float = 1e-5):
        self._build([input, scale, bias, mean, var], {"epsilon": float_attr(epsilon)})

    def infer_result_type(self) -> TensorType:
        x = shape_of(self.input)
        if len(x) < 2:
            raise fail(self, f"input must have rank >= 2 (N, C, ...), got {x}")
        for name in ("scale", "bias", "mean", "var"):
            if shape_of(getattr(self, name)) != (x[1],):
                raise fail(self, f"{name} shape {shape_of(getattr(self, name))} must be "
                                 f"({x[1]},) for input {x}")
        check_element_types(self, self.operands)
        return tensor(self.input)

    def flops(self) -> int:
        return 2 * numel(shape_of(self.result))  # one multiply-add per element, folded


@irdl_op_definition
class LayerNormOp(NNOperation):
    """Normalise over the trailing dims that `weight` spans (torch layer_norm):

        y = (x - mean(x)) / sqrt(var(x) + epsilon) * weight + bias

    with biased variance over those dims.
    """

    name = "nn.layer_norm"
    MAPPING: ClassVar[MappingType | None] = MappingType.MANY_TO_MANY

    input = operand_def(TensorType)
    weight = operand_def(TensorType)
    bias = operand_def(TensorType)
    result = result_def(TensorType)
    epsilon = prop_def(FloatAttr)

    traits = traits_def(Pure())
    assembly_format = _FORMAT
    irdl_options = (ParsePropInAttrDict(),)

    def __init__(self, input: SSAValue, weight: SSAValue, bias: SSAValue,
                 epsilon: float = 1e-5):
        self._build([input, weight, bias], {"epsilon": float_attr(epsilon)})

    def infer_result_type(self) -> TensorType:
        x, w, b = shape_of(self.input), shape_of(self.weight), shape_of(self.bias)
        if not w or w != b or tuple(x[len(x) - len(w):]) != w or len(w) > len(x):
            raise fail(self, f"weight {w} and bias {b} must equal the trailing dims of "
                             f"the input {x}")
        check_element_types(self, self.operands)
        return tensor(self.input)

    def flops(self) -> int:
        return 8 * numel(shape_of(self.result))  # mean, var (2), normalise (3), affine (2)


@irdl_op_definition
class SoftmaxOp(NNOperation):
    """y = exp(x - max(x)) / Σ exp(x - max(x)) along `axis`."""

    name = "nn.softmax"
    MAPPING: ClassVar[MappingType | None] = MappingType.MANY_TO_MANY

    input = operand_def(TensorType)
    result = result_def(TensorType)
    axis = prop_def(IntegerAttr)

    traits = traits_def(Pure())
    assembly_format = _FORMAT
    irdl_options = (ParsePropInAttrDict(),)

    def __init__(self, input: SSAValue, axis: int = -1):
        self._build([input], {"axis": int_attr(axis)})

    def infer_result_type(self) -> TensorType:
        normalize_axis(self, self.axis.value.data, len(shape_of(self.input)))
        return tensor(self.input)

    def flops(self) -> int:
        return 4 * numel(shape_of(self.result))  # max, sub+exp, sum, div
