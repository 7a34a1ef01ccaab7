"""Pooling and reductions (Many-to-Many in Table 2)."""

from __future__ import annotations

from typing import ClassVar

from xdsl.dialects.builtin import BoolAttr, DenseArrayBase, IntegerAttr, TensorType, i1
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
    Algebra,
    MappingType,
    NNOperation,
    fail,
    ints,
    normalize_axis,
    numel,
    shape_of,
    tensor,
    values_of,
)

_FORMAT = "operands attr-dict `:` functional-type(operands, results)"


def _bool(value: bool) -> BoolAttr:
    return IntegerAttr(int(value), i1)


def pool_output_size(size: int, kernel: int, stride: int, pad_lo: int, pad_hi: int,
                     dilation: int, ceil_mode: bool) -> int:
    """PyTorch's rule: floor (or ceil) of (size + pads - dilation*(kernel-1) - 1)/stride + 1;
    with ceil_mode, a last window that would start in the right padding is dropped."""
    span = size + pad_lo + pad_hi - dilation * (kernel - 1) - 1
    out = (-(-span // stride) if ceil_mode else span // stride) + 1
    if ceil_mode and (out - 1) * stride >= size + pad_lo:
        out -= 1
    return out


class Pool2dOperation(NNOperation):
    """Shared shape rule of max/avg pooling over the last two dims of NCHW."""

    MAPPING: ClassVar[MappingType | None] = MappingType.MANY_TO_MANY

    input = operand_def(TensorType)
    result = result_def(TensorType)
    kernel = prop_def(DenseArrayBase)
    stride = prop_def(DenseArrayBase)
    padding = prop_def(DenseArrayBase)
    ceil_mode = prop_def(BoolAttr)

    traits = traits_def(Pure())
    assembly_format = _FORMAT
    irdl_options = (ParsePropInAttrDict(),)

    def dilation_values(self) -> tuple[int, int]:
        return (1, 1)

    def infer_result_type(self) -> TensorType:
        x = shape_of(self.input)
        kernel, stride = values_of(self.kernel), values_of(self.stride)
        padding, dilation = values_of(self.padding), self.dilation_values()
        if len(x) != 4:
            raise fail(self, f"input must be 4-D (NCHW), got {x}")
        if len(kernel) != 2 or len(stride) != 2 or len(padding) != 4:
            raise fail(self, "kernel and stride take 2 values, padding takes 4 "
                             f"(top, left, bottom, right), got kernel {kernel}, "
                             f"stride {stride}, padding {padding}")
        if min(kernel) < 1 or min(stride) < 1 or min(padding) < 0 or min(dilation) < 1:
            raise fail(self, f"kernel {kernel}, stride {stride} and dilation {dilation} "
                             f"must be positive and padding {padding} non-negative")
        if max(padding[0], padding[2]) * 2 > kernel[0] or max(padding[1], padding[3]) * 2 > kernel[1]:
            raise fail(self, f"padding {padding} must be at most half the kernel {kernel}")
        ceil = bool(self.ceil_mode.value.data)
        oh = pool_output_size(x[2], kernel[0], stride[0], padding[0], padding[2], dilation[0], ceil)
        ow = pool_output_size(x[3], kernel[1], stride[1], padding[1], padding[3], dilation[1], ceil)
        if oh < 1 or ow < 1:
            raise fail(self, f"kernel {kernel} does not fit the padded input {x[2]}x{x[3]}")
        return TensorType(tensor(self.input).get_element_type(), (x[0], x[1], oh, ow))

    def flops(self) -> int:
        kh, kw = values_of(self.kernel)
        return numel(shape_of(self.result)) * kh * kw


def _pads(padding):
    return padding if len(padding) == 4 else (padding[0], padding[1], padding[0], padding[1])


@irdl_op_definition
class MaxPool2dOp(Pool2dOperation):
    """y[n, c, oh, ow] = max over the window (padding never wins: it is -inf)."""

    name = "nn.max_pool2d"
    dilation = prop_def(DenseArrayBase)

    def __init__(self, input: SSAValue, kernel, stride=None, padding=(0, 0), dilation=(1, 1),
                 ceil_mode: bool = False):
        self._build([input], {"kernel": ints(kernel), "stride": ints(stride or kernel),
                              "padding": ints(_pads(padding)), "dilation": ints(dilation),
                              "ceil_mode": _bool(ceil_mode)})

    def dilation_values(self) -> tuple[int, int]:
        values = values_of(self.dilation)
        if len(values) != 2:
            raise fail(self, f"dilation takes 2 values, got {values}")
        return values  # type: ignore[return-value]


@irdl_op_definition
class AvgPool2dOp(Pool2dOperation):
    """y = mean over the window; the divisor counts padding cells when count_include_pad,
    never cells of the ceil_mode overhang (PyTorch's rule)."""

    name = "nn.avg_pool2d"
    count_include_pad = prop_def(BoolAttr)

    def __init__(self, input: SSAValue, kernel, stride=None, padding=(0, 0),
                 ceil_mode: bool = False, count_include_pad: bool = True):
        self._build([input], {"kernel": ints(kernel), "stride": ints(stride or kernel),
                              "padding": ints(_pads(padding)), "ceil_mode": _bool(ceil_mode),
                              "count_include_pad": _bool(count_include_pad)})


@irdl_op_definition
class AdaptiveAvgPool2dOp(NNOperation):
    """y[n, c, i, j] = mean of x[n, c, floor(i*H/OH) : ceil((i+1)*H/OH),
    floor(j*W/OW) : ceil((j+1)*W/OW)]; the output size is the result type's."""

    name = "nn.adaptive_avg_pool2d"
    MAPPING: ClassVar[MappingType | None] = MappingType.MANY_TO_MANY

    input = operand_def(TensorType)
    result = result_def(TensorType)
    output_size = prop_def(DenseArrayBase)

    traits = traits_def(Pure())
    assembly_format = _FORMAT
    irdl_options = (ParsePropInAttrDict(),)

    def __init__(self, input: SSAValue, output_size):
        self._build([input], {"output_size": ints(output_size)})

    def infer_result_type(self) -> TensorType:
        x, size = shape_of(self.input), values_of(self.output_size)
        if len(x) != 4 or len(size) != 2 or min(size) < 1:
            raise fail(self, f"needs a 4-D input and 2 positive output sizes, got {x} and "
                             f"{size}")
        return TensorType(tensor(self.input).get_element_type(), (x[0], x[1], *size))

    def flops(self) -> int:
        return numel(shape_of(self.input))


class ReduceOperation(NNOperation):
    """y = reduce of x over `axes` (kept as size-1 dims when keepdim)."""

    MAPPING: ClassVar[MappingType | None] = MappingType.MANY_TO_MANY

    input = operand_def(TensorType)
    result = result_def(TensorType)
    axes = prop_def(DenseArrayBase)
    keepdim = prop_def(BoolAttr)

    traits = traits_def(Pure())
    assembly_format = _FORMAT
    irdl_options = (ParsePropInAttrDict(),)

    def __init__(self, input: SSAValue, axes, keepdim: bool = False):
        self._build([input], {"axes": ints(axes), "keepdim": _bool(keepdim)})

    def normalized_axes(self) -> tuple[int, ...]:
        rank = len(shape_of(self.input))
        axes = tuple(normalize_axis(self, a, rank) for a in values_of(self.axes))
        if not axes or len(set(axes)) != len(axes):
            raise fail(self, f"axes {values_of(self.axes)} must be non-empty and distinct")
        return tuple(sorted(axes))

    def infer_result_type(self) -> TensorType:
        x, axes = shape_of(self.input), self.normalized_axes()
        keep = bool(self.keepdim.value.data)
        shape = [1 if i in axes else d for i, d in enumerate(x) if keep or i not in axes]
        return TensorType(tensor(self.input).get_element_type(), shape)

    def flops(self) -> int:
        return numel(shape_of(self.input))


@irdl_op_definition
class ReduceSumOp(ReduceOperation):
    """y = Σ x over axes"""

    name = "nn.reduce_sum"
    ALGEBRA: ClassVar[Algebra] = Algebra.NONE
    DISTRIBUTES_OVER: ClassVar[tuple[str, ...]] = ("nn.add", "nn.sub")


@irdl_op_definition
class ReduceMeanOp(ReduceOperation):
    """y = (Σ x over axes) / (number of reduced elements)"""

    name = "nn.reduce_mean"
    DISTRIBUTES_OVER: ClassVar[tuple[str, ...]] = ("nn.add", "nn.sub")


@irdl_op_definition
class ReduceMaxOp(ReduceOperation):
    """y = max x over axes"""

    name = "nn.reduce_max"
