"""Sliding-window kernels on NCHW: max and average pooling, depthwise convolution, and
adaptive average pooling.

One window emitter serves all three: per plane (a channel of one image, split over
threads) and output row, a vector of neighbouring output columns accumulates over the
kernel taps. The plane is first copied into a scratch plane that already holds the
padding around it, so every tap is a plain vector load. Depthwise convolution applies its
epilogue (bias, batch norm, relu6, ...) before the single store.
"""

from __future__ import annotations

from collections.abc import Sequence
from math import prod

import numpy as np
from xdsl.dialects import arith
from xdsl.dialects.builtin import IntegerType, VectorType
from xdsl.ir import Operation, SSAValue

from sparsec.dialects import nn

from ..emitter import Index
from .base import Kernel, shape
from .elementwise import PARALLEL_MIN_ELEMENTS, Access, _read
from .epilogue import Step, chain_steps

I32 = IntegerType(32)
UNROLLED_TAPS = 25
"""Windows with more taps than this loop over them instead of unrolling."""


def _ints(attr) -> tuple[int, ...]:
    return tuple(int(v) for v in attr.get_values())


def _avg_divisor(out: int, size: int, kernel: int, stride: int, pad_lo: int, pad_hi: int,
                 count_include_pad: bool) -> np.ndarray:
    """Per output index, the cells avg_pool2d divides by (PyTorch's rule)."""
    start = np.arange(out) * stride - pad_lo
    end = np.minimum(start + kernel, size + pad_hi)
    if count_include_pad:
        return end - start
    return np.minimum(end, size) - np.maximum(start, 0)


def emit_pooling(k: Kernel, op: Operation) -> None:
    if isinstance(op, nn.AdaptiveAvgPool2dOp):
        _emit_adaptive(k, op)
        return
    kernel, stride, padding = _ints(op.kernel), _ints(op.stride), _ints(op.padding)
    if isinstance(op, nn.MaxPool2dOp):
        emit_window(k, op.input, op.result, kernel, stride, padding, _ints(op.dilation), "max")
        return
    n, c, h, w = shape(op.input)
    _, _, oh, ow = shape(op.result)
    include = bool(op.count_include_pad.value.data)
    rows = _avg_divisor(oh, h, kernel[0], stride[0], padding[0], padding[2], include)
    cols = _avg_divisor(ow, w, kernel[1], stride[1], padding[1], padding[3], include)
    divisor = np.multiply.outer(rows, cols).astype(np.float32)
    emit_window(k, op.input, op.result, kernel, stride, padding, (1, 1), "avg",
                divisor=divisor)


