"""Sliding-window kernels on NCHW: max and average pooling, depthwise convolution, and
adaptive average pooling; and a convolution's plane epilogue (`per_plane`): a pooling of
its result, or a binary op broadcasting its (N, C, 1, 1) result over planes.

One window emitter serves all three: per plane (a channel of one image, split over
threads) and output row, a vector of neighbouring output columns accumulates over the
kernel taps. The plane is first copied into a scratch plane that already holds the
padding around it, so every tap is a plain vector load. Depthwise convolution applies its
epilogue (bias, batch norm, relu6, ...) before the single store.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from xdsl.dialects import arith
from xdsl.dialects.builtin import Float32Type, IntegerType, VectorType, f32
from xdsl.ir import Operation, SSAValue

from sparsec.dialects import nn

from ..emitter import Index
from .base import Kernel, shape
from .elementwise import PARALLEL_MIN_ELEMENTS, Access, Fn, _inner_loop, _read, binary_fn
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


def _window_pooling(op: Operation, whole: bool = False) -> dict | None:
    """Window's arguments for a pooling op that is a sliding window (max, avg, adaptive
    average with bins that tile the input exactly); None for other adaptive pools, and
    for the global mean unless `whole` (one window over the plane: a convolution's
    banded plane epilogue, which has no plane in memory to reduce in place)."""
    n, c, h, w = shape(op.input)
    _, _, oh, ow = shape(op.results[0])
    if isinstance(op, nn.AdaptiveAvgPool2dOp):
        if ((oh, ow) == (1, 1) and not whole) or h % oh or w % ow:
            return None
        size = (h // oh, w // ow)
        return dict(kernel=size, stride=size, padding=(0, 0, 0, 0), dilation=(1, 1),
                    mode="avg", divisor=np.full((oh, ow), size[0] * size[1], np.float32))
    kernel, stride, padding = _ints(op.kernel), _ints(op.stride), _ints(op.padding)
    if isinstance(op, nn.MaxPool2dOp):
        return dict(kernel=kernel, stride=stride, padding=padding,
                    dilation=_ints(op.dilation), mode="max")
    assert isinstance(op, nn.AvgPool2dOp), op
    include = bool(op.count_include_pad.value.data)
    rows = _avg_divisor(oh, h, kernel[0], stride[0], padding[0], padding[2], include)
    cols = _avg_divisor(ow, w, kernel[1], stride[1], padding[1], padding[3], include)
    return dict(kernel=kernel, stride=stride, padding=padding, dilation=(1, 1), mode="avg",
                divisor=np.multiply.outer(rows, cols).astype(np.float32))


def window_rows(op: Operation) -> tuple[int, int, int] | None:
    """For a pooling that `Window` can compute (max, avg, adaptive average with bins that
    tile the input, the global mean as one window): the input rows one window spans, its
    row stride and its top padding; None for other ops."""
    window = _window_pooling(op, whole=True) if isinstance(op, POOLING_OPS) else None
    if window is None:
        return None
    (kh, _), (sh, _), (dh, _) = window["kernel"], window["stride"], window["dilation"]
    return (kh - 1) * dh + 1, sh, window["padding"][0]


def takes_prologue(op: Operation) -> bool:
    """Can this pooling apply element-wise ops to its input as it copies each plane into
    its padded scratch plane? The window poolings in f32 (not global or uneven adaptive
    pooling, which read their input in place)."""
    return _window_pooling(op) is not None and \
        isinstance(op.operands[0].type.get_element_type(), Float32Type)


def emit_pooling(k: Kernel, op: Operation, prologue: Sequence[Operation] = ()) -> None:
    """A pooling kernel; a `prologue` (element-wise ops whose chain ends in the input,
    `takes_prologue`) is applied as each plane is copied into the padded plane: the
    padding is then that of the prologue's result, as the interpreter pads it."""
    window = _window_pooling(op)
    if window is None:
        assert isinstance(op, nn.AdaptiveAvgPool2dOp) and not prologue
        _emit_adaptive(k, op)
        return
    emit_window(k, op.input, op.results[0], **window, prologue=chain_steps(k, prologue, None))


