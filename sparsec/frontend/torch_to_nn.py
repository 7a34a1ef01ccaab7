"""aten -> nn: one small function per aten operator, registered in `CONVERSIONS`.

A conversion gets the `Builder` and the op's operands in aten schema order: run-time
tensors as SSA values, everything else as Python values (ints, floats, bools, None,
strings, lists). It returns the nn value (or a tuple, one per torch result). In-place
variants (`relu_`) are the same function. Ops whose operands are all known at import
time never get here: `convert.py` folds them with PyTorch.

A conversion raises `Unsupported("why")` for a use nn cannot express; the frontend then
lists it with every other unsupported use of the model.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np
from xdsl.ir import SSAValue

from sparsec.dialects import nn

from . import torch_ir
from .convert import Builder, Const, Missing, Unsupported
from .errors import FrontendError

CONVERSIONS: dict[str, Callable] = {}
"""aten op (`aten.add.Tensor`, `aten.relu.default`) -> conversion function."""


def converts(*names: str):
    """Register a conversion for aten ops `name` or `name.overload` (and prims ops
    `prims.name`)."""
    def register(function: Callable) -> Callable:
        for name in names:
            key = name if name.startswith("prims.") else f"aten.{name}"
            key = key if key.count(".") == 2 else f"{key}.default"
            assert key not in CONVERSIONS, key
            CONVERSIONS[key] = function
        return function
    return register


# --- structural ops: constants, lists, literals -----------------------------------------


def _constant(cv, op, inputs):
    return torch_ir.attribute(op, "value")


def _none(cv, op, inputs):
    return None


def _list(cv, op, inputs):
    return list(inputs)


def _unpack(cv, op, inputs):
    (values,) = inputs
    if not isinstance(values, list) or len(values) != len(op.results):
        raise Unsupported(f"cannot unpack a {type(values).__name__} into "
                          f"{len(op.results)} values")
    return tuple(values) if len(values) != 1 else values[0]


def _literal(cv, op, inputs):
    type = cv.builder.result
    if not type.is_static_tensor:
        raise Unsupported(f"literal of unsupported type {type}")
    try:
        array, key = torch_ir.literal_value(op.operation.attributes["value"], type,
                                            cv.resources)
    except (KeyError, ValueError) as e:
        where = torch_ir.describe_location(op, cv.filename)
        raise FrontendError(f"{where}: error: {e.args[0]}") from None
    return Const(array, key, name=torch_ir.node_name(op))


def _num_to_tensor(cv, op, inputs):
    return Const(np.array(inputs[0], dtype=cv.builder.result.dtype))


def _getitem(cv, op, inputs):
    values, index = inputs
    return values[index]


def _no_result(cv, op, inputs):
    return ()


STRUCTURAL: dict[str, Callable] = {
    "torch.constant.int": _constant,
    "torch.constant.float": _constant,
    "torch.constant.bool": _constant,
    "torch.constant.str": _constant,
    "torch.constant.device": _constant,
    "torch.constant.number": _constant,
    "torch.constant.none": _none,
    "torch.prim.ListConstruct": _list,
    "torch.prim.TupleConstruct": _list,
    "torch.prim.ListUnpack": _unpack,
    "torch.prim.TupleUnpack": _unpack,
    "torch.vtensor.literal": _literal,
    "torch.prim.NumToTensor.Scalar": _num_to_tensor,
    "torch.aten.__getitem__.t": _getitem,
    "torch.aten._assert_tensor_metadata": _no_result,
    "torch.aten._assert_scalar": _no_result,
    "torch.aten.sym_constrain_range_for_size": _no_result,
}
"""Ops that build Python values rather than tensors: (converter, op, operands) -> value."""


# --- helpers ----------------------------------------------------------------------------


def _rank(x: SSAValue) -> int:
    return len(Builder.shape(x))


def _axis(dim: int, rank: int) -> int:
    if not -max(rank, 1) <= dim < max(rank, 1):
        raise Unsupported(f"dimension {dim} is out of range for rank {rank}")
    return dim % max(rank, 1)


def _axes(dims, rank: int) -> tuple[int, ...]:
    """Reduction dims: None or [] mean all of them."""
    if dims is None or dims == []:
        return tuple(range(rank))
    if isinstance(dims, int):
        dims = [dims]
    return tuple(sorted({_axis(d, rank) for d in dims}))


def _pair(value, name: str = "value") -> tuple[int, int]:
    values = [value] if isinstance(value, int) else list(value)
    if len(values) == 1:
        values *= 2
    if len(values) != 2:
        raise Unsupported(f"{name} {value} must have one or two values")
    return values[0], values[1]


def _operand(b: Builder, value, dtype) -> SSAValue:
    """A binary op's operand of element type `dtype`: Python numbers become constants."""
    if isinstance(value, SSAValue):
        return b.cast(value, dtype)
    if isinstance(value, bool | int | float):
        return b.constant(np.array(value, dtype=dtype))
    raise Unsupported(f"unsupported operand of type {type(value).__name__}")


def _scaled(b: Builder, value, alpha) -> object:
    """alpha * value (add/sub's alpha argument)."""
    if alpha is None or alpha == 1:
        return value
    if not isinstance(value, SSAValue):
        return value * alpha
    known = b.value_of(value)
    if known is not None:
        return b.constant(known * alpha, like=value)
    return b.emit(nn.MulOp(value, b.constant(np.array(alpha), like=value)))


def _binary(op_class, b: Builder, lhs, rhs) -> SSAValue:
    dtype = b.result.dtype
    return b.emit(op_class(_operand(b, lhs, dtype), _operand(b, rhs, dtype)))


def _reshape(b: Builder, x: SSAValue, shape: Sequence[int] | None = None) -> SSAValue:
    shape = tuple(b.result.shape if shape is None else shape)
    if Builder.shape(x) == shape:
        return x
    known = b.value_of(x)
    if known is not None:
        return b.derived(x, known.reshape(shape), "reshape")
    return b.emit(nn.ReshapeOp(x, shape))


