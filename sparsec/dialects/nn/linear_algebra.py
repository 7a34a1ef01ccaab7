"""Convolution and matrix products: the Many-to-Many operators that carry most FLOPs."""

from __future__ import annotations

from typing import ClassVar

from xdsl.dialects.builtin import DenseArrayBase, IntegerAttr, TensorType
from xdsl.ir import SSAValue
from xdsl.irdl import (
    ParsePropInAttrDict,
    irdl_op_definition,
    operand_def,
    opt_operand_def,
    prop_def,
    result_def,
    traits_def,
)
from xdsl.traits import Pure

from .base import (
    MappingType,
    NNOperation,
    broadcast_shapes,
    check_element_types,
    fail,
    int_attr,
    ints,
    numel,
    shape_of,
    tensor,
    values_of,
)

_FORMAT = "operands attr-dict `:` functional-type(operands, results)"


def conv_output_size(size: int, kernel: int, stride: int, pad_lo: int, pad_hi: int,
                     dilation: int) -> int:
    """floor((size + pads - dilation * (kernel - 1) - 1) / stride) + 1"""
    return (size + pad_lo + pad_hi - dilation * (kernel - 1) - 1) // stride + 1


@irdl_op_definition
class Conv2dOp(NNOperation):
    """2-D convolution, NCHW input, weight [Cout, Cin/groups, KH, KW], optional bias [Cout]:

        y[n, co, oh, ow] = bias[co] + Σ_{ci, kh, kw} x[n, g*Cin/groups + ci,
                             oh*sh - pt + kh*dh, ow*sw - pl + kw*dw] * w[co, ci, kh, kw]

    with g = co // (Cout/groups), zero padding `padding` = [top, left, bottom, right].
    Depthwise convolution is groups = Cin = Cout.
    """

    name = "nn.conv2d"
    MAPPING: ClassVar[MappingType | None] = MappingType.MANY_TO_MANY
    DISTRIBUTES_OVER: ClassVar[tuple[str, ...]] = ("nn.add", "nn.sub")  # linear in x

    input = operand_def(TensorType)
    weight = operand_def(TensorType)
    bias = opt_operand_def(TensorType)
    result = result_def(TensorType)

    stride = prop_def(DenseArrayBase)
    padding = prop_def(DenseArrayBase)
    dilation = prop_def(DenseArrayBase)
    groups = prop_def(IntegerAttr)

    traits = traits_def(Pure())
    assembly_format = _FORMAT
    irdl_options = (ParsePropInAttrDict(),)

    def __init__(self, input: SSAValue, weight: SSAValue, bias: SSAValue | None = None, *,
                 stride=(1, 1), padding=(0, 0, 0, 0), dilation=(1, 1), groups: int = 1):
        if len(padding) == 2:
            padding = (padding[0], padding[1], padding[0], padding[1])
        properties = {"stride": ints(stride), "padding": ints(padding),
                      "dilation": ints(dilation), "groups": int_attr(groups)}
        self._build([input, weight, [] if bias is None else [bias]], properties)

    def infer_result_type(self) -> TensorType:
        x, w = shape_of(self.input), shape_of(self.weight)
        stride, padding = values_of(self.stride), values_of(self.padding)
        dilation, groups = values_of(self.dilation), self.groups.value.data
        if len(x) != 4 or len(w) != 4:
            raise fail(self, f"input and weight must be 4-D (NCHW, OIHW), got {x} and {w}")
        if len(stride) != 2 or len(dilation) != 2 or len(padding) != 4:
            raise fail(self, "stride and dilation take 2 values, padding takes 4 "
                             f"(top, left, bottom, right), got stride {stride}, "
                             f"dilation {dilation}, padding {padding}")
        if min(stride) < 1 or min(dilation) < 1 or min(padding) < 0 or groups < 1:
            raise fail(self, f"stride {stride} and dilation {dilation} must be positive, "
                             f"padding {padding} non-negative, groups {groups} positive")
        check_element_types(self, self.operands)
        n, cin, h, wd = x
        cout, cin_g, kh, kw = w
        if cin % groups or cout % groups or cin // groups != cin_g:
            raise fail(self, f"input channels {cin} and weight {w} do not fit groups={groups}"
                             f" (weight dim 1 must be {cin}/{groups})")
        if self.bias is not None and shape_of(self.bias) != (cout,):
            raise fail(self, f"bias shape {shape_of(self.bias)} must be ({cout},)")
        oh = conv_output_size(h, kh, stride[0], padding[0], padding[2], dilation[0])
        ow = conv_output_size(wd, kw, stride[1], padding[1], padding[3], dilation[1])
        if oh < 1 or ow < 1:
            raise fail(self, f"kernel {kh}x{kw} does not fit the padded input {h}x{wd}")
        return TensorType(tensor(self.input).get_element_type(), (n, cout, oh, ow))

    def flops(self) -> int:
        _, cin_g, kh, kw = shape_of(self.weight)
        out = numel(shape_of(self.result))
        return 2 * out * cin_g * kh * kw + (out if self.bias is not None else 0)