POOLING_OPS = (nn.MaxPool2dOp, nn.AvgPool2dOp, nn.AdaptiveAvgPool2dOp)


def per_plane(k: Kernel, op: Operation, result: SSAValue, banded: bool = False
              ) -> Window | _GlobalMean | _AdaptiveBins | _BroadcastPlane:
    """`op`, which reads `result` (a value this kernel writes, NCHW), as a plane
    epilogue: `.plane(p)` computes op's plane p (image * C + channel) once the kernel has
    written plane p of `result`. Planes are independent, so a kernel split over threads by
    output channel never has two threads on one element. Scratch set-up is emitted here,
    so build it before the kernel's loops. `op` is either
    - a max_pool2d, avg_pool2d or adaptive_avg_pool2d of `result`, pooling input plane p
      into output plane p, with the windows, divisors and padding of the standalone
      kernel (`emit_pooling`: -inf padding for max, PyTorch's divisor rule for avg);
      `banded` (a pooling `window_rows` knows): `result` has no buffer, the kernel
      passes `Window.band` the rows it keeps (a global mean is then one window); or
    - a binary op that broadcasts `result` (N, C, 1, 1) over a value of shape
      (N, C, H, W) (squeeze-excite's x * s), `_BroadcastPlane`."""
    if isinstance(op, nn.BINARY_OPS):
        return _BroadcastPlane(k, op, result)
    window = _window_pooling(op, whole=banded)
    if window is not None:
        return Window(k, op.input, op.results[0], **window, banded=banded)
    assert isinstance(op, nn.AdaptiveAvgPool2dOp) and not banded
    if _ints(op.output_size) == (1, 1):
        return _GlobalMean(k, op)
    return _AdaptiveBins(k, op)


def emit_window(k: Kernel, input: SSAValue, result: SSAValue, kernel: Sequence[int],
                stride: Sequence[int], padding: Sequence[int], dilation: Sequence[int],
                mode: str, *, divisor: np.ndarray | None = None, weight: SSAValue | None = None,
                steps: Sequence[Step] = (), channels_per_group: int = 1,
                prologue: Sequence[Step] = (), plane_epilogue: Operation | None = None) -> None:
    """mode: "max", "avg" (sum / divisor[oh, ow]) or "depthwise" (sum of x * weight[c],
    then the epilogue `steps`), over every plane of `result` (split over threads).

    A `plane_epilogue` (depthwise only, `per_plane`) computes each plane right after the
    plane is written, while it is still in cache: the same thread, the same plane index,
    so no two threads ever touch one of its elements."""
    window = Window(k, input, result, kernel, stride, padding, dilation, mode,
                    divisor=divisor, weight=weight, steps=steps,
                    channels_per_group=channels_per_group, prologue=prologue)
    after = per_plane(k, plane_epilogue, result) if plane_epilogue is not None else None
    n, c_out, oh, ow = shape(result)
    planes = n * c_out
    if k.threads > 1 and planes > 1 and \
            planes * oh * ow * window.taps >= PARALLEL_MIN_ELEMENTS:
        lo, hi = k.tile_range(planes)
    else:
        lo, hi = 0, planes
    with k.E.loop(lo, hi) as plane:
        window.plane(plane.iv)
        if after is not None:
            after.plane(plane.iv)