def _transpose(b: Builder, x: SSAValue, perm: Sequence[int]) -> SSAValue:
    perm = [_axis(p, _rank(x)) for p in perm]
    if perm == sorted(perm):
        return x
    known = b.value_of(x)
    if known is not None:
        return b.derived(x, np.ascontiguousarray(known.transpose(perm)), "transpose")
    return b.emit(nn.TransposeOp(x, perm))


def _swap(rank: int, d0: int, d1: int) -> list[int]:
    perm = list(range(rank))
    d0, d1 = _axis(d0, rank), _axis(d1, rank)
    perm[d0], perm[d1] = perm[d1], perm[d0]
    return perm


def _slice(b: Builder, x: SSAValue, dim: int, start: int, end: int, step: int = 1):
    shape = Builder.shape(x)
    if (start, end, step) == (0, shape[dim], 1):
        return x
    starts, ends, steps = [0] * len(shape), list(shape), [1] * len(shape)
    starts[dim], ends[dim], steps[dim] = start, end, step
    return b.emit(nn.SliceOp(x, starts, ends, steps))


def _pieces(b: Builder, x: SSAValue, dim: int, sizes: Sequence[int]) -> list[SSAValue]:
    """x cut along `dim` into consecutive pieces of the given sizes."""
    dim = _axis(dim, _rank(x))
    if sum(sizes) != Builder.shape(x)[dim]:
        raise Unsupported(f"split sizes {list(sizes)} do not add up to {Builder.shape(x)[dim]}")
    pieces, start = [], 0
    for size in sizes:
        pieces.append(_slice(b, x, dim, start, start + size))
        start += size
    return pieces


def _same_dtype(b: Builder, dtype, x: SSAValue) -> None:
    if dtype is not None and torch_ir.SCALAR_TYPES.get(dtype) != Builder.dtype(x):
        raise Unsupported(f"changes the element type to torch dtype {dtype} (nn has no cast)")


def _not_training(training, what: str) -> None:
    if training:
        raise Unsupported(f"{what} in training mode (import the model in eval mode)")


# --- identity in inference --------------------------------------------------------------


@converts("contiguous", "clone", "detach", "alias", "lift_fresh_copy", "detach_")
def identity(b, x, *ignored):
    return x


@converts("dropout", "dropout_", "feature_dropout", "feature_dropout_", "alpha_dropout")
def dropout(b, x, p, train):
    _not_training(train, "dropout")
    return x


@converts("to.dtype", "to.dtype_layout", "to.device", "_to_copy", "type_as",
          "to.other")
def to(b, x, *ignored):
    return b.cast(x, b.result.dtype)


@converts("prims.convert_element_type")
def convert_element_type(b, x, dtype):
    return b.cast(x, b.result.dtype)


# --- element-wise -----------------------------------------------------------------------

_UNARY = {
    "relu": nn.ReluOp, "sigmoid": nn.SigmoidOp, "tanh": nn.TanhOp, "silu": nn.SiluOp,
    "hardswish": nn.HardswishOp, "hardsigmoid": nn.HardsigmoidOp, "exp": nn.ExpOp,
    "log": nn.LogOp, "sqrt": nn.SqrtOp, "rsqrt": nn.RsqrtOp, "reciprocal": nn.ReciprocalOp,
    "neg": nn.NegOp, "abs": nn.AbsOp, "erf": nn.ErfOp,
}


def _unary(op_class):
    def convert(b, x):
        return b.emit(op_class(x))
    convert.__name__ = op_class.name.split(".")[1]
    return convert


for _name, _op_class in _UNARY.items():
    converts(_name, f"{_name}_")(_unary(_op_class))


@converts("gelu", "gelu_")
def gelu(b, x, approximate="none"):
    return b.emit(nn.GeluOp(x, approximate))


@converts("hardtanh", "hardtanh_")
def hardtanh(b, x, min_val, max_val):
    return b.emit(nn.ClampOp(x, min_val, max_val))


@converts("relu6", "relu6_")
def relu6(b, x):
    return b.emit(nn.ClampOp(x, 0.0, 6.0))


@converts("clamp", "clamp_")
def clamp(b, x, min=None, max=None):
    low = -math.inf if min is None else min
    high = math.inf if max is None else max
    return b.emit(nn.ClampOp(x, low, high))


@converts("clamp_min", "clamp_min_")
def clamp_min(b, x, min):
    return b.emit(nn.ClampOp(x, min, math.inf))


@converts("clamp_max", "clamp_max_")
def clamp_max(b, x, max):
    return b.emit(nn.ClampOp(x, -math.inf, max))


@converts("clamp.Tensor", "clamp_.Tensor")
def clamp_tensor(b, x, min=None, max=None):
    if min is not None:
        x = _binary(nn.MaxOp, b, x, min)
    if max is not None:
        x = _binary(nn.MinOp, b, x, max)
    return x


@converts("leaky_relu", "leaky_relu_")
def leaky_relu(b, x, negative_slope=0.01):
    """leaky_relu(x) = max(x, slope * x) for 0 <= slope <= 1."""
    if not 0 <= negative_slope <= 1:
        raise Unsupported(f"negative_slope {negative_slope} outside [0, 1]")
    scaled = b.emit(nn.MulOp(x, b.constant(np.array(negative_slope), like=x)))
    return b.emit(nn.MaxOp(x, scaled))


@converts("square")
def square(b, x):
    return b.emit(nn.MulOp(x, x))


@converts("add.Tensor", "add_.Tensor", "add.Scalar", "add_.Scalar")
def add(b, x, other, alpha=1):
    return _binary(nn.AddOp, b, x, _scaled(b, other, alpha))