@irdl_op_definition
class MatmulOp(NNOperation):
    """y[..., i, j] = Σ_k a[..., i, k] * b[..., k, j], batch dims broadcast (numpy matmul,
    both operands of rank >= 2)."""

    name = "nn.matmul"
    MAPPING: ClassVar[MappingType | None] = MappingType.MANY_TO_MANY
    DISTRIBUTES_OVER: ClassVar[tuple[str, ...]] = ("nn.add", "nn.sub")

    lhs = operand_def(TensorType)
    rhs = operand_def(TensorType)
    result = result_def(TensorType)

    traits = traits_def(Pure())
    assembly_format = _FORMAT

    def __init__(self, lhs: SSAValue, rhs: SSAValue):
        self._build([lhs, rhs])

    def infer_result_type(self) -> TensorType:
        a, b = shape_of(self.lhs), shape_of(self.rhs)
        if len(a) < 2 or len(b) < 2:
            raise fail(self, f"operands must have rank >= 2, got {a} and {b}")
        if a[-1] != b[-2]:
            raise fail(self, f"contraction dims differ: {a} @ {b}")
        check_element_types(self, self.operands)
        batch = broadcast_shapes(self, a[:-2], b[:-2])
        return TensorType(tensor(self.lhs).get_element_type(), (*batch, a[-2], b[-1]))

    def flops(self) -> int:
        return 2 * numel(shape_of(self.result)) * shape_of(self.lhs)[-1]


@irdl_op_definition
class LinearOp(NNOperation):
    """y[..., o] = bias[o] + Σ_i x[..., i] * w[o, i]  (torch.nn.functional.linear)."""

    name = "nn.linear"
    MAPPING: ClassVar[MappingType | None] = MappingType.MANY_TO_MANY
    DISTRIBUTES_OVER: ClassVar[tuple[str, ...]] = ("nn.add", "nn.sub")

    input = operand_def(TensorType)
    weight = operand_def(TensorType)
    bias = opt_operand_def(TensorType)
    result = result_def(TensorType)

    traits = traits_def(Pure())
    assembly_format = _FORMAT

    def __init__(self, input: SSAValue, weight: SSAValue, bias: SSAValue | None = None):
        self._build([input, weight, [] if bias is None else [bias]])

    def infer_result_type(self) -> TensorType:
        x, w = shape_of(self.input), shape_of(self.weight)
        if len(x) < 1 or len(w) != 2 or x[-1] != w[1]:
            raise fail(self, f"input {x} and weight {w} do not fit: weight must be "
                             f"[out, {x[-1] if x else '?'}]")
        if self.bias is not None and shape_of(self.bias) != (w[0],):
            raise fail(self, f"bias shape {shape_of(self.bias)} must be ({w[0]},)")
        check_element_types(self, self.operands)
        return TensorType(tensor(self.input).get_element_type(), (*x[:-1], w[0]))

    def flops(self) -> int:
        out = numel(shape_of(self.result))
        return 2 * out * shape_of(self.weight)[1] + (out if self.bias is not None else 0)