class Window:
    """One sliding-window computation, emitted plane by plane (`plane(index)`).

    Each input plane is copied into a per-thread scratch plane whose border already holds
    the padding value (written once, where the Window is built: outside the plane loop),
    so every tap is a plain vector load (a wide load and a shuffle for strides > 1); only
    the last vector of an output row may need a masked store. A `prologue` (element-wise
    steps whose chain ends in `input`; `input` itself is then never read) is applied
    during that copy: once per input element, and the border keeps the padding of the
    prologue's result. `band` computes some output rows of a plane from input rows that
    the caller keeps (`banded`: a convolution's kernel that never stores its result)."""

    def __init__(self, k: Kernel, input: SSAValue, result: SSAValue, kernel: Sequence[int],
                 stride: Sequence[int], padding: Sequence[int], dilation: Sequence[int],
                 mode: str, *, divisor: np.ndarray | None = None,
                 weight: SSAValue | None = None, steps: Sequence[Step] = (),
                 channels_per_group: int = 1, prologue: Sequence[Step] = (),
                 banded: bool = False):
        E = k.E
        self.k = k
        self.mode = mode
        self.channels_per_group = channels_per_group
        self.steps = steps
        self.prologue = prologue
        n, c_in, h, w = shape(input)
        _, c_out, oh, ow = shape(result)
        self.in_dims, self.out_dims = (n, c_in, h, w), (n, c_out, oh, ow)
        self.kernel, self.stride, self.dilation = tuple(kernel), tuple(stride), tuple(dilation)
        self.taps = kernel[0] * kernel[1]
        top, left = padding[0], padding[1]
        self.top, self.left = top, left
        lanes = k.lanes
        # banded: the caller passes the input rows to `band` (`input` has no buffer)
        self.x = None if prologue or banded else k.buffer(input)
        self.y = k.buffer(result)
        self.element = element = self.y.type.element_type  # type: ignore[attr-defined]
        self.pro_accesses = [[o.access(k, self.in_dims) for o in step.operands]
                             for step in prologue]
        self.vtype = vtype = VectorType(element, [lanes])
        self.fill = fill = float("-inf") if mode == "max" else 0.0
        self.weights = k.buffer(weight) if weight is not None else None
        self.divisors = k.weight(divisor.reshape(-1)) if divisor is not None else None
        self.accesses = [[operand.access(k, self.out_dims) for operand in step.operands]
                         for step in steps]

        # the padded plane: every cell any lane of any tap reads, origin at (-top, -left)
        (kh, kw), (sh, sw), (dh, dw) = self.kernel, self.stride, self.dilation
        last_start = (ow - 1) // lanes * lanes
        self.padded_h = padded_h = (oh - 1) * sh + (kh - 1) * dh + 1
        self.padded_w = padded_w = last_start * sw + lanes * sw + (kw - 1) * dw
        self.copy_h, self.copy_w = min(h, padded_h - top), min(w, padded_w - left)
        self.scratch = scratch = E.alloca(padded_h * padded_w)
        cells = padded_h * padded_w
        with E.loop(0, cells - cells % lanes, lanes) as cell:
            E.vstore(E.const(fill, vtype), scratch, cell.iv)
        with E.loop(cells - cells % lanes, cells) as cell:
            E.store(E.const(fill, element), scratch, cell.iv)

    def plane(self, plane: Index) -> None:
        """Output plane `plane` (= image * channels + channel) of the result."""
        k, E = self.k, self.k.E
        n, c_in, h, w = self.in_dims
        image = E.idiv(plane, self.out_dims[1])
        channel = E.irem(plane, self.out_dims[1])
        source = E.iadd(E.imul(image, c_in), E.idiv(channel, self.channels_per_group))
        in_base = E.imul(source, h * w)
        with E.loop(0, self.copy_h) as r:  # the plane's rows into the padded plane
            if self.x is not None:
                self._copy_row(r.iv, self.x, E.iadd(in_base, E.imul(r.iv, w)))
            else:
                target = E.iadd(E.imul(E.iadd(r.iv, self.top), self.padded_w), self.left)
                _prologue_run(k, self.prologue, self.pro_accesses,
                              [image, E.idiv(channel, self.channels_per_group), r.iv],
                              self.scratch, target, self.copy_w, self.element)
        self._rows(plane, 0, self.out_dims[2])

    def band(self, plane: Index, first: Index, last: Index,
             input_row: Callable[[Index], tuple[SSAValue, Index]]) -> None:
        """Output rows [first, last) of plane `plane`, reading each input row r they need
        where `input_row(r)` says (buffer, index of its first element): a convolution's
        kernel passes the rows it keeps in a ring. The rows are copied into the padded
        plane at their places; rows no window of [first, last) reads keep whatever they
        hold, and the padding border is never written."""
        E = self.k.E
        (kh, _), (sh, _), (dh, _) = self.kernel, self.stride, self.dilation
        lo = E.imax(E.isub(E.imul(first, sh), self.top), 0)
        hi = E.imin(E.iadd(E.isub(E.imul(E.isub(last, 1), sh), self.top), (kh - 1) * dh + 1),
                    self.copy_h)
        with E.loop(lo, hi) as r:
            self._copy_row(r.iv, *input_row(r.iv))
        self._rows(plane, first, last)

    def _copy_row(self, r: Index, source: SSAValue, at: Index) -> None:
        """Input row r, read at source[at...], into the padded plane."""
        from .elementwise import _copy_run

        E = self.k.E
        target = E.iadd(E.imul(E.iadd(r, self.top), self.padded_w), self.left)
        _copy_run(self.k, source, at, self.scratch, target, self.copy_w)

    def _rows(self, plane: Index, first: Index, last: Index) -> None:
        """Output rows [first, last) of plane `plane` from the padded plane."""
        k, E = self.k, self.k.E
        _, c_out, oh, ow = self.out_dims
        (kh, kw), (sh, sw), (dh, dw) = self.kernel, self.stride, self.dilation
        lanes, mode, fill, element = k.lanes, self.mode, self.fill, self.element
        scratch, padded_w, y, vtype = self.scratch, self.padded_w, self.y, self.vtype
        image = E.idiv(plane, c_out)
        channel = E.irem(plane, c_out)
        with E.loop(first, last) as row, E.loop(0, ow, lanes) as col:
            ow0 = col.iv
            out_index = E.iadd(E.iadd(E.imul(plane, oh * ow), E.imul(row.iv, ow)), ow0)
            start = E.iadd(E.imul(E.imul(row.iv, sh), padded_w), E.imul(ow0, sw))

            def tap(i: Index, j: Index, acc: SSAValue) -> SSAValue:
                index = E.iadd(start, E.iadd(E.imul(i, dh * padded_w), E.imul(j, dw)))
                value = E.vload_strided(scratch, index, lanes, sw, None, fill)
                if mode == "max":
                    return E.fmax(acc, value)
                if mode == "avg":
                    return E.fadd(acc, value)
                weight_ = E.load(self.weights, E.iadd(E.imul(channel, kh * kw),
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
                    count = E.vload_where(self.divisors, at, lanes, mask, 1.0)
                    acc = E.fdiv(acc, count)
                for step, step_accesses in zip(self.steps, self.accesses, strict=True):
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
                E.vstore_where(acc, y, out_index, mask)

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
                   prologue: Sequence[Operation] = (), plane_epilogue: Operation | None = None) -> None:
    """A grouped convolution with one input channel per group (depthwise, or depthwise
    with a channel multiplier); a `prologue` is applied as the input is copied into the
    padded plane, a `plane_epilogue` of the result (a pooling) takes each plane once
    written (`emit_window`)."""
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
                prologue=chain_steps(k, prologue, None),
                plane_epilogue=plane_epilogue)