@converts("sub.Tensor", "sub_.Tensor", "sub.Scalar", "sub_.Scalar")
def sub(b, x, other, alpha=1):
    return _binary(nn.SubOp, b, x, _scaled(b, other, alpha))


@converts("rsub.Scalar", "rsub.Tensor")
def rsub(b, x, other, alpha=1):
    return _binary(nn.SubOp, b, other, _scaled(b, x, alpha))


@converts("mul.Tensor", "mul_.Tensor", "mul.Scalar", "mul_.Scalar")
def mul(b, x, other):
    return _binary(nn.MulOp, b, x, other)


@converts("div.Tensor", "div_.Tensor", "div.Scalar", "div_.Scalar")
def div(b, x, other):
    return _binary(nn.DivOp, b, x, other)


@converts("div.Tensor_mode", "div_.Tensor_mode")
def div_mode(b, x, other, rounding_mode):
    if rounding_mode is not None:
        raise Unsupported(f"rounding_mode={rounding_mode!r} (nn has no floor or trunc)")
    return _binary(nn.DivOp, b, x, other)


@converts("maximum")
def maximum(b, x, other):
    return _binary(nn.MaxOp, b, x, other)


@converts("minimum")
def minimum(b, x, other):
    return _binary(nn.MinOp, b, x, other)


@converts("pow.Tensor_Scalar", "pow.Tensor_Tensor", "pow_.Scalar", "pow_.Tensor")
def pow(b, x, exponent):
    return _binary(nn.PowOp, b, x, exponent)


@converts("pow.Scalar")
def pow_scalar(b, base, exponent):
    return _binary(nn.PowOp, b, base, exponent)


# --- linear algebra ---------------------------------------------------------------------


@converts("linear")
def linear(b, x, weight, bias=None):
    return b.emit(nn.LinearOp(x, weight, bias))


@converts("matmul", "mm", "bmm")
def matmul(b, x, other):
    """torch.matmul: a 1-D operand gets a unit dim that the result drops again."""
    lhs = _reshape(b, x, (1, *Builder.shape(x))) if _rank(x) == 1 else x
    rhs = _reshape(b, other, (*Builder.shape(other), 1)) if _rank(other) == 1 else other
    return _reshape(b, b.emit(nn.MatmulOp(lhs, rhs)))


@converts("addmm")
def addmm(b, bias, x, other, beta=1, alpha=1):
    """beta * bias + alpha * (x @ other)"""
    product = _scaled(b, b.emit(nn.MatmulOp(x, other)), alpha)
    return b.emit(nn.AddOp(_scaled(b, bias, beta), product))


@converts("einsum")
def einsum(b, equation: str, tensors: list, path=None):
    """Two-operand einsum as transposes, reshapes and one batched matmul; one operand as
    a sum and a transpose (no repeated indices, no ellipsis)."""
    inputs, output = _parse_einsum(equation, len(tensors))
    if len(tensors) == 1:
        return _einsum_one(b, tensors[0], inputs[0], output)
    (a, b_), (sa, sb) = tensors, inputs
    a, sa = _sum_out(b, a, sa, set(sb) | set(output))
    b_, sb = _sum_out(b, b_, sb, set(sa) | set(output))
    batch = [c for c in output if c in sa and c in sb]
    left = [c for c in output if c in sa and c not in sb]
    right = [c for c in output if c in sb and c not in sa]
    inner = [c for c in sa if c in sb and c not in output]
    size = {**dict(zip(sa, Builder.shape(a), strict=True)),
            **dict(zip(sb, Builder.shape(b_), strict=True))}

    def prod(letters):
        return math.prod(size[c] for c in letters)

    a3 = _transpose(b, a, [sa.index(c) for c in batch + left + inner])
    a3 = _reshape(b, a3, (prod(batch), prod(left), prod(inner)))
    b3 = _transpose(b, b_, [sb.index(c) for c in batch + inner + right])
    b3 = _reshape(b, b3, (prod(batch), prod(inner), prod(right)))
    y = b.emit(nn.MatmulOp(a3, b3))
    order = batch + left + right
    y = _reshape(b, y, [size[c] for c in order])
    return _transpose(b, y, [order.index(c) for c in output])


def _parse_einsum(equation: str, count: int) -> tuple[list[str], str]:
    equation = equation.replace(" ", "")
    if "..." in equation or "->" not in equation:
        raise Unsupported(f"einsum {equation!r}: needs an explicit output, no ellipsis")
    lhs, output = equation.split("->")
    inputs = lhs.split(",")
    if len(inputs) != count or count not in (1, 2):
        raise Unsupported(f"einsum {equation!r} with {count} operands")
    if any(len(set(s)) != len(s) for s in (*inputs, output)):
        raise Unsupported(f"einsum {equation!r}: repeated indices (diagonals)")
    return inputs, output


def _sum_out(b: Builder, x: SSAValue, letters: str, keep: set[str]):
    gone = [i for i, c in enumerate(letters) if c not in keep]
    if not gone:
        return x, letters
    y = b.emit(nn.ReduceSumOp(x, gone, False))
    return y, "".join(c for c in letters if c in keep)


def _einsum_one(b: Builder, x: SSAValue, letters: str, output: str):
    x, letters = _sum_out(b, x, letters, set(output))
    return _transpose(b, x, [letters.index(c) for c in output])


# --- convolution ------------------------------------------------------------------------