def emit_window(k: Kernel, input: SSAValue, result: SSAValue, kernel: Sequence[int],
                stride: Sequence[int], padding: Sequence[int], dilation: Sequence[int],
                mode: str, *, divisor: np.ndarray | None = None, weight: SSAValue | None = None,
                steps: Sequence[Step] = (), channels_per_group: int = 1,
                prologue: Sequence[Step] = ()) -> None:
    """mode: "max", "avg" (sum / divisor[oh, ow]) or "depthwise" (sum of x * weight[c],
    then the epilogue `steps`).

    Each input plane is copied into a per-thread scratch plane whose border already holds
    the padding value (written once per call), so every tap is a plain vector load (a
    wide load and a shuffle for strides > 1); only the last vector of an output row may
    need a masked store. A `prologue` (element-wise steps whose chain ends in `input`;
    `input` itself is then never read) is applied during that copy: once per input
    element, and the border keeps the padding of the prologue's result."""
    E = k.E
    n, c_in, h, w = shape(input)
    _, c_out, oh, ow = shape(result)
    kh, kw = kernel
    sh, sw = stride
    top, left = padding[0], padding[1]
    dh, dw = dilation
    lanes = k.lanes
    x = None if prologue else k.buffer(input)
    y = k.buffer(result)
    element = y.type.element_type  # type: ignore[attr-defined]
    in_dims = (n, c_in, h, w)
    pro_accesses = [[o.access(k, in_dims) for o in step.operands] for step in prologue]
    vtype = VectorType(element, [lanes])
    fill = float("-inf") if mode == "max" else 0.0
    weights = k.buffer(weight) if weight is not None else None
    divisors = k.weight(divisor.reshape(-1)) if divisor is not None else None
    out_dims = (n, c_out, oh, ow)
    accesses = [[operand.access(k, out_dims) for operand in step.operands] for step in steps]
    planes = n * c_out
    if k.threads > 1 and planes > 1 and prod(out_dims) * kh * kw >= PARALLEL_MIN_ELEMENTS:
        lo, hi = k.tile_range(planes)
    else:
        lo, hi = 0, planes

    # the padded plane: every cell any lane of any tap reads, origin at (-top, -left)
    last_start = (ow - 1) // lanes * lanes
    padded_h = (oh - 1) * sh + (kh - 1) * dh + 1
    padded_w = last_start * sw + lanes * sw + (kw - 1) * dw
    copy_h, copy_w = min(h, padded_h - top), min(w, padded_w - left)
    scratch = E.alloca(padded_h * padded_w)
    with E.loop(0, padded_h * padded_w - padded_h * padded_w % lanes, lanes) as cell:
        E.vstore(E.const(fill, vtype), scratch, cell.iv)
    with E.loop(padded_h * padded_w - padded_h * padded_w % lanes, padded_h * padded_w) as cell:
        E.store(E.const(fill, element), scratch, cell.iv)

    with E.loop(lo, hi) as plane:
        image = E.idiv(plane.iv, c_out)
        channel = E.irem(plane.iv, c_out)
        source = E.iadd(E.imul(image, c_in), E.idiv(channel, channels_per_group))
        in_base = E.imul(source, h * w)
        with E.loop(0, copy_h) as r:  # the plane's rows into the padded plane
            from .elementwise import _copy_run

            target = E.iadd(E.imul(E.iadd(r.iv, top), padded_w), left)
            if x is not None:
                _copy_run(k, x, E.iadd(in_base, E.imul(r.iv, w)), scratch, target, copy_w)
            else:
                _prologue_run(k, prologue, pro_accesses, [image, source, r.iv], scratch,
                              target, copy_w, element)
        with E.loop(0, oh) as row, E.loop(0, ow, lanes) as col:
            ow0 = col.iv
            out_index = E.iadd(E.iadd(E.imul(plane.iv, oh * ow), E.imul(row.iv, ow)), ow0)
            start = E.iadd(E.imul(E.imul(row.iv, sh), padded_w), E.imul(ow0, sw))

            def tap(i: Index, j: Index, acc: SSAValue) -> SSAValue:
                index = E.iadd(start, E.iadd(E.imul(i, dh * padded_w), E.imul(j, dw)))
                value = E.vload_strided(scratch, index, lanes, sw, None, fill)
                if mode == "max":
                    return E.fmax(acc, value)
                if mode == "avg":
                    return E.fadd(acc, value)
                weight_ = E.load(weights, E.iadd(E.imul(channel, kh * kw),
                                                 E.iadd(E.imul(i, kw), j)))
                return E.fma(value, E.splat(weight_, lanes), acc)

            acc = E.const(fill, vtype)
            if kh * kw <= UNROLLED_TAPS:
                for i in range(kh):
                    for j in range(kw):
                        acc = tap(i, j, acc)
            else:
                with E.loop(0, kh, carried=[acc]) as i:
                    with E.loop(0, kw, carried=[i.args[0]]) as j:
                        j.next(tap(i.iv, j.iv, j.args[0]))
                    i.next(j.results[0])
                acc = i.results[0]

            def finish(mask: SSAValue | None, acc: SSAValue = acc) -> None:
                """Average, epilogue, store (masked when lanes are past the row's end)."""
                if mode == "avg":
                    at = E.iadd(E.imul(row.iv, ow), ow0)
                    count = E.vload(divisors, at, lanes) if mask is None else \
                        E.vload_masked(divisors, at, mask, E.const(1.0, vtype))
                    acc = E.fdiv(acc, count)
                for step, step_accesses in zip(steps, accesses, strict=True):
                    values = []
                    for access in step_accesses:
                        base: Index = access.offset
                        for iv, stride_ in zip((image, channel, row.iv), access.strides[:3],
                                               strict=True):
                            base = E.iadd(base, E.imul(iv, stride_))
                        base = E.iadd(base, E.imul(ow0, access.strides[3]))
                        values.append(_read(k, access, base, access.strides[3], lanes, mask,
                                            element))
                    acc = step.apply(E, acc, values)
                if mask is None:
                    E.vstore(acc, y, out_index)
                else:
                    E.vstore_masked(acc, y, out_index, mask)

            if ow % lanes == 0:
                finish(None)
            else:  # plain stores for full vectors: masked stores are slow on AMD Zen
                left_cols = E.isub(ow, ow0)
                mask = E.cmpi("slt", E.iota(lanes, I32),
                              E.splat(E.cast_index(E.index(left_cols), I32), lanes))
                E.choose(E.cmpi("sge", E.index(left_cols), lanes), lambda: finish(None) or [],
                         lambda: finish(mask) or [])