def _emit_adaptive(k: Kernel, op: nn.AdaptiveAvgPool2dOp) -> None:
    """Global pooling (a row reduction per plane, split over threads) or bins that do not
    tile the input (`_AdaptiveBins`)."""
    n, c, h, w = shape(op.input)
    if _ints(op.output_size) == (1, 1):
        from .reductions import _parallel_range

        mean = _GlobalMean(k, op)
        lo, hi = _parallel_range(k, n * c, n * c * h * w)
        with k.E.loop(lo, hi) as plane:
            mean.plane(plane.iv)
        return
    bins = _AdaptiveBins(k, op)
    with k.E.loop(0, n * c) as plane:
        bins.plane(plane.iv)


class _AdaptiveBins:
    """Bin i over a dim of size s covers [floor(i*s/n), ceil((i+1)*s/n)); the mean is the
    bin's sum divided by its size (scalar loops: bins of different sizes)."""

    def __init__(self, k: Kernel, op: nn.AdaptiveAvgPool2dOp):
        self.k, self.op = k, op
        self.x, self.y = k.buffer(op.input), k.buffer(op.result)

    def plane(self, plane: Index) -> None:
        E, x, y = self.k.E, self.x, self.y
        n, c, h, w = shape(self.op.input)
        oh, ow = _ints(self.op.output_size)
        element = x.type.element_type  # type: ignore[attr-defined]
        with E.loop(0, oh) as i, E.loop(0, ow) as j:
            h0 = E.idiv(E.imul(i.iv, h), oh)
            h1 = E.idiv(E.iadd(E.imul(i.iv, h), h + oh - 1), oh)
            w0 = E.idiv(E.imul(j.iv, w), ow)
            w1 = E.idiv(E.iadd(E.imul(j.iv, w), w + ow - 1), ow)
            base = E.imul(plane, h * w)
            with E.loop(h0, h1, carried=[E.const(0.0, element)]) as r:
                with E.loop(w0, w1, carried=[r.args[0]]) as s:
                    s.next(E.fadd(s.args[0], E.load(x, E.iadd(base, E.iadd(E.imul(r.iv, w),
                                                                            s.iv)))))
                r.next(s.results[0])
            count = E.imul(E.isub(h1, h0), E.isub(w1, w0))
            as_int = E.cast_index(E.index(count), IntegerType(64))
            mean = E.fdiv(r.results[0], E.value(arith.SIToFPOp(as_int, element)))
            E.store(mean, y, E.iadd(E.imul(plane, oh * ow), E.iadd(E.imul(i.iv, ow), j.iv)))


