"""Reductions and the row-wise normalisations built on them: reduce_sum/mean/max,
softmax, layer_norm.

Dims are merged into runs of reduced and kept dims. When the innermost run is reduced,
each output element is one vector accumulator walked along the contiguous row (masked
tail), reduced horizontally at the end; when it is kept, a vector of neighbouring outputs
accumulates together. Softmax and layer norm work on rows [outer, n, inner] the same way.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from math import prod

from xdsl.dialects import arith
from xdsl.dialects import math as xmath
from xdsl.dialects.builtin import AnyFloat, IntegerType, VectorType
from xdsl.ir import Operation, SSAValue

from sparsec.dialects import nn

from ..emitter import Emitter, Index
from .base import Kernel, shape
from .elementwise import PARALLEL_MIN_ELEMENTS, Access, _read, contiguous_strides

Combine = Callable[[Emitter, SSAValue, SSAValue], SSAValue]


def _neutral(kind: str, element) -> float | int:
    if kind == "max":
        if isinstance(element, IntegerType):
            return -(1 << (element.width.data - 1))
        return float("-inf")
    return 0 if isinstance(element, IntegerType) else 0.0


def _combine(kind: str, element) -> Combine:
    if isinstance(element, IntegerType):
        op = arith.MaxSIOp if kind == "max" else arith.AddiOp
        return lambda E, a, b: E.value(op(a, b))
    return (lambda E, a, b: E.fmax(a, b)) if kind == "max" else (lambda E, a, b: E.fadd(a, b))


def _runs(dims: list[int], reduced: list[bool]) -> tuple[list[int], list[int], list[bool]]:
    """Merge neighbouring dims of the same kind (the input is contiguous); drop size 1.
    Returns (sizes, input strides, reduced?)."""
    strides = contiguous_strides(dims)
    sizes, steps, kinds = [], [], []
    for size, stride, kind in zip(dims, strides, reduced, strict=True):
        if size == 1:
            continue
        if kinds and kinds[-1] == kind and steps[-1] == stride * size:
            sizes[-1] *= size
            steps[-1] = stride
            continue
        sizes.append(size)
        steps.append(stride)
        kinds.append(kind)
    return sizes, steps, kinds


def _parallel_range(k: Kernel, count: int, work: int) -> tuple[Index, Index]:
    if k.threads > 1 and count > 1 and work >= PARALLEL_MIN_ELEMENTS and k.tiles is None:
        return k.tile_range(count)
    return 0, count


def epilogue_supported(consumer: Operation, chain: SSAValue, resolve) -> bool:
    """Can a reduction apply `consumer` to its reduced value before the store? Its other
    operands must be one element (an epsilon) or have the result's shape (read at the
    same flat index), in floating point."""
    if not isinstance(chain.type.get_element_type(), AnyFloat):  # type: ignore[attr-defined]
        return False
    others = [v for v in consumer.operands if resolve(v) is not resolve(chain)]
    return all(prod(shape(v)) == 1 or shape(v) == shape(chain) for v in others)


def emit_reduce(k: Kernel, op: nn.ReduceSumOp | nn.ReduceMeanOp | nn.ReduceMaxOp,
                epilogue: Sequence[Operation] = ()) -> None:
    """The reduction, then the element-wise `epilogue` on each reduced value before its
    store (a decomposed norm's `+ eps`, `sqrt`)."""
    from .epilogue import chain_steps

    E = k.E
    dims = list(shape(op.input))
    axes = set(op.normalized_axes())
    kind = "max" if isinstance(op, nn.ReduceMaxOp) else "sum"
    result = (epilogue[-1] if epilogue else op).results[0]
    x, y = k.buffer(op.input), k.buffer(result)
    steps = list(chain_steps(k, epilogue, op.result))
    accesses = [[o.access(k, shape(op.result)) for o in step.operands] for step in steps]
    element = x.type.element_type  # type: ignore[attr-defined]
    sizes, strides, reduced = _runs(dims, [d in axes for d in range(len(dims))])
    count = prod(dims[d] for d in axes)
    kept = [(s, t) for s, t, r in zip(sizes, strides, reduced, strict=True) if not r]
    gone = [(s, t) for s, t, r in zip(sizes, strides, reduced, strict=True) if r]
    out_strides = contiguous_strides([s for s, _ in kept])
    lanes = k.lanes if isinstance(element, AnyFloat) else 1
    combine = _combine(kind, element)
    neutral = _neutral(kind, element)

    def finish(value: SSAValue, index: Index, mask: SSAValue | None) -> SSAValue:
        """Mean's division, then the epilogue, for the output(s) at flat `index`."""
        if isinstance(op, nn.ReduceMeanOp):
            value = E.fdiv(value, E.like(float(count), value))
        width = value.type.get_shape()[0] if isinstance(value.type, VectorType) else 1
        for step, step_accesses in zip(steps, accesses, strict=True):
            values = [_read(k, a, E.iadd(a.offset, index) if any(a.strides) else a.offset,
                            1 if any(a.strides) else 0, width, mask, element)
                      for a in step_accesses]
            value = step.apply(E, value, values)
        return value

    inner_kept = bool(reduced) and not reduced[-1] and lanes > 1 and sizes[-1] >= 4
    outer = kept[:-1] if inner_kept else kept
    lo, hi = _parallel_range(k, outer[0][0] if outer else 1, prod(dims))

    def nest(depth: int, in_base: Index, out_base: Index) -> None:
        if depth < len(outer):
            size, stride = outer[depth]
            bounds = (lo, hi) if depth == 0 else (0, size)
            with E.loop(*bounds) as loop:
                nest(depth + 1, E.iadd(in_base, E.imul(loop.iv, stride)),
                     E.iadd(out_base, E.imul(loop.iv, out_strides[depth])))
            return
        if inner_kept:
            _reduce_kept_inner(k, x, y, in_base, out_base, kept[-1], gone, lanes, combine,
                               neutral, finish)
        else:
            total = _reduce_row(k, x, in_base, gone, lanes, combine, neutral, kind, element)
            E.store(finish(total, out_base, None), y, out_base)

    nest(0, 0, 0)


def _reduce_row(k: Kernel, x: SSAValue, base: Index, gone: list[tuple[int, int]], lanes: int,
                combine: Combine, neutral, kind: str, element) -> SSAValue:
    """Reduce x over the `gone` dims starting at `base`: a vector accumulator along the
    innermost (contiguous) dim, then horizontally."""
    E = k.E
    if not gone:
        return E.load(x, base)
    vector = lanes > 1 and gone[-1][1] == 1 and gone[-1][0] >= 4
    width = lanes if vector else 1
    acc_type = VectorType(element, [width]) if vector else element
    start = E.const(neutral, acc_type)

    def nest(depth: int, index: Index, acc: SSAValue) -> SSAValue:
        size, stride = gone[depth]
        if depth == len(gone) - 1:
            if not vector:
                with E.loop(0, size, carried=[acc]) as loop:
                    loop.next(combine(E, loop.args[0], E.load(x, E.iadd(index, loop.iv))
                                      if stride == 1 else
                                      E.load(x, E.iadd(index, E.imul(loop.iv, stride)))))
                return loop.results[0]
            full = size - size % width
            if full:
                with E.loop(0, full, width, carried=[acc]) as loop:
                    loop.next(combine(E, loop.args[0], E.vload(x, E.iadd(index, loop.iv), width)))
                acc = loop.results[0]
            if full < size:
                mask = E.prefix_mask(size - full, width)
                tail = E.vload_masked(x, E.iadd(index, full), mask, E.const(neutral, acc_type))
                acc = combine(E, acc, tail)
            return acc
        with E.loop(0, size, carried=[acc]) as loop:
            loop.next(nest(depth + 1, E.iadd(index, E.imul(loop.iv, stride)), loop.args[0]))
        return loop.results[0]

    acc = nest(0, base, start)
    if vector:
        return E.reduce("max" if kind == "max" else "add", acc)
    return acc


def _reduce_kept_inner(k: Kernel, x: SSAValue, y: SSAValue, in_base: Index, out_base: Index,
                       inner: tuple[int, int], gone: list[tuple[int, int]], lanes: int,
                       combine: Combine, neutral, finish) -> None:
    """The innermost dim is kept: a vector of neighbouring outputs accumulates together."""
    E = k.E
    size, _ = inner
    element = x.type.element_type  # type: ignore[attr-defined]
    vtype = VectorType(element, [lanes])

    def chunk(j: Index, mask: SSAValue | None) -> None:
        def load(index: Index) -> SSAValue:
            return E.vload_where(x, index, lanes, mask, neutral)

        def nest(depth: int, index: Index, acc: SSAValue) -> SSAValue:
            if depth == len(gone):
                return combine(E, acc, load(index))
            count, stride = gone[depth]
            with E.loop(0, count, carried=[acc]) as loop:
                loop.next(nest(depth + 1, E.iadd(index, E.imul(loop.iv, stride)), loop.args[0]))
            return loop.results[0]

        result = finish(nest(0, E.iadd(in_base, j), E.const(neutral, vtype)),
                        E.iadd(out_base, j), mask)
        E.vstore_where(result, y, E.iadd(out_base, j), mask)

    full = size - size % lanes
    if full:
        with E.loop(0, full, lanes) as loop:
            chunk(loop.iv, None)
    if full < size:
        chunk(full, E.prefix_mask(size - full, lanes))


# --- softmax and layer norm -------------------------------------------------------------


def _rows(dims: tuple[int, ...], axis: int) -> tuple[int, int, int]:
    return prod(dims[:axis]), dims[axis], prod(dims[axis + 1:])


def emit_softmax(k: Kernel, op: nn.SoftmaxOp) -> None:
    """y = exp(x - max) / sum(exp(x - max)) along the axis."""
    E = k.E
    dims = shape(op.input)
    axis = op.axis.value.data % len(dims)
    outer, n, inner = _rows(dims, axis)
    x, y = k.buffer(op.input), k.buffer(op.result)
    element = x.type.element_type  # type: ignore[attr-defined]
    lanes = k.lanes
    lo, hi = _parallel_range(k, outer, prod(dims))
    with E.loop(lo, hi) as row:
        base = E.imul(row.iv, n * inner)
        if inner == 1:
            _softmax_row(k, x, y, base, n, lanes, element)
        else:
            _softmax_columns(k, x, y, base, n, inner, lanes, element)


def _softmax_row(k: Kernel, x: SSAValue, y: SSAValue, base: Index, n: int, lanes: int,
                 element) -> None:
    """Softmax of one contiguous row of n elements."""
    E = k.E
    vtype = VectorType(element, [lanes])
    full = n - n % lanes
    tail = E.prefix_mask(n - full, lanes) if full < n else None
    # max
    acc = E.const(float("-inf"), vtype)
    if full:
        with E.loop(0, full, lanes, carried=[acc]) as loop:
            loop.next(E.fmax(loop.args[0], E.vload(x, E.iadd(base, loop.iv), lanes)))
        acc = loop.results[0]
    if tail is not None:
        acc = E.fmax(acc, E.vload_masked(x, E.iadd(base, full), tail,
                                         E.const(float("-inf"), vtype)))
    peak = E.splat(E.reduce("max", acc), lanes)
    # exp and sum, exponentials stored in y
    total = E.const(0.0, vtype)
    if full:
        with E.loop(0, full, lanes, carried=[total]) as loop:
            index = E.iadd(base, loop.iv)
            e = E.math(xmath.ExpOp, E.fsub(E.vload(x, index, lanes), peak))
            E.vstore(e, y, index)
            loop.next(E.fadd(loop.args[0], e))
        total = loop.results[0]
    if tail is not None:
        index = E.iadd(base, full)
        e = E.math(xmath.ExpOp, E.fsub(E.vload_masked(x, index, tail, E.const(0.0, vtype)), peak))
        E.vstore_masked(e, y, index, tail)
        total = E.fadd(total, E.select(tail, e, E.const(0.0, vtype)))
    denominator = E.splat(E.reduce("add", total), lanes)
    # normalise
    if full:
        with E.loop(0, full, lanes) as loop:
            index = E.iadd(base, loop.iv)
            E.vstore(E.fdiv(E.vload(y, index, lanes), denominator), y, index)
    if tail is not None:
        index = E.iadd(base, full)
        value = E.vload_masked(y, index, tail, E.const(1.0, vtype))
        E.vstore_masked(E.fdiv(value, denominator), y, index, tail)


def _softmax_columns(k: Kernel, x: SSAValue, y: SSAValue, base: Index, n: int, inner: int,
                     lanes: int, element) -> None:
    """Softmax along a strided axis: vectors of `inner` neighbours at a time."""
    E = k.E
    vtype = VectorType(element, [lanes])
    width = lanes if inner >= 4 else 1

    def chunk(j: Index, mask: SSAValue | None) -> None:
        def load(buffer: SSAValue, index: Index, fill: float) -> SSAValue:
            if width == 1:
                return E.load(buffer, index)
            return E.vload_where(buffer, index, lanes, mask, fill)

        def store(value: SSAValue, index: Index) -> None:
            if width == 1:
                E.store(value, y, index)
            else:
                E.vstore_where(value, y, index, mask)

        typ = vtype if width > 1 else element
        start = E.iadd(base, j)
        with E.loop(0, n, carried=[E.const(float("-inf"), typ)]) as loop:
            loop.next(E.fmax(loop.args[0], load(x, E.iadd(start, E.imul(loop.iv, inner)),
                                                  float("-inf"))))
        peak = loop.results[0]
        with E.loop(0, n, carried=[E.const(0.0, typ)]) as loop:
            index = E.iadd(start, E.imul(loop.iv, inner))
            e = E.math(xmath.ExpOp, E.fsub(load(x, index, 0.0), peak))
            store(e, index)
            loop.next(E.fadd(loop.args[0], e))
        total = loop.results[0]
        with E.loop(0, n) as loop:
            index = E.iadd(start, E.imul(loop.iv, inner))
            store(E.fdiv(load(y, index, 1.0), total), index)

    if width == 1:
        with E.loop(0, inner) as loop:
            chunk(loop.iv, None)
        return
    full = inner - inner % lanes
    if full:
        with E.loop(0, full, lanes) as loop:
            chunk(loop.iv, None)
    if full < inner:
        chunk(full, E.prefix_mask(inner - full, lanes))


def prologue_operands_supported(producer: Operation, dims: Sequence[int], resolve) -> bool:
    """Can layer_norm's row loops read every operand of the element-wise `producer`? Each
    must have the input's shape (a buffer, or a folded view whose normalised dims are
    contiguous: `rows_contiguous`), or be a one-element constant."""
    from .epilogue import BINARY, UNARY

    if not isinstance(producer, UNARY + BINARY) or dims[-1] == 1:
        return False
    return all(shape(v) == tuple(dims) or prod(shape(v)) == 1 for v in producer.operands)


def rows_contiguous(strides: Sequence[int], dims: Sequence[int], normalised: int) -> bool:
    """Whether a view of shape `dims` holds each row of its last `normalised` dims as one
    contiguous run, so layer_norm reads it at (the row's base) + j. (A dim of size 1
    has no stride that matters.)"""
    inner = len(dims) - normalised
    return all(stride == want for stride, want, size in zip(
        strides[inner:], contiguous_strides(dims[inner:]), dims[inner:], strict=True)
        if size > 1)


def _row_base(k: Kernel, access: Access, dims: Sequence[int], normalised: int,
              row: Index) -> Index:
    """offset + sum over the outer dims d of (row's index along d) * strides[d]."""
    E = k.E
    outer = len(dims) - normalised
    if tuple(access.strides) == contiguous_strides(dims):
        return E.iadd(access.offset, E.imul(row, prod(dims[outer:])))
    indices = E.unflatten(row, dims[:outer])
    return E.linear(list(zip(indices, access.strides[:outer], strict=True)), access.offset)


def emit_layer_norm(k: Kernel, op: nn.LayerNormOp, prologue: Sequence[Operation] = ()) -> None:
    """Per row of n = numel(weight) elements: mean, biased variance of the centred row,
    y = (x - mean) * rstd * weight + bias (the interpreter's order). A `prologue`
    (element-wise ops whose chain ends in the input, e.g. a residual add) is evaluated
    wherever x is read: the three passes over a row recompute it instead of storing it.
    Each prologue operand is read at its own row base (a folded transpose of the rows,
    e.g. attention's (S, B, E) -> (B, S, E), reads its base's rows in place) + j. A
    transpose of the result that keeps the normalised dims last is stored at its own row
    base too, instead of or besides the result (`views.transpose_in_place`)."""
    from .epilogue import chain_steps

    E = k.E
    dims = shape(op.input)
    n = prod(shape(op.weight))
    rows = prod(dims) // n
    steps = list(chain_steps(k, prologue, None))
    accesses = [[o.access(k, dims) for o in step.operands] for step in steps]
    x = None if prologue else k.buffer(op.input)
    y = k.buffer(op.result)
    # stored at the strides of its transpose's buffer, or there as well
    # (`views.transpose_in_place`)?
    stored = k.strided.get(k.resolve(op.result))
    also = k.also.get(k.resolve(op.result))
    y2 = None if also is None else k.buffer(also[0])
    w, b = k.buffer(op.weight), k.buffer(op.bias)
    element = y.type.element_type  # type: ignore[attr-defined]
    lanes = k.lanes
    vtype = VectorType(element, [lanes])
    full = n - n % lanes
    epsilon = op.epsilon.value.data
    lo, hi = _parallel_range(k, rows, prod(dims))
    normalised = len(shape(op.weight))
    with E.loop(lo, hi) as row:
        base = E.imul(row.iv, n)
        row_bases = [[_row_base(k, a, dims, normalised, row.iv) if any(a.strides) else a.offset
                      for a in step_accesses] for step_accesses in accesses]
        out_base = base if stored is None else _row_base(k, Access(y, stored), dims,
                                                         normalised, row.iv)
        also_base = None if also is None else _row_base(k, Access(y2, also[1]), dims,
                                                        normalised, row.iv)
        tail = E.prefix_mask(n - full, lanes) if full < n else None
        zero = E.const(0.0, vtype)

        def row_sum(term) -> SSAValue:
            acc = zero
            if full:
                with E.loop(0, full, lanes, carried=[acc]) as loop:
                    loop.next(E.fadd(loop.args[0], term(loop.iv, None)))
                acc = loop.results[0]
            if tail is not None:
                acc = E.fadd(acc, E.select(tail, term(full, tail), zero))
            return E.reduce("add", acc)

        def load(j: Index, mask: SSAValue | None) -> SSAValue:
            """The input's elements j.. of this row."""
            if x is None:
                value: SSAValue | None = None
                for step, step_accesses, bases in zip(steps, accesses, row_bases,
                                                      strict=True):
                    values = [_read(k, a, E.iadd(at, j) if any(a.strides) else at,
                                    a.strides[-1], lanes, mask, element)
                              for a, at in zip(step_accesses, bases, strict=True)]
                    value = step.apply(E, value, values)  # one element: always its offset
                assert value is not None
                return value
            return E.vload_where(x, E.iadd(base, j), lanes, mask)

        mean_scalar = E.fdiv(row_sum(load), E.const(float(n), element))
        mean = E.splat(mean_scalar, lanes)

        def squared(j: Index, mask: SSAValue | None) -> SSAValue:
            centred = E.fsub(load(j, mask), mean)
            return E.fmul(centred, centred)

        var = E.fdiv(row_sum(squared), E.const(float(n), element))
        rstd_scalar = E.fdiv(E.const(1.0, element),
                             E.math(xmath.SqrtOp, E.fadd(var, E.const(epsilon, element))))
        rstd = E.splat(rstd_scalar, lanes)

        def normalise(j: Index, mask: SSAValue | None) -> None:
            index = E.iadd(out_base, j)
            wv, bv = E.vload_where(w, j, lanes, mask), E.vload_where(b, j, lanes, mask)
            value = E.fadd(E.fmul(E.fmul(E.fsub(load(j, mask), mean), rstd), wv), bv)
            targets = [(y, index)]
            if y2 is not None:
                targets.append((y2, E.iadd(also_base, j)))
            for buffer, at in targets:
                E.vstore_where(value, buffer, at, mask)

        if full:
            with E.loop(0, full, lanes) as loop:
                normalise(loop.iv, None)
        if tail is not None:
            normalise(full, tail)