def _prologue_run(k: Kernel, prologue: Sequence[Step], accesses: list[list[Access]],
                  at: list[Index], dst: SSAValue, dst_base: Index, n: int, element) -> None:
    """dst[dst_base + j] = prologue(operands at input indices (*at, j)) for j < n."""
    from .elementwise import _inner_loop

    E = k.E
    sources = [a for step_accesses in accesses for a in step_accesses]
    bases: list[Index] = []
    for access in sources:
        base: Index = access.offset
        for iv, stride in zip(at, access.strides[:3], strict=True):
            base = E.iadd(base, E.imul(iv, stride))
        bases.append(base)
    counts = [len(step_accesses) for step_accesses in accesses]

    def fn(E_, values: list[SSAValue]) -> SSAValue:
        position, current = 0, None
        for step, count in zip(prologue, counts, strict=True):
            current = step.apply(E_, current, values[position:position + count])
            position += count
        assert current is not None
        return current

    _inner_loop(k, n, k.lanes if n >= 4 else 1, [dst_base, *bases],
                [1, *(a.strides[3] for a in sources)], Access(dst, (1,)), sources, fn, element)


def emit_depthwise(k: Kernel, op: nn.Conv2dOp, epilogue: Sequence[Operation],
                   prologue: Sequence[Operation] = ()) -> None:
    """A grouped convolution with one input channel per group (depthwise, or depthwise
    with a channel multiplier); a `prologue` is applied as the input is copied into the
    padded plane (`emit_window`)."""
    steps = list(chain_steps(k, epilogue, op.result))
    if op.bias is not None:
        from .epilogue import Operand

        bias_dims = (shape(op.bias)[0], 1, 1)
        bias_step = Step(op, [Operand(bias_dims, op.bias)], 0,
                         lambda E, a: E.fadd(a[0], a[1]))
        steps.insert(0, bias_step)
    _, c_in, _, _ = shape(op.input)
    c_out = shape(op.result)[1]
    emit_window(k, op.input, epilogue[-1].results[0] if epilogue else op.result,
                shape(op.weight)[2:], _ints(op.stride), _ints(op.padding), _ints(op.dilation),
                "depthwise", weight=op.weight, steps=steps, channels_per_group=c_out // c_in,
                prologue=chain_steps(k, prologue, None))


def _emit_adaptive(k: Kernel, op: nn.AdaptiveAvgPool2dOp) -> None:
    """Bin i over a dim of size s covers [floor(i*s/n), ceil((i+1)*s/n)); the mean is the
    bin's sum divided by its size. Global pooling is a row reduction."""
    E = k.E
    n, c, h, w = shape(op.input)
    oh, ow = _ints(op.output_size)
    if (oh, ow) == (1, 1):
        _emit_global_mean(k, op, n * c, h * w)
        return
    if h % oh == 0 and w % ow == 0:
        size = (h // oh, w // ow)
        divisor = np.full((oh, ow), size[0] * size[1], np.float32)
        emit_window(k, op.input, op.result, size, size, (0, 0, 0, 0), (1, 1), "avg",
                    divisor=divisor)
        return
    x, y = k.buffer(op.input), k.buffer(op.result)
    element = x.type.element_type  # type: ignore[attr-defined]
    with E.loop(0, n * c) as plane, E.loop(0, oh) as i, E.loop(0, ow) as j:
        h0 = E.idiv(E.imul(i.iv, h), oh)
        h1 = E.idiv(E.iadd(E.imul(i.iv, h), h + oh - 1), oh)
        w0 = E.idiv(E.imul(j.iv, w), ow)
        w1 = E.idiv(E.iadd(E.imul(j.iv, w), w + ow - 1), ow)
        base = E.imul(plane.iv, h * w)
        with E.loop(h0, h1, carried=[E.const(0.0, element)]) as r:
            with E.loop(w0, w1, carried=[r.args[0]]) as s:
                s.next(E.fadd(s.args[0], E.load(x, E.iadd(base, E.iadd(E.imul(r.iv, w),
                                                                        s.iv)))))
            r.next(s.results[0])
        count = E.imul(E.isub(h1, h0), E.isub(w1, w0))
        as_int = E.cast_index(E.index(count), IntegerType(64))
        mean = E.fdiv(r.results[0], E.value(arith.SIToFPOp(as_int, element)))
        E.store(mean, y, E.iadd(E.imul(plane.iv, oh * ow), E.iadd(E.imul(i.iv, ow), j.iv)))


def _emit_global_mean(k: Kernel, op: nn.AdaptiveAvgPool2dOp, planes: int, size: int) -> None:
    """Each plane's mean: a vector sum along the contiguous plane, then sum / size."""
    from .reductions import _parallel_range, _reduce_row

    E = k.E
    x, y = k.buffer(op.input), k.buffer(op.result)
    element = x.type.element_type  # type: ignore[attr-defined]
    lo, hi = _parallel_range(k, planes, planes * size)
    with E.loop(lo, hi) as plane:
        total = _reduce_row(k, x, E.imul(plane.iv, size), [(size, 1)], k.lanes,
                            lambda E_, a, b: E_.fadd(a, b), 0.0, "sum", element)
        E.store(E.fdiv(total, E.const(float(size), element)), y, plane.iv)