class _BroadcastPlane:
    """out[p, j] = op(s[p], x[p, j]) (in op's operand order) for the H * W elements j of
    plane p: a binary op that broadcasts the kernel's result s, (N, C, 1, 1), over the
    planes of x, (N, C, H, W). One vector loop along the contiguous plane; s[p] was just
    stored by the same thread."""

    def __init__(self, k: Kernel, op: Operation, result: SSAValue):
        self.k = k
        chain = k.resolve(result)
        operands = [k.resolve(v) for v in op.operands]
        first = operands[0] is chain
        other = operands[1] if first else operands[0]
        self.s, self.x, self.out = k.buffer(chain), k.buffer(other), k.buffer(op.results[0])
        _, _, h, w = shape(other)
        self.size = h * w
        fn = binary_fn(op)
        self.fn: Fn = (lambda E, v: fn(E, v[0], v[1])) if first else \
            (lambda E, v: fn(E, v[1], v[0]))

    def plane(self, plane: Index) -> None:
        k = self.k
        base = k.E.imul(plane, self.size)
        _inner_loop(k, self.size, k.lanes if self.size >= 4 else 1, [base, plane, base],
                    [1, 0, 1], Access(self.out, (1,)),
                    [Access(self.s, (0,)), Access(self.x, (1,))], self.fn, f32)


class _GlobalMean:
    """Each plane's mean: a vector sum along the contiguous plane, then sum / size."""

    def __init__(self, k: Kernel, op: nn.AdaptiveAvgPool2dOp):
        self.k, self.op = k, op
        self.x, self.y = k.buffer(op.input), k.buffer(op.result)
        _, _, h, w = shape(op.input)
        self.size = h * w

    def plane(self, plane: Index) -> None:
        from .reductions import _reduce_row

        k, E = self.k, self.k.E
        element = self.x.type.element_type  # type: ignore[attr-defined]
        total = _reduce_row(k, self.x, E.imul(plane, self.size), [(self.size, 1)], k.lanes,
                            lambda E_, a, b: E_.fadd(a, b), 0.0, "sum", element)
        E.store(E.fdiv(total, E.const(float(self.size), element)), self.y, plane)
