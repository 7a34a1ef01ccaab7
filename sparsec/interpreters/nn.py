"""numpy reference semantics of the nn dialect: the executable spec, and the oracle of
every property test.

Each `@impl` computes what PyTorch (eager, CPU) computes for the same operator on the same
inputs, and `tests/property/test_interpreter_vs_torch.py` checks it op by op. Numerics:

- float32 stays float32. Products and sums accumulate in the operand dtype, as PyTorch's
  CPU kernels do (numpy's matmul calls BLAS sgemm, its sums are pairwise), so results
  agree with PyTorch up to summation order: a few ulp, more for long sums.
- Where PyTorch's formula has a particular shape (batch norm's alpha/beta, gelu's
  `x * 0.5 * (1 + erf(x / sqrt 2))`, upsampling's float32 scale), the code follows it.
- numpy has no erf: `erf` below evaluates it in float64 (error below 1e-15) and the
  result is rounded once to the operand dtype.
- IEEE special values flow as in PyTorch (overflow gives inf, 0/0 gives nan; max, min,
  relu, clamp and max pooling propagate nan). `sparsec.interpreters.interpret` silences
  numpy's floating-point warnings for the run.
- Nothing is written in place: a result may be a view of an operand (reshape, transpose,
  slice, expand) and constants are read-only arrays.

Runtime errors a verified module can still meet (a gather index out of range, an integer
division) raise `NNRuntimeError`, naming the op and its location.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from xdsl.interpreter import (
    Interpreter,
    InterpreterFunctions,
    PythonValues,
    ReturnedValues,
    TerminatorValue,
    impl,
    impl_terminator,
    register_impls,
)
from xdsl.ir import Operation

from sparsec.dialects import nn
from sparsec.textio import location_of


class NNRuntimeError(ValueError):
    """A value the reference semantics cannot compute (not a bug in the module's types)."""


def runtime_error(op: Operation, message: str) -> NNRuntimeError:
    return NNRuntimeError(f"{location_of(op)}: {op.name}: {message}")


def _ints(attr) -> tuple[int, ...]:
    return tuple(int(v) for v in attr.get_values())


def _float(attr) -> float:
    return float(attr.value.data)


def _flag(attr) -> bool:
    return bool(attr.value.data)


# --- erf --------------------------------------------------------------------------------

_SERIES_LIMIT = 2.0
# erf(x) = 2/sqrt(pi) * sum_n (-1)^n x^(2n+1) / (n! (2n+1)); for |x| < 2, 30 terms leave
# an error below 1e-15 (the largest term is ~2.4, so cancellation costs one digit).
_SERIES = tuple((-1) ** n / (math.factorial(n) * (2 * n + 1)) for n in range(30))
# erfc(x) = exp(-x^2)/sqrt(pi) / (x + (1/2)/(x + (2/2)/(x + (3/2)/(x + ...)))), Laplace's
# continued fraction; for x >= 2, 40 levels leave an error below 1e-15.
_FRACTION_DEPTH = 40


def erf(x: np.ndarray) -> np.ndarray:
    """The error function in float64 for any real array (|error| < 1e-15; tested against
    `math.erf`). A power series near zero, a continued fraction for erfc in the tails."""
    x = np.asarray(x, dtype=np.float64)
    out = np.empty_like(x)
    near = np.abs(x) < _SERIES_LIMIT  # nan goes to the tails and stays nan
    out[near] = _erf_series(x[near])
    out[~near] = _erf_tail(x[~near])
    return out


def _erf_series(x: np.ndarray) -> np.ndarray:
    z = x * x
    acc = np.zeros_like(x)
    for coefficient in reversed(_SERIES):
        acc = acc * z + coefficient
    return (2 / math.sqrt(math.pi)) * x * acc


def _erf_tail(x: np.ndarray) -> np.ndarray:
    a = np.abs(x)
    fraction = a.copy()
    for k in range(_FRACTION_DEPTH, 0, -1):
        fraction = a + (k / 2) / fraction
    with np.errstate(over="ignore", under="ignore", invalid="ignore"):
        erfc = np.exp(-a * a) / math.sqrt(math.pi) / fraction  # |x| = inf gives 0
    return np.copysign(1.0 - erfc, x)


def _rounded_erf(x: np.ndarray) -> np.ndarray:
    return erf(x).astype(x.dtype)


# --- convolution and pooling ------------------------------------------------------------

# Largest im2col buffer (elements) built at once; bigger convolutions go in row bands.
_IM2COL_LIMIT = 1 << 22


def conv2d(x: np.ndarray, w: np.ndarray, bias: np.ndarray | None, stride: Sequence[int],
           padding: Sequence[int], dilation: Sequence[int], groups: int) -> np.ndarray:
    """torch.nn.functional.conv2d with padding (top, left, bottom, right): im2col, then
    one float32 matmul per image and group, weights on the left so that the product is
    already NCHW."""
    n, cin, _, _ = x.shape
    cout, cin_g, kh, kw = w.shape
    (sh, sw), (dh, dw) = stride, dilation
    top, left, bottom, right = padding
    x = np.pad(x, ((0, 0), (0, 0), (top, bottom), (left, right)))
    # windows[n, c, i, j, p, q] = x[n, c, i*sh + p*dh, j*sw + q*dw]
    span = (dh * (kh - 1) + 1, dw * (kw - 1) + 1)
    windows = sliding_window_view(x, span, axis=(2, 3))[:, :, ::sh, ::sw, ::dh, ::dw]
    oh, ow = windows.shape[2:4]
    # [n, g, c, i, j, p, q] -> [n, g, c, p, q, i, j]: one column per output pixel, and
    # copying it reads x along its rows.
    windows = windows.reshape(n, groups, cin_g, oh, ow, kh, kw).transpose(0, 1, 2, 5, 6, 3, 4)
    cout_g, depth = cout // groups, cin_g * kh * kw
    kernels = w.reshape(groups, cout_g, depth)
    y = np.empty((n, groups, cout_g, oh, ow), dtype=np.result_type(x, w))
    band = max(1, _IM2COL_LIMIT // max(1, n * cin * kh * kw * ow))  # output rows at once
    for r in range(0, oh, band):
        cols = windows[..., r:r + band, :].reshape(n, groups, depth, -1)
        y[:, :, :, r:r + band] = (kernels @ cols).reshape(n, groups, cout_g, -1, ow)
    y = y.reshape(n, cout, oh, ow)
    if bias is not None:
        y += bias.reshape(1, cout, 1, 1)
    return y


def pool_output_size(size: int, kernel: int, stride: int, pad_lo: int, pad_hi: int,
                     dilation: int, ceil_mode: bool) -> int:
    """PyTorch's pooling_output_shape_pad_lr: with ceil_mode, round up, but drop a last
    window that would start in the right padding."""
    span = size + pad_lo + pad_hi - dilation * (kernel - 1) - 1
    out = (-(-span // stride) if ceil_mode else span // stride) + 1
    if ceil_mode and (out - 1) * stride >= size + pad_lo:
        out -= 1
    return out


def _pool_windows(x: np.ndarray, kernel, stride, padding, dilation, ceil_mode: bool,
                  fill) -> np.ndarray:
    """windows[n, c, i, j, p, q] = padded x[n, c, i*sh + p*dh, j*sw + q*dw], padded with
    `fill`, including the cells a ceil_mode window hangs over the bottom/right edge."""
    _, _, h, w = x.shape
    (kh, kw), (sh, sw), (dh, dw) = kernel, stride, dilation
    top, left, bottom, right = padding
    oh = pool_output_size(h, kh, sh, top, bottom, dh, ceil_mode)
    ow = pool_output_size(w, kw, sw, left, right, dw, ceil_mode)
    span = (dh * (kh - 1) + 1, dw * (kw - 1) + 1)
    below = max(0, (oh - 1) * sh + span[0] - top - h)
    after = max(0, (ow - 1) * sw + span[1] - left - w)
    x = np.pad(x, ((0, 0), (0, 0), (top, below), (left, after)), constant_values=fill)
    windows = sliding_window_view(x, span, axis=(2, 3))[:, :, ::sh, ::sw, ::dh, ::dw]
    return windows[:, :, :oh, :ow]


def max_pool2d(x: np.ndarray, kernel, stride, padding, dilation, ceil_mode: bool) -> np.ndarray:
    """Padding is -inf (never the maximum); nan propagates, as in PyTorch."""
    fill = -np.inf if x.dtype.kind == "f" else np.iinfo(x.dtype).min
    windows = _pool_windows(x, kernel, stride, padding, dilation, ceil_mode, fill)
    return np.ascontiguousarray(windows.max(axis=(-2, -1)))


def _avg_divisor(out: int, size: int, kernel: int, stride: int, pad_lo: int, pad_hi: int,
                 count_include_pad: bool) -> np.ndarray:
    """Per output index, the cells avg_pool2d divides by (PyTorch's rule): the window
    clipped to the padded input, or to the input itself without count_include_pad."""
    start = np.arange(out) * stride - pad_lo
    end = np.minimum(start + kernel, size + pad_hi)
    if count_include_pad:
        return end - start
    return np.minimum(end, size) - np.maximum(start, 0)


def avg_pool2d(x: np.ndarray, kernel, stride, padding, ceil_mode: bool,
               count_include_pad: bool) -> np.ndarray:
    windows = _pool_windows(x, kernel, stride, padding, (1, 1), ceil_mode, 0)
    _, _, oh, ow = windows.shape[:4]
    _, _, h, w = x.shape
    top, left, bottom, right = padding
    rows = _avg_divisor(oh, h, kernel[0], stride[0], top, bottom, count_include_pad)
    cols = _avg_divisor(ow, w, kernel[1], stride[1], left, right, count_include_pad)
    divisor = np.multiply.outer(rows, cols).astype(x.dtype)
    return np.ascontiguousarray(windows.sum(axis=(-2, -1)) / divisor)


def adaptive_avg_pool2d(x: np.ndarray, output_size: Sequence[int]) -> np.ndarray:
    """Bin i of n over a dim of size s covers [floor(i*s/n), ceil((i+1)*s/n))."""
    n, c, h, w = x.shape
    oh, ow = output_size
    y = np.empty((n, c, oh, ow), dtype=x.dtype)
    for i in range(oh):
        h0, h1 = i * h // oh, -(-(i + 1) * h // oh)
        for j in range(ow):
            w0, w1 = j * w // ow, -(-(j + 1) * w // ow)
            y[:, :, i, j] = x[:, :, h0:h1, w0:w1].mean(axis=(-2, -1), dtype=x.dtype)
    return y


def nearest_source_index(out: int, size: int) -> np.ndarray:
    """PyTorch's nearest_idx: the source index of each output index when resizing `size`
    to `out`. Exact for equal sizes and for doubling; otherwise
    min(floor(float32(i) * float32(size / out)), size - 1) in float32, which differs from
    the exact floor(i * size / out) for some sizes (e.g. 2 -> 82)."""
    index = np.arange(out)
    if out == size:
        return index
    if out == 2 * size:
        return index >> 1
    scale = np.float32(size) / np.float32(out)
    source = np.floor(index.astype(np.float32) * scale).astype(np.int64)
    return np.minimum(source, size - 1)


def upsample_nearest(x: np.ndarray, size: Sequence[int]) -> np.ndarray:
    _, _, h, w = x.shape
    rows = nearest_source_index(size[0], h)
    cols = nearest_source_index(size[1], w)
    return x[:, :, rows[:, None], cols[None, :]]


# --- normalisation ----------------------------------------------------------------------


def batch_norm(x: np.ndarray, scale: np.ndarray, bias: np.ndarray, mean: np.ndarray,
               var: np.ndarray, epsilon: float) -> np.ndarray:
    """PyTorch's inference kernel: alpha = scale / sqrt(var + eps), beta = bias - mean*alpha,
    y = x * alpha + beta, all in the operand dtype."""
    invstd = 1 / np.sqrt(var + x.dtype.type(epsilon))
    alpha = invstd * scale
    beta = bias - mean * alpha
    channel = (1, -1) + (1,) * (x.ndim - 2)
    return x * alpha.reshape(channel) + beta.reshape(channel)


def layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray,
               epsilon: float) -> np.ndarray:
    """Mean and biased variance over the trailing weight.ndim dims."""
    axes = tuple(range(x.ndim - weight.ndim, x.ndim))
    mean = x.mean(axis=axes, keepdims=True, dtype=x.dtype)
    centered = x - mean
    var = (centered * centered).mean(axis=axes, keepdims=True, dtype=x.dtype)
    rstd = 1 / np.sqrt(var + x.dtype.type(epsilon))
    return centered * rstd * weight + bias


def softmax(x: np.ndarray, axis: int) -> np.ndarray:
    shifted = x - x.max(axis=axis, keepdims=True)
    e = np.exp(shifted)
    return e / e.sum(axis=axis, keepdims=True, dtype=x.dtype)


# --- the interpreter functions ----------------------------------------------------------


def _array(value: Any) -> tuple[np.ndarray]:
    """One result; numpy turns 0-d results into scalars, the interpreter wants arrays."""
    return (np.asarray(value),)


def _float_operand(op: Operation, x: np.ndarray) -> None:
    if x.dtype.kind != "f":
        raise runtime_error(op, f"needs floating-point operands, got {x.dtype}")


@register_impls
class NNFunctions(InterpreterFunctions):
    """`@impl` of every nn op; values are numpy arrays."""

    # --- constants and regions ---

    @impl(nn.ConstantOp)
    def run_constant(self, interpreter: Interpreter, op: nn.ConstantOp, args: PythonValues):
        return (op.array,)

    @impl(nn.FusedOp)
    def run_fused(self, interpreter: Interpreter, op: nn.FusedOp, args: PythonValues):
        return interpreter.run_ssacfg_region(op.body, args, "nn.fused")

    @impl_terminator(nn.YieldOp)
    def run_yield(self, interpreter: Interpreter, op: nn.YieldOp,
                  args: PythonValues) -> tuple[TerminatorValue, PythonValues]:
        return ReturnedValues(args), ()

    # --- unary element-wise ---

    @impl(nn.ReluOp)
    def run_relu(self, interpreter: Interpreter, op: nn.ReluOp, args: PythonValues):
        (x,) = args
        return _array(np.maximum(x, 0))

    @impl(nn.ClampOp)
    def run_clamp(self, interpreter: Interpreter, op: nn.ClampOp, args: PythonValues):
        (x,) = args
        _float_operand(op, x)
        low, high = x.dtype.type(_float(op.min)), x.dtype.type(_float(op.max))
        return _array(np.minimum(np.maximum(x, low), high))

    @impl(nn.SigmoidOp)
    def run_sigmoid(self, interpreter: Interpreter, op: nn.SigmoidOp, args: PythonValues):
        (x,) = args
        _float_operand(op, x)
        return _array(1 / (1 + np.exp(-x)))

    @impl(nn.TanhOp)
    def run_tanh(self, interpreter: Interpreter, op: nn.TanhOp, args: PythonValues):
        (x,) = args
        _float_operand(op, x)
        return _array(np.tanh(x))

    @impl(nn.GeluOp)
    def run_gelu(self, interpreter: Interpreter, op: nn.GeluOp, args: PythonValues):
        (x,) = args
        _float_operand(op, x)
        if op.approximate.data == "tanh":
            # PyTorch: 0.5 * x * (1 + tanh(kBeta * (x + kKappa * x^3))) in the operand dtype
            beta, kappa = x.dtype.type(math.sqrt(2 / math.pi)), x.dtype.type(0.044715)
            return _array(0.5 * x * (1 + np.tanh(beta * (x + kappa * (x * x * x)))))
        # PyTorch: x * 0.5 * (1 + erf(x * M_SQRT1_2)) in the operand dtype
        return _array(x * 0.5 * (1 + _rounded_erf(x * x.dtype.type(math.sqrt(0.5)))))

    @impl(nn.SiluOp)
    def run_silu(self, interpreter: Interpreter, op: nn.SiluOp, args: PythonValues):
        (x,) = args
        _float_operand(op, x)
        return _array(x / (1 + np.exp(-x)))

    @impl(nn.HardswishOp)
    def run_hardswish(self, interpreter: Interpreter, op: nn.HardswishOp, args: PythonValues):
        (x,) = args
        _float_operand(op, x)
        return _array(x * np.minimum(np.maximum(x + 3, 0), 6) / 6)

    @impl(nn.HardsigmoidOp)
    def run_hardsigmoid(self, interpreter: Interpreter, op: nn.HardsigmoidOp,
                        args: PythonValues):
        (x,) = args
        _float_operand(op, x)
        return _array(np.minimum(np.maximum(x + 3, 0), 6) / 6)

    @impl(nn.ExpOp)
    def run_exp(self, interpreter: Interpreter, op: nn.ExpOp, args: PythonValues):
        (x,) = args
        _float_operand(op, x)
        return _array(np.exp(x))

    @impl(nn.LogOp)
    def run_log(self, interpreter: Interpreter, op: nn.LogOp, args: PythonValues):
        (x,) = args
        _float_operand(op, x)
        return _array(np.log(x))

    @impl(nn.SqrtOp)
    def run_sqrt(self, interpreter: Interpreter, op: nn.SqrtOp, args: PythonValues):
        (x,) = args
        _float_operand(op, x)
        return _array(np.sqrt(x))

    @impl(nn.RsqrtOp)
    def run_rsqrt(self, interpreter: Interpreter, op: nn.RsqrtOp, args: PythonValues):
        (x,) = args
        _float_operand(op, x)
        return _array(1 / np.sqrt(x))

    @impl(nn.ReciprocalOp)
    def run_reciprocal(self, interpreter: Interpreter, op: nn.ReciprocalOp,
                       args: PythonValues):
        (x,) = args
        _float_operand(op, x)
        return _array(1 / x)

    @impl(nn.NegOp)
    def run_neg(self, interpreter: Interpreter, op: nn.NegOp, args: PythonValues):
        (x,) = args
        return _array(np.negative(x))

    @impl(nn.AbsOp)
    def run_abs(self, interpreter: Interpreter, op: nn.AbsOp, args: PythonValues):
        (x,) = args
        return _array(np.abs(x))

    @impl(nn.ErfOp)
    def run_erf(self, interpreter: Interpreter, op: nn.ErfOp, args: PythonValues):
        (x,) = args
        _float_operand(op, x)
        return _array(_rounded_erf(x))

    # --- binary element-wise, numpy broadcasting ---

    @impl(nn.AddOp)
    def run_add(self, interpreter: Interpreter, op: nn.AddOp, args: PythonValues):
        lhs, rhs = args
        return _array(np.add(lhs, rhs))

    @impl(nn.SubOp)
    def run_sub(self, interpreter: Interpreter, op: nn.SubOp, args: PythonValues):
        lhs, rhs = args
        return _array(np.subtract(lhs, rhs))

    @impl(nn.MulOp)
    def run_mul(self, interpreter: Interpreter, op: nn.MulOp, args: PythonValues):
        lhs, rhs = args
        return _array(np.multiply(lhs, rhs))

    @impl(nn.DivOp)
    def run_div(self, interpreter: Interpreter, op: nn.DivOp, args: PythonValues):
        lhs, rhs = args
        _float_operand(op, lhs)  # torch's true division of integers is float: not nn.div
        return _array(np.divide(lhs, rhs))

    @impl(nn.MaxOp)
    def run_max(self, interpreter: Interpreter, op: nn.MaxOp, args: PythonValues):
        lhs, rhs = args
        return _array(np.maximum(lhs, rhs))

    @impl(nn.MinOp)
    def run_min(self, interpreter: Interpreter, op: nn.MinOp, args: PythonValues):
        lhs, rhs = args
        return _array(np.minimum(lhs, rhs))

    @impl(nn.PowOp)
    def run_pow(self, interpreter: Interpreter, op: nn.PowOp, args: PythonValues):
        lhs, rhs = args
        if lhs.dtype.kind != "f" and np.any(rhs < 0):
            raise runtime_error(op, "integers cannot be raised to negative powers")
        return _array(np.power(lhs, rhs))

    # --- contractions ---

    @impl(nn.Conv2dOp)
    def run_conv2d(self, interpreter: Interpreter, op: nn.Conv2dOp, args: PythonValues):
        x, w, *bias = args
        _float_operand(op, x)
        y = conv2d(x, w, bias[0] if bias else None, _ints(op.stride), _ints(op.padding),
                   _ints(op.dilation), op.groups.value.data)
        return (y,)

    @impl(nn.MatmulOp)
    def run_matmul(self, interpreter: Interpreter, op: nn.MatmulOp, args: PythonValues):
        lhs, rhs = args
        return (np.matmul(lhs, rhs),)

    @impl(nn.LinearOp)
    def run_linear(self, interpreter: Interpreter, op: nn.LinearOp, args: PythonValues):
        x, w, *bias = args
        y = np.matmul(x, w.T)
        return (y + bias[0] if bias else y,)

    # --- normalisation ---

    @impl(nn.BatchNormOp)
    def run_batch_norm(self, interpreter: Interpreter, op: nn.BatchNormOp,
                       args: PythonValues):
        x, scale, bias, mean, var = args
        _float_operand(op, x)
        return (batch_norm(x, scale, bias, mean, var, _float(op.epsilon)),)

    @impl(nn.LayerNormOp)
    def run_layer_norm(self, interpreter: Interpreter, op: nn.LayerNormOp,
                       args: PythonValues):
        x, weight, bias = args
        _float_operand(op, x)
        return (layer_norm(x, weight, bias, _float(op.epsilon)),)

    @impl(nn.SoftmaxOp)
    def run_softmax(self, interpreter: Interpreter, op: nn.SoftmaxOp, args: PythonValues):
        (x,) = args
        _float_operand(op, x)
        return (softmax(x, op.axis.value.data),)

    # --- pooling and reductions ---

    @impl(nn.MaxPool2dOp)
    def run_max_pool2d(self, interpreter: Interpreter, op: nn.MaxPool2dOp,
                       args: PythonValues):
        (x,) = args
        return (max_pool2d(x, _ints(op.kernel), _ints(op.stride), _ints(op.padding),
                           _ints(op.dilation), _flag(op.ceil_mode)),)

    @impl(nn.AvgPool2dOp)
    def run_avg_pool2d(self, interpreter: Interpreter, op: nn.AvgPool2dOp,
                       args: PythonValues):
        (x,) = args
        _float_operand(op, x)
        return (avg_pool2d(x, _ints(op.kernel), _ints(op.stride), _ints(op.padding),
                           _flag(op.ceil_mode), _flag(op.count_include_pad)),)

    @impl(nn.AdaptiveAvgPool2dOp)
    def run_adaptive_avg_pool2d(self, interpreter: Interpreter, op: nn.AdaptiveAvgPool2dOp,
                                args: PythonValues):
        (x,) = args
        _float_operand(op, x)
        return (adaptive_avg_pool2d(x, _ints(op.output_size)),)

    @impl(nn.ReduceSumOp)
    def run_reduce_sum(self, interpreter: Interpreter, op: nn.ReduceSumOp,
                       args: PythonValues):
        (x,) = args
        axes, keep = op.normalized_axes(), _flag(op.keepdim)
        return _array(np.sum(x, axis=axes, keepdims=keep, dtype=x.dtype))

    @impl(nn.ReduceMeanOp)
    def run_reduce_mean(self, interpreter: Interpreter, op: nn.ReduceMeanOp,
                        args: PythonValues):
        (x,) = args
        _float_operand(op, x)
        axes, keep = op.normalized_axes(), _flag(op.keepdim)
        return _array(np.mean(x, axis=axes, keepdims=keep, dtype=x.dtype))

    @impl(nn.ReduceMaxOp)
    def run_reduce_max(self, interpreter: Interpreter, op: nn.ReduceMaxOp,
                       args: PythonValues):
        (x,) = args
        axes, keep = op.normalized_axes(), _flag(op.keepdim)
        return _array(np.max(x, axis=axes, keepdims=keep))

    # --- data movement ---

    @impl(nn.ReshapeOp)
    def run_reshape(self, interpreter: Interpreter, op: nn.ReshapeOp, args: PythonValues):
        (x,) = args
        return (x.reshape(op.result.type.get_shape()),)

    @impl(nn.ExpandOp)
    def run_expand(self, interpreter: Interpreter, op: nn.ExpandOp, args: PythonValues):
        (x,) = args
        return (np.broadcast_to(x, op.result.type.get_shape()),)

    @impl(nn.UpsampleNearestOp)
    def run_upsample_nearest(self, interpreter: Interpreter, op: nn.UpsampleNearestOp,
                             args: PythonValues):
        (x,) = args
        return (upsample_nearest(x, op.result.type.get_shape()[2:]),)

    @impl(nn.TransposeOp)
    def run_transpose(self, interpreter: Interpreter, op: nn.TransposeOp, args: PythonValues):
        (x,) = args
        return (np.transpose(x, _ints(op.permutation)),)

    @impl(nn.ConcatOp)
    def run_concat(self, interpreter: Interpreter, op: nn.ConcatOp, args: PythonValues):
        return (np.concatenate(args, axis=op.axis.value.data),)

    @impl(nn.SliceOp)
    def run_slice(self, interpreter: Interpreter, op: nn.SliceOp, args: PythonValues):
        (x,) = args
        bounds = zip(_ints(op.start), _ints(op.end), _ints(op.step), strict=True)
        return (x[tuple(slice(a, b, s) for a, b, s in bounds)],)

    @impl(nn.PadOp)
    def run_pad(self, interpreter: Interpreter, op: nn.PadOp, args: PythonValues):
        (x,) = args
        if x.ndim == 0:
            return (x,)  # nothing to pad (and np.pad refuses 0-d arrays)
        widths = np.array([_ints(op.low), _ints(op.high)], dtype=np.int64).T  # (rank, 2)
        return (np.pad(x, widths, constant_values=_float(op.value)),)

    @impl(nn.GatherOp)
    def run_gather(self, interpreter: Interpreter, op: nn.GatherOp, args: PythonValues):
        table, indices = args
        axis = op.axis.value.data % table.ndim
        size = table.shape[axis]
        if indices.size and (indices.min() < 0 or indices.max() >= size):
            bad = indices[(indices < 0) | (indices >= size)].reshape(-1)[0]
            raise runtime_error(op, f"index {bad} is out of range [0, {size}) for axis "
                                    f"{axis} of a {table.shape} table")
        return _array(np.take(table, indices, axis=axis))