def _conv_padding(padding, weight: SSAValue, dilation) -> tuple[int, int, int, int]:
    """(top, left, bottom, right) from torch's padding: ints, or "valid" / "same"
    (torch puts the odd cell of "same" at the bottom/right)."""
    if padding == "valid":
        return (0, 0, 0, 0)
    if padding == "same":
        kh, kw = Builder.shape(weight)[2:]
        th, tw = dilation[0] * (kh - 1), dilation[1] * (kw - 1)
        return (th // 2, tw // 2, th - th // 2, tw - tw // 2)
    ph, pw = _pair(padding, "padding")
    return (ph, pw, ph, pw)


@converts("conv2d", "conv2d.padding")
def conv2d(b, x, weight, bias, stride, padding, dilation, groups):
    if _rank(x) != 4:
        raise Unsupported(f"conv2d on a rank-{_rank(x)} input (batched NCHW only)")
    dilation = _pair(dilation, "dilation")
    return b.emit(nn.Conv2dOp(x, weight, bias, stride=_pair(stride, "stride"),
                              padding=_conv_padding(padding, weight, dilation),
                              dilation=dilation, groups=groups))


@converts("conv1d", "conv1d.padding")
def conv1d(b, x, weight, bias, stride, padding, dilation, groups):
    """conv1d as conv2d over a unit height."""
    if _rank(x) != 3:
        raise Unsupported(f"conv1d on a rank-{_rank(x)} input (batched NCL only)")
    n, c, length = Builder.shape(x)
    x4 = _reshape(b, x, (n, c, 1, length))
    w4 = _reshape(b, weight, (*Builder.shape(weight)[:2], 1, Builder.shape(weight)[2]))
    pad = padding if isinstance(padding, str) else [0, _pair(padding)[0]]
    y = conv2d(b, x4, w4, bias, [1, _pair(stride)[0]], pad, [1, _pair(dilation)[0]], groups)
    return _reshape(b, y)


@converts("convolution", "_convolution", "_convolution.deprecated")
def convolution(b, x, weight, bias, stride, padding, dilation, transposed, output_padding,
                groups, *ignored):
    if transposed:
        raise Unsupported("transposed convolution (nn has none)")
    if _rank(x) == 3:
        return conv1d(b, x, weight, bias, stride, padding, dilation, groups)
    return conv2d(b, x, weight, bias, stride, padding, dilation, groups)


# --- normalisation ----------------------------------------------------------------------


def _ones_or(b: Builder, value, shape, like: SSAValue, fill: float) -> SSAValue:
    return value if value is not None else b.constant(np.full(shape, fill), like=like)


@converts("batch_norm")
def batch_norm(b, x, weight, bias, mean, var, training, momentum, eps, cudnn_enabled):
    _not_training(training, "batch_norm")
    if mean is None or var is None:
        raise Unsupported("batch_norm without running statistics (track_running_stats=False)")
    channels = (Builder.shape(x)[1],)
    weight = _ones_or(b, weight, channels, x, 1.0)
    bias = _ones_or(b, bias, channels, x, 0.0)
    return b.emit(nn.BatchNormOp(x, weight, bias, mean, var, eps))


@converts("_native_batch_norm_legit_no_training")
def native_batch_norm_no_training(b, x, weight, bias, mean, var, momentum, eps):
    y = batch_norm(b, x, weight, bias, mean, var, False, momentum, eps, False)
    unused = Missing("batch_norm's saved statistics are not computed by nn")
    return y, unused, unused


@converts("native_batch_norm")
def native_batch_norm(b, x, weight, bias, mean, var, training, momentum, eps):
    y = batch_norm(b, x, weight, bias, mean, var, training, momentum, eps, False)
    unused = Missing("batch_norm's saved statistics are not computed by nn")
    return y, unused, unused


@converts("layer_norm")
def layer_norm(b, x, normalized_shape, weight, bias, eps, cudnn_enable=True):
    shape = tuple(normalized_shape)
    if Builder.shape(x)[len(Builder.shape(x)) - len(shape):] != shape:
        raise Unsupported(f"normalized_shape {shape} is not the trailing shape of "
                          f"{Builder.shape(x)}")
    weight = _ones_or(b, weight, shape, x, 1.0)
    bias = _ones_or(b, bias, shape, x, 0.0)
    return b.emit(nn.LayerNormOp(x, weight, bias, eps))


@converts("native_layer_norm")
def native_layer_norm(b, x, normalized_shape, weight, bias, eps):
    y = layer_norm(b, x, normalized_shape, weight, bias, eps)
    unused = Missing("layer_norm's mean and rstd are not computed by nn")
    return y, unused, unused


@converts("group_norm")
def group_norm(b, x, groups, weight, bias, eps, cudnn_enabled=True):
    """(x - mean) * rsqrt(var + eps) over each group of channels, then the affine map."""
    shape = Builder.shape(x)
    n, c = shape[:2]
    grouped = _reshape(b, x, (n, groups, math.prod(shape[1:]) // groups))
    mean = b.emit(nn.ReduceMeanOp(grouped, [2], True))
    centred = b.emit(nn.SubOp(grouped, mean))
    var = b.emit(nn.ReduceMeanOp(b.emit(nn.MulOp(centred, centred)), [2], True))
    var = b.emit(nn.AddOp(var, b.constant(np.array(eps), like=x)))
    y = _reshape(b, b.emit(nn.MulOp(centred, b.emit(nn.RsqrtOp(var)))), shape)
    per_channel = (c,) + (1,) * (len(shape) - 2)
    if weight is not None:
        y = b.emit(nn.MulOp(y, _reshape(b, weight, per_channel)))
    if bias is not None:
        y = b.emit(nn.AddOp(y, _reshape(b, bias, per_channel)))
    return y


@converts("softmax.int", "_softmax")
def softmax(b, x, dim, dtype_or_half=None):
    if not isinstance(dtype_or_half, bool):
        _same_dtype(b, dtype_or_half, x)
    return b.emit(nn.SoftmaxOp(x, _axis(dim, _rank(x))))


@converts("log_softmax.int", "_log_softmax")
def log_softmax(b, x, dim, dtype_or_half=None):
    return b.emit(nn.LogOp(softmax(b, x, dim, dtype_or_half)))


# --- pooling and reductions -------------------------------------------------------------


def _pool_args(x, kernel, stride, padding):
    if _rank(x) != 4:
        raise Unsupported(f"2-D pooling of a rank-{_rank(x)} input (batched NCHW only)")
    kernel = _pair(kernel, "kernel_size")
    stride = _pair(stride, "stride") if stride else kernel
    return kernel, stride, _pair(padding, "padding")


@converts("max_pool2d")
def max_pool2d(b, x, kernel, stride, padding, dilation, ceil_mode):
    kernel, stride, padding = _pool_args(x, kernel, stride, padding)
    return b.emit(nn.MaxPool2dOp(x, kernel, stride, padding, _pair(dilation, "dilation"),
                                 bool(ceil_mode)))


@converts("max_pool2d_with_indices")
def max_pool2d_with_indices(b, x, kernel, stride, padding, dilation, ceil_mode):
    y = max_pool2d(b, x, kernel, stride, padding, dilation, ceil_mode)
    return y, Missing("max_pool2d's indices are not computed by nn")


@converts("avg_pool2d")
def avg_pool2d(b, x, kernel, stride, padding, ceil_mode, count_include_pad,
               divisor_override=None):
    kernel, stride, padding = _pool_args(x, kernel, stride, padding)
    y = b.emit(nn.AvgPool2dOp(x, kernel, stride, padding, bool(ceil_mode),
                              bool(count_include_pad)))
    if divisor_override is None:
        return y
    if ceil_mode or padding != (0, 0):
        raise Unsupported("divisor_override with padding or ceil_mode")
    factor = kernel[0] * kernel[1] / divisor_override
    return b.emit(nn.MulOp(y, b.constant(np.array(factor), like=x)))


@converts("adaptive_avg_pool2d", "_adaptive_avg_pool2d")
def adaptive_avg_pool2d(b, x, output_size):
    if _rank(x) != 4:
        raise Unsupported(f"adaptive_avg_pool2d of a rank-{_rank(x)} input (NCHW only)")
    return b.emit(nn.AdaptiveAvgPool2dOp(x, b.result.shape[2:]))


def _reduce(op_class, b: Builder, x, dims, keepdim, dtype=None):
    _same_dtype(b, dtype, x)
    axes = _axes(dims, _rank(x))
    if not axes:
        return x  # a reduction over no dims of a 0-d tensor
    return b.emit(op_class(x, axes, bool(keepdim)))


@converts("mean.dim")
def mean_dim(b, x, dims, keepdim=False, dtype=None):
    return _reduce(nn.ReduceMeanOp, b, x, dims, keepdim, dtype)


@converts("mean")
def mean(b, x, dtype=None):
    return _reduce(nn.ReduceMeanOp, b, x, None, False, dtype)


@converts("sum.dim_IntList")
def sum_dim(b, x, dims, keepdim=False, dtype=None):
    return _reduce(nn.ReduceSumOp, b, x, dims, keepdim, dtype)


@converts("sum")
def sum_all(b, x, dtype=None):
    return _reduce(nn.ReduceSumOp, b, x, None, False, dtype)


@converts("amax")
def amax(b, x, dims, keepdim=False):
    return _reduce(nn.ReduceMaxOp, b, x, dims, keepdim)


@converts("max")
def max_all(b, x):
    return _reduce(nn.ReduceMaxOp, b, x, None, False)


@converts("max.dim")
def max_dim(b, x, dim, keepdim=False):
    y = _reduce(nn.ReduceMaxOp, b, x, [dim], keepdim)
    return y, Missing("max.dim's indices are not computed by nn (no argmax)")


@converts("linalg_vector_norm")
def vector_norm(b, x, ord=2, dims=None, keepdim=False, dtype=None):
    """2-norm sqrt(sum(x * x)), 1-norm sum(|x|), inf-norm max(|x|)."""
    if ord == 2:
        return b.emit(nn.SqrtOp(_reduce(nn.ReduceSumOp, b, b.emit(nn.MulOp(x, x)), dims,
                                        keepdim, dtype)))
    if ord == 1:
        return _reduce(nn.ReduceSumOp, b, b.emit(nn.AbsOp(x)), dims, keepdim, dtype)
    if ord == math.inf:
        return _reduce(nn.ReduceMaxOp, b, b.emit(nn.AbsOp(x)), dims, keepdim, dtype)
    raise Unsupported(f"vector norm of order {ord}")


@converts("amin")
def amin(b, x, dims, keepdim=False):
    """min = -max(-x)"""
    return b.emit(nn.NegOp(_reduce(nn.ReduceMaxOp, b, b.emit(nn.NegOp(x)), dims, keepdim)))


# --- shapes -----------------------------------------------------------------------------


@converts("view", "_unsafe_view", "reshape", "view_as", "reshape_as", "flatten.using_ints",
          "unflatten.int", "squeeze.dim", "squeeze.dims", "squeeze", "unsqueeze",
          "squeeze_.dim", "unsqueeze_", "_reshape_alias", "view.dtype", "prims.collapse",
          "prims.squeeze", "prims.view_of")
def reshape(b, x, *ignored):
    """Every view that keeps row-major order is nn.reshape to the result's shape."""
    if b.result.dtype != Builder.dtype(x):
        raise Unsupported("reinterprets the element type")
    return _reshape(b, x)


@converts("expand", "expand_as", "broadcast_to")
def expand(b, x, *ignored):
    if Builder.shape(x) == b.result.shape:
        return x
    return b.emit(nn.ExpandOp(x, b.result.shape))


@converts("repeat")
def repeat(b, x, repeats):
    """repeat = expand a unit dim before each dim, then merge the pairs."""
    shape = (1,) * (len(repeats) - _rank(x)) + Builder.shape(x)
    unit = _reshape(b, x, [d for s in shape for d in (1, s)])
    wide = b.emit(nn.ExpandOp(unit, [d for r, s in zip(repeats, shape, strict=True)
                                     for d in (r, s)]))
    return _reshape(b, wide)


@converts("permute")
def permute(b, x, dims):
    return _transpose(b, x, dims)


@converts("transpose.int", "swapaxes", "swapdims", "transpose_")
def transpose(b, x, dim0, dim1):
    return _transpose(b, x, _swap(_rank(x), dim0, dim1))


@converts("t", "numpy_T")
def t(b, x):
    return _transpose(b, x, list(reversed(range(_rank(x)))))


@converts("movedim.int")
def movedim(b, x, source, destination):
    rank = _rank(x)
    perm = [d for d in range(rank) if d != _axis(source, rank)]
    perm.insert(_axis(destination, rank), _axis(source, rank))
    return _transpose(b, x, perm)


@converts("cat", "concat")
def cat(b, tensors, dim=0):
    dtype = b.result.dtype
    tensors = [_operand(b, t, dtype) for t in tensors if Builder.shape(t) != (0,)]
    if len(tensors) == 1:
        return tensors[0]
    return b.emit(nn.ConcatOp(tensors, _axis(dim, _rank(tensors[0]))))


@converts("stack")
def stack(b, tensors, dim=0):
    rank = _rank(tensors[0]) + 1
    dim = _axis(dim, rank)
    expanded = []
    for tensor in tensors:
        shape = list(Builder.shape(tensor))
        expanded.append(_reshape(b, tensor, shape[:dim] + [1] + shape[dim:]))
    return cat(b, expanded, dim)


@converts("slice.Tensor")
def slice_tensor(b, x, dim=0, start=None, end=None, step=1):
    dim = _axis(dim, _rank(x))
    if step < 1:
        raise Unsupported(f"slice step {step} (must be positive)")
    first, last, _ = slice(start, end, step).indices(Builder.shape(x)[dim])
    return _slice(b, x, dim, first, max(first, last), step)


@converts("select.int")
def select(b, x, dim, index):
    dim = _axis(dim, _rank(x))
    index = range(Builder.shape(x)[dim])[index]
    return _reshape(b, _slice(b, x, dim, index, index + 1))


@converts("narrow")
def narrow(b, x, dim, start, length):
    dim = _axis(dim, _rank(x))
    start = range(Builder.shape(x)[dim])[start] if start < 0 else start
    return _slice(b, x, dim, start, start + length)


@converts("slice_scatter")
def slice_scatter(b, x, src, dim=0, start=None, end=None, step=1):
    """x with x[start:end] along dim replaced by src (what functionalisation makes of
    `x[a:b] = ...`): the part before, src, the part after."""
    dim = _axis(dim, _rank(x))
    size = Builder.shape(x)[dim]
    first, last, _ = slice(start, end, step).indices(size)
    if step != 1:
        raise Unsupported(f"slice_scatter with step {step}")
    parts = [_slice(b, x, dim, 0, first), b.cast(src, b.result.dtype), _slice(b, x, dim, last, size)]
    return cat(b, [p for p in parts if Builder.shape(p)[dim]], dim)


@converts("select_scatter")
def select_scatter(b, x, src, dim, index):
    dim = _axis(dim, _rank(x))
    index = range(Builder.shape(x)[dim])[index]
    shape = list(Builder.shape(x))
    shape[dim] = 1
    return slice_scatter(b, x, _reshape(b, src, shape), dim, index, index + 1)


@converts("chunk")
def chunk(b, x, chunks, dim=0):
    size = Builder.shape(x)[_axis(dim, _rank(x))]
    step = -(-size // chunks)
    return _pieces(b, x, dim, [min(step, size - s) for s in range(0, size, step)])


@converts("split.Tensor")
def split(b, x, split_size, dim=0):
    size = Builder.shape(x)[_axis(dim, _rank(x))]
    return _pieces(b, x, dim, [min(split_size, size - s) for s in range(0, size, split_size)])


@converts("split_with_sizes", "split.sizes")
def split_with_sizes(b, x, split_sizes, dim=0):
    return _pieces(b, x, dim, split_sizes)


@converts("unbind.int")
def unbind(b, x, dim=0):
    dim = _axis(dim, _rank(x))
    shape = Builder.shape(x)
    rest = shape[:dim] + shape[dim + 1:]
    return [_reshape(b, piece, rest) for piece in _pieces(b, x, dim, [1] * shape[dim])]


@converts("roll")
def roll(b, x, shifts, dims=()):
    """roll along a dim = the last `shift` cells, then the others."""
    if not dims:
        flat = _reshape(b, x, (math.prod(Builder.shape(x)),))
        return _reshape(b, roll(b, flat, shifts, [0]))
    for shift, dim in zip(shifts, dims, strict=True):
        dim = _axis(dim, _rank(x))
        size = Builder.shape(x)[dim]
        shift %= size
        if shift:
            x = cat(b, [_slice(b, x, dim, size - shift, size), _slice(b, x, dim, 0, size - shift)],
                    dim)
    return x


@converts("size.int")
def size(b, x, dim):
    return Builder.shape(x)[_axis(dim, _rank(x))]


@converts("dim")
def dim(b, x):
    return _rank(x)


@converts("numel")
def numel(b, x):
    return math.prod(Builder.shape(x))


# --- gathering and padding --------------------------------------------------------------


def _gather(b: Builder, table: SSAValue, indices: SSAValue, axis: int) -> SSAValue:
    if Builder.dtype(indices).kind not in "iu":
        raise Unsupported(f"indexing with {indices.type} (integer indices only)")
    known = b.value_of(indices)
    if known is not None and (known < 0).any():
        indices = b.constant(known % Builder.shape(table)[axis], like=indices)
    return b.emit(nn.GatherOp(table, indices, axis))


@converts("index_select")
def index_select(b, x, dim, index):
    return _gather(b, x, index, _axis(dim, _rank(x)))


@converts("embedding")
def embedding(b, weight, indices, *ignored):
    return _gather(b, weight, indices, 0)


@converts("index.Tensor", "_unsafe_index.Tensor")
def index(b, x, indices):
    """x[:, ..., idx] with one integer index tensor (numpy.take along that dim)."""
    used = [i for i, idx in enumerate(indices) if idx is not None]
    if len(used) != 1:
        raise Unsupported(f"advanced indexing with {len(used)} index tensors (one only)")
    return _gather(b, x, indices[used[0]], used[0])


@converts("constant_pad_nd")
def constant_pad_nd(b, x, pad, value=0.0):
    """pad = [before_last, after_last, before_second_last, ...]; negative pads crop."""
    rank = _rank(x)
    if len(pad) % 2 or len(pad) // 2 > rank:
        raise Unsupported(f"pad {pad} for a rank-{rank} input")
    low, high = [0] * rank, [0] * rank
    for i in range(len(pad) // 2):
        low[rank - 1 - i], high[rank - 1 - i] = pad[2 * i], pad[2 * i + 1]
    y = x
    if any(p > 0 for p in low + high):
        y = b.emit(nn.PadOp(x, [max(p, 0) for p in low], [max(p, 0) for p in high],
                            float(value)))
    if any(p < 0 for p in low + high):
        shape = Builder.shape(y)
        starts = [max(-p, 0) for p in low]
        ends = [s - max(-p, 0) for s, p in zip(shape, high, strict=True)]
        y = b.emit(nn.SliceOp(y, starts, ends))
    return y


@converts("pad")
def pad(b, x, pad, mode="constant", value=None):
    if mode != "constant":
        raise Unsupported(f"padding mode {mode!r} (nn.pad is constant padding only)")
    return constant_pad_nd(b, x, pad, 0.0 if value is None else value)


@converts("upsample_nearest2d", "upsample_nearest2d.vec")
def upsample_nearest2d(b, x, output_size, *scales):
    """Nearest resize; nn picks source index floor(i * H / OH), which is torch's rule
    unless a scale factor that is not H/OH was given."""
    in_h, in_w = Builder.shape(x)[2:]
    out_h, out_w = b.result.shape[2:]
    factors = [s for s in scales if s is not None]
    factors = factors[0] if len(factors) == 1 and isinstance(factors[0], list) else factors
    if factors and (in_h * factors[0] != out_h or in_w * factors[-1] != out_w):
        raise Unsupported(f"scale factors {factors} that are not output/input size")
    return b.emit(nn.UpsampleNearestOp(x, b.result.shape))


@converts("upsample_bilinear2d", "upsample_bilinear2d.vec", "_upsample_bilinear2d_aa",
          "upsample_bicubic2d", "upsample_bicubic2d.vec")
def upsample_interpolating(b, x, output_size, align_corners, *scales):
    raise Unsupported(f"interpolating resize (align_corners={align_corners}): "
                      "nn has nearest resize only")


def _filled(b: Builder, value) -> Const:
    """A constant of the result's type: *_like ops do not read their input's values (a
    `Const`, so that ops on it are folded too)."""
    return Const(np.full(b.result.shape, value, dtype=b.result.dtype))


@converts("zeros_like", "new_zeros", "zero")
def zeros_like(b, x, *ignored):
    return _filled(b, 0)


@converts("ones_like", "new_ones")
def ones_like(b, x, *ignored):
    return _filled(b, 1)


@converts("full_like")
def full_like(b, x, fill_value, *ignored):
    return _filled(b, fill_value)


@converts("new_full")
def new_full(b, x, size, fill_value, *ignored):
    return _filled(b, fill_value)


# --- recurrent layers -------------------------------------------------------------------
#
# GRU, LSTM and RNN are unrolled over time: one linear for the input projection of every
# step of a layer at once, then per step a linear of the hidden state and the gate maths.


def _take(b: Builder, x: SSAValue, dim: int, index: int) -> SSAValue:
    """x[..., index, ...] along `dim` (the dim removed); folded when x is a constant."""
    known = b.value_of(x)
    if known is not None:
        return b.constant(np.take(known, index, axis=dim))
    shape = list(Builder.shape(x))
    del shape[dim]
    return _reshape(b, _slice(b, x, dim, index, index + 1), shape)


def _linear(b: Builder, x: SSAValue, weight: SSAValue, bias: SSAValue | None) -> SSAValue:
    arrays = [b.value_of(v) for v in (x, weight, bias) if v is not None]
    if all(a is not None for a in arrays):
        y = arrays[0] @ arrays[1].T + (arrays[2] if bias is not None else 0)
        return b.constant(y, like=x)
    return b.emit(nn.LinearOp(x, weight, bias))


def _gates(b: Builder, x: SSAValue, count: int) -> list[SSAValue]:
    size = Builder.shape(x)[-1] // count
    return _pieces(b, x, -1, [size] * count)


def _gru_cell(b: Builder, gi: SSAValue, h: SSAValue, state, w_hh, b_hh):
    """r, z, n gates; h' = n + z * (h - n)."""
    gh = _linear(b, h, w_hh, b_hh)
    (ir, iz, in_), (hr, hz, hn) = _gates(b, gi, 3), _gates(b, gh, 3)
    r = b.emit(nn.SigmoidOp(b.emit(nn.AddOp(ir, hr))))
    z = b.emit(nn.SigmoidOp(b.emit(nn.AddOp(iz, hz))))
    n = b.emit(nn.TanhOp(b.emit(nn.AddOp(in_, b.emit(nn.MulOp(r, hn))))))
    h = b.emit(nn.AddOp(n, b.emit(nn.MulOp(z, b.emit(nn.SubOp(h, n))))))
    return h, state


def _lstm_cell(b: Builder, gi: SSAValue, h: SSAValue, c: SSAValue, w_hh, b_hh):
    """i, f, g, o gates; c' = f * c + i * g; h' = o * tanh(c')."""
    gates = b.emit(nn.AddOp(gi, _linear(b, h, w_hh, b_hh)))
    i, f, g, o = _gates(b, gates, 4)
    i, f, o = (b.emit(nn.SigmoidOp(v)) for v in (i, f, o))
    c = b.emit(nn.AddOp(b.emit(nn.MulOp(f, c)), b.emit(nn.MulOp(i, b.emit(nn.TanhOp(g))))))
    h = b.emit(nn.MulOp(o, b.emit(nn.TanhOp(c))))
    return h, c


def _rnn_cell(activation):
    def cell(b: Builder, gi: SSAValue, h: SSAValue, state, w_hh, b_hh):
        return b.emit(activation(b.emit(nn.AddOp(gi, _linear(b, h, w_hh, b_hh))))), state
    return cell


def _recurrent(b: Builder, cell, x, h0, c0, params, has_biases, num_layers, train,
               bidirectional, batch_first):
    """Unroll a stacked (bi)directional recurrent layer; returns output, h_n, c_n."""
    _not_training(train, "a recurrent layer")
    if _rank(x) != 3:
        raise Unsupported("unbatched recurrent input (rank 2)")
    directions = 2 if bidirectional else 1
    per_direction = 4 if has_biases else 2
    if len(params) != num_layers * directions * per_direction:
        raise Unsupported("recurrent layer with projections (proj_size)")
    seq = _transpose(b, x, [1, 0, 2]) if batch_first else x  # time-major
    steps = Builder.shape(seq)[0]
    h_n, c_n = [], []
    for layer in range(num_layers):
        outputs = []
        for direction in range(directions):
            index = layer * directions + direction
            w_ih, w_hh, *biases = params[index * per_direction:(index + 1) * per_direction]
            b_ih, b_hh = biases or (None, None)
            gi = b.emit(nn.LinearOp(seq, w_ih, b_ih))
            h = _take(b, h0, 0, index)
            c = None if c0 is None else _take(b, c0, 0, index)
            hs = [None] * steps
            order = range(steps) if direction == 0 else reversed(range(steps))
            for t in order:
                h, c = cell(b, _take(b, gi, 0, t), h, c, w_hh, b_hh)
                hs[t] = _reshape(b, h, (1, *Builder.shape(h)))
            outputs.append(cat(b, hs, 0) if steps > 1 else hs[0])
            h_n.append(_reshape(b, h, (1, *Builder.shape(h))))
            c_n.append(None if c is None else _reshape(b, c, (1, *Builder.shape(c))))
        seq = cat(b, outputs, 2) if directions == 2 else outputs[0]
    output = _transpose(b, seq, [1, 0, 2]) if batch_first else seq
    return output, cat(b, h_n, 0), None if c0 is None else cat(b, c_n, 0)


@converts("gru.input")
def gru(b, x, hx, params, has_biases, num_layers, dropout, train, bidirectional,
        batch_first):
    output, h_n, _ = _recurrent(b, _gru_cell, x, hx, None, params, has_biases, num_layers,
                                train, bidirectional, batch_first)
    return output, h_n


@converts("lstm.input")
def lstm(b, x, hx, params, has_biases, num_layers, dropout, train, bidirectional,
         batch_first):
    h0, c0 = hx
    return _recurrent(b, _lstm_cell, x, h0, c0, params, has_biases, num_layers, train,
                      bidirectional, batch_first)


@converts("rnn_tanh.input")
def rnn_tanh(b, x, hx, params, has_biases, num_layers, dropout, train, bidirectional,
             batch_first):
    output, h_n, _ = _recurrent(b, _rnn_cell(nn.TanhOp), x, hx, None, params, has_biases,
                                num_layers, train, bidirectional, batch_first)
    return output, h_n


@converts("rnn_relu.input")
def rnn_relu(b, x, hx, params, has_biases, num_layers, dropout, train, bidirectional,
             batch_first):
    output, h_n, _ = _recurrent(b, _rnn_cell(nn.ReluOp), x, hx, None, params, has_biases,
                                num_layers, train, bidirectional, batch_first)
    return output, h_n


# --- attention --------------------------------------------------------------------------


@converts("scaled_dot_product_attention")
def scaled_dot_product_attention(b, q, k, v, attn_mask=None, dropout_p=0.0, is_causal=False,
                                 scale=None, enable_gqa=False):
    """softmax(q k^T * scale + mask) v, as mul, transpose, matmul, add, softmax, matmul."""
    if dropout_p:
        raise Unsupported(f"attention dropout (dropout_p={dropout_p}) is random")
    if enable_gqa and Builder.shape(q)[-3] != Builder.shape(k)[-3]:
        raise Unsupported("grouped-query attention (enable_gqa)")
    if scale is None:
        scale = 1.0 / math.sqrt(Builder.shape(q)[-1])
    q = b.emit(nn.MulOp(q, b.constant(np.array(scale), like=q)))
    kt = b.emit(nn.TransposeOp(k, _swap(_rank(k), -1, -2)))
    scores = b.emit(nn.MatmulOp(q, kt))
    rows, cols = Builder.shape(scores)[-2:]
    if is_causal:
        causal = np.triu(np.full((rows, cols), -np.inf), k=1)
        scores = b.emit(nn.AddOp(scores, b.constant(causal, like=scores)))
    if attn_mask is not None:
        scores = b.emit(nn.AddOp(scores, _additive_mask(b, attn_mask, scores)))
    weights = b.emit(nn.SoftmaxOp(scores, _rank(scores) - 1))
    return b.emit(nn.MatmulOp(weights, v))


def _additive_mask(b: Builder, mask: SSAValue, scores: SSAValue) -> SSAValue:
    """A boolean mask (True = attend) as 0 / -inf; a float mask is added as it is."""
    if Builder.dtype(mask) != np.bool_:
        return b.cast(mask, Builder.dtype(scores))
    known = b.value_of(mask)
    if known is None:
        raise Unsupported("a boolean attention mask computed at run time (nn has no select)")
    return b.constant(np.where(known, 0.0, -np.inf), like=scores)
