"""Contractions on a register-blocked, vectorised GEMM micro-kernel: conv2d (im2col
panels), linear and matmul.

The micro-kernel computes an `mr` x `nv * lanes` block of C = A.B in `mr * nv` vector
accumulators: per k step it loads `nv` vectors of B (a packed panel [k][nr]), broadcasts
`mr` scalars of A, and issues `mr * nv` vector FMAs. The block shape comes from the
target (`Target.gemm_block`: 6 x 16 on AVX2, 8 x 32 on AVX-512, 8 x 8 on NEON).

conv2d, NCHW: C[co, q] = sum_k W[co, k] im2col[k, q] with k = (ci, kh, kw) and q an output
position. Rows of C are output channels, so A is the weight, packed at compile time into
[Cout/mr][K][mr] (zero rows pad the last block). Columns run over output rows padded to a
multiple of the vector width, so each vector of a panel lies within one output row: the
im2col panel is packed with (strided) masked vector loads, padding lanes read zeros, and C
is stored with masked vector stores. Large K is cut into blocks of whole input channels;
partial sums go through the output buffer. Depthwise convolutions use the window kernel
(`pooling.emit_depthwise`).

linear / matmul: C[m, n] = sum_k A[m, k] B[k, n], A read in place (row-major), B packed
into panels [n/nr][K][nr]: at compile time when it is a constant (linear weights), per
tile otherwise.

Work is split into tiles (image, group, panel chunk, row chunk) that threads share; the
epilogue (bias, batch norm, residual add, activations) is applied to the accumulators
before the single store.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from math import prod

import numpy as np
from xdsl.dialects import arith
from xdsl.dialects.builtin import IntegerType, VectorType, f32, i1
from xdsl.ir import Operation, SSAValue

from sparsec.dialects import nn

from ..emitter import Emitter, Index
from .base import Kernel, shape
from .elementwise import Access, _read, broadcast_strides
from .epilogue import Operand, Step, chain_steps

I32 = IntegerType(32)
SCRATCH_BYTES = 96 * 1024
"""Budget of a tile's packed B panels (stays in L2 while the tile's rows stream by)."""
K_BLOCK = 320
"""Largest K block of a convolution (a packed panel [K][nr] stays in L1)."""


def _ints(attr) -> tuple[int, ...]:
    return tuple(int(v) for v in attr.get_values())


def ceil_div(a: int, b: int) -> int:
    return -(-a // b)


# --- epilogue operands ------------------------------------------------------------------


def epilogue_supported(producer: Operation, consumer: Operation, chain: SSAValue,
                       resolve) -> bool:
    """Can the GEMM of `producer` read the consumer's other operands at its tile indices?
    They must be contiguous or broadcast along the innermost output dim (the vector)."""
    dims = shape(chain)
    if isinstance(consumer, nn.BatchNormOp):
        channel = (dims[1],) + (1,) * (len(dims) - 2)
        return broadcast_strides(channel, dims)[-1] in (0, 1)
    others = [v for v in consumer.operands if resolve(v) is not resolve(chain)]
    return all(broadcast_strides(shape(v), dims)[-1] in (0, 1) for v in others)


# --- the micro-kernel -------------------------------------------------------------------


@dataclass
class Panel:
    """Where the micro-kernel reads B: buffer[base + k * nr + v * lanes]."""

    buffer: SSAValue
    base: Index
    nr: int


def micro_kernel(E: Emitter, mr: int, nv: int, lanes: int, k_count: Index,
                 a: SSAValue, a_row: Callable[[int], Index], a_step: int, b: Panel,
                 acc: list[list[SSAValue]]) -> list[list[SSAValue]]:
    """acc[i][v] += A[row i, k] * B[k, v-th vector] for k < k_count; A[row i, k] is at
    a[a_row(i) + k * a_step]."""
    flat = [value for row in acc for value in row]
    with E.loop(0, k_count, carried=flat) as loop:
        kk = loop.iv
        b_base = E.iadd(b.base, E.imul(kk, b.nr))
        vectors = [E.vload(b.buffer, E.iadd(b_base, v * lanes), lanes) for v in range(nv)]
        a_offset = E.imul(kk, a_step)
        results = []
        for i in range(mr):
            scalar = E.load(a, E.iadd(a_row(i), a_offset))
            broadcast = E.splat(scalar, lanes)
            for v in range(nv):
                results.append(E.fma(broadcast, vectors[v], loop.args[i * nv + v]))
        loop.next(*results)
    out = loop.results
    return [[out[i * nv + v] for v in range(nv)] for i in range(mr)]


def _zeros(E: Emitter, mr: int, nv: int, lanes: int) -> list[list[SSAValue]]:
    zero = E.const(0.0, VectorType(f32, [lanes]))
    return [[zero] * nv for _ in range(mr)]


@dataclass
class Column:
    """One vector of C's columns: element index offset and lane mask."""

    offset: Index
    mask: SSAValue | None
    position: list[Index]  # output indices of lane 0 along the column dims


def _apply_steps(k: Kernel, steps: Sequence[Step], accesses: list[list[Access]],
                 value: SSAValue, row_index: list[Index], column: Column) -> SSAValue:
    E = k.E
    for step, step_accesses in zip(steps, accesses, strict=True):
        values = []
        for access in step_accesses:
            base: Index = access.offset
            ivs = [*row_index, *column.position]
            for iv, stride in zip(ivs, access.strides, strict=True):
                base = E.iadd(base, E.imul(iv, stride))
            values.append(_read(k, access, base, access.strides[-1], k.lanes, column.mask, f32))
        value = step.apply(E, value, values)
    return value


def _store(E: Emitter, value: SSAValue, buffer: SSAValue, index: Index,
           mask: SSAValue | None) -> None:
    if mask is None:
        E.vstore(value, buffer, index)
    else:
        E.vstore_masked(value, buffer, index, mask)


def _load(E: Emitter, buffer: SSAValue, index: Index, mask: SSAValue | None,
          lanes: int) -> SSAValue:
    if mask is None:
        return E.vload(buffer, index, lanes)
    return E.vload_masked(buffer, index, mask, E.const(0.0, VectorType(f32, [lanes])))


def _guarded_rows(E: Emitter, rows: int, mr: int, m0: Index, body: Callable[[int], None]) -> None:
    """body(i) for the micro-tile's rows i; rows past the last (`rows`) are skipped."""
    tail = rows % mr
    for i in range(mr):
        if tail == 0 or i < tail:
            body(i)
            continue
        with E.if_(E.cmpi("slt", E.iadd(m0, i), rows)):
            body(i)


# --- conv2d -----------------------------------------------------------------------------


def emit_conv2d(k: Kernel, op: nn.Conv2dOp, epilogue: Sequence[Operation]) -> None:
    if not isinstance(op.input.type.get_element_type(), type(f32)):
        raise k.fail("only f32 convolutions are supported by the code generator")
    _, c_in, _, _ = shape(op.input)
    groups = op.groups.value.data
    if groups > 1 and c_in == groups:
        from .pooling import emit_depthwise

        emit_depthwise(k, op, epilogue)
        return
    _conv_gemm(k, op, epilogue)


def _conv_gemm(k: Kernel, op: nn.Conv2dOp, epilogue: Sequence[Operation]) -> None:
    E = k.E
    lanes = k.lanes
    n, c_in, h, w = shape(op.input)
    c_out, cg, kh, kw = shape(op.weight)
    result = (epilogue[-1] if epilogue else op).results[0]
    _, _, oh, ow = shape(op.result)
    groups = op.groups.value.data
    sh, sw = _ints(op.stride)
    top, left = _ints(op.padding)[:2]
    dh, dw = _ints(op.dilation)
    rows = c_out // groups  # GEMM rows per group
    taps = kh * kw
    depth = cg * taps  # K
    mr, nv = k.target.gemm_block
    mr = min(mr, rows)
    nr = nv * lanes
    owp = ceil_div(ow, lanes) * lanes
    columns = oh * owp
    panels = ceil_div(columns, nr)
    row_blocks = ceil_div(rows, mr)

    # K blocks of whole input channels
    block_channels = max(1, min(cg, K_BLOCK // taps))
    blocks = ceil_div(cg, block_channels)
    kc = block_channels * taps
    chunk = max(1, min(panels, SCRATCH_BYTES // (kc * nr * 4)))
    chunks = ceil_div(panels, chunk)
    row_chunks = 1
    while (n * groups * chunks * row_chunks < 4 * k.threads and row_chunks < row_blocks):
        row_chunks *= 2
    chunk_blocks = ceil_div(row_blocks, row_chunks)
    row_chunks = ceil_div(row_blocks, chunk_blocks)
    tiles = n * groups * chunks * row_chunks

    # A: the weight, packed [group][row block][K][mr] when constant
    weight = k.constant(op.weight)
    if weight is not None:
        packed = np.zeros((groups, row_blocks * mr, depth), np.float32)
        packed[:, :rows] = weight.reshape(groups, rows, depth)
        packed = packed.reshape(groups, row_blocks, mr, depth).transpose(0, 1, 3, 2)
        a = k.weight(np.ascontiguousarray(packed), ("conv-a", id(weight), mr))
        a_step = mr

        def a_row(g: Index, block: Index, i: int, k0: Index) -> Index:
            return E.iadd(E.imul(E.iadd(E.imul(g, row_blocks), block), depth * mr),
                          E.iadd(E.imul(k0, mr), i))
    else:
        a = k.buffer(op.weight)
        a_step = 1

        def a_row(g: Index, block: Index, i: int, k0: Index) -> Index:
            row = E.imin(E.iadd(E.imul(block, mr), i), rows - 1)
            return E.iadd(E.imul(E.iadd(E.imul(g, rows), row), depth), k0)

    x = k.buffer(op.input)
    y = k.buffer(result)
    steps = list(chain_steps(k, epilogue, op.result))
    if op.bias is not None:
        steps.insert(0, Step(op, [Operand((c_out, 1, 1), op.bias)], 0,
                             lambda E_, v: E_.fadd(v[0], v[1])))
    out_dims = shape(result)
    accesses = [[o.access(k, out_dims) for o in step.operands] for step in steps]
    scratch = E.alloca(chunk * kc * nr)
    iota = E.iota(lanes, I32)
    vec_i32 = VectorType(I32, [lanes])
    lo, hi = k.tile_range(tiles)

    with E.loop(lo, hi) as tile:
        t = tile.iv
        row_chunk = E.irem(t, row_chunks)
        t = E.idiv(t, row_chunks)
        panel_chunk = E.irem(t, chunks)
        t = E.idiv(t, chunks)
        g = E.irem(t, groups)
        image = E.idiv(t, groups)
        first_panel = E.imul(panel_chunk, chunk)
        panel_count = E.imin(chunk, E.isub(panels, first_panel))
        first_block = E.imul(row_chunk, chunk_blocks)
        last_block = E.imin(row_blocks, E.iadd(first_block, chunk_blocks))
        x_base = E.imul(E.iadd(E.imul(image, c_in), E.imul(g, cg)), h * w)

        def column(panel: Index, v: int) -> tuple[Index, Index, SSAValue]:
            """Output row, first column and lane mask of vector v of a panel."""
            q = E.iadd(E.imul(panel, nr), v * lanes)
            out_row = E.idiv(q, owp)
            ow0 = E.irem(q, owp)
            left_cols = E.isub(ow, ow0)
            in_row = E.cmpi("slt", out_row, oh)
            limit = E.select(in_row, E.cast_index(E.index(left_cols), I32), E.const(0, I32))
            mask = E.cmpi("slt", iota, E.splat(limit, lanes))
            return out_row, ow0, mask

        def pack(c0: Index, channels: Index) -> None:
            """scratch[p][kk][nr] = im2col rows c0*taps ... of this chunk's panels."""
            with E.loop(0, panel_count) as p:
                panel = E.iadd(first_panel, p.iv)
                for v in range(nv):
                    out_row, ow0, out_mask = column(panel, v)
                    first_col = E.iadd(E.imul(ow0, sw), -left)
                    lane_cols = E.value(arith.AddiOp(
                        E.splat(E.cast_index(E.index(first_col), I32), lanes),
                        E.value(arith.MuliOp(iota, E.const(sw, vec_i32)))))
                    for i in range(kh):
                        ih = E.iadd(E.imul(out_row, sh), i * dh - top)
                        row_ok = E.and_(E.cmpi("sge", ih, 0), E.cmpi("slt", ih, h))
                        row_mask = E.and_(out_mask, E.select(
                            row_ok, E.const(True, VectorType(i1, [lanes])),
                            E.const(False, VectorType(i1, [lanes]))))
                        clamped = E.imax(E.imin(ih, h - 1), 0)
                        for j in range(kw):
                            cols = E.value(arith.AddiOp(lane_cols, E.const(j * dw, vec_i32)))
                            inside = E.and_(E.cmpi("sge", cols, E.const(0, vec_i32)),
                                            E.cmpi("slt", cols, E.const(w, vec_i32)))
                            mask = E.and_(row_mask, inside)
                            source = E.iadd(E.iadd(x_base, E.imul(clamped, w)),
                                            E.iadd(first_col, j * dw))
                            target = E.iadd(E.imul(p.iv, kc * nr), (i * kw + j) * nr + v * lanes)
                            with E.loop(0, channels) as ci:
                                channel = E.iadd(c0, ci.iv)
                                value = E.vload_strided(x, E.iadd(source, E.imul(channel, h * w)),
                                                        lanes, sw, mask, 0.0)
                                E.vstore(value, scratch, E.iadd(target, E.imul(ci.iv, taps * nr)))

        def compute(c0: Index, channels: Index, first: bool, last: bool) -> None:
            depth_block = E.imul(channels, taps)
            with E.loop(0, panel_count) as p:
                panel = E.iadd(first_panel, p.iv)
                cols = [column(panel, v) for v in range(nv)]
                with E.loop(first_block, last_block) as block:
                    m0 = E.imul(block.iv, mr)
                    # rows past the last are computed but never stored; clamping keeps
                    # their partial-sum loads inside the buffer
                    rows_c = [E.iadd(E.imul(image, c_out), E.iadd(
                        E.imul(g, rows), E.imin(E.iadd(m0, i), rows - 1)
                        if rows % mr else E.iadd(m0, i))) for i in range(mr)]
                    out_index = [[E.iadd(E.imul(E.iadd(E.imul(rows_c[i], oh), cols[v][0]), ow),
                                         cols[v][1]) for v in range(nv)] for i in range(mr)]
                    if first:
                        acc = _zeros(E, mr, nv, lanes)
                    else:
                        acc = [[_load(E, y, out_index[i][v], cols[v][2], lanes)
                                for v in range(nv)] for i in range(mr)]
                    acc = micro_kernel(
                        E, mr, nv, lanes, depth_block, a,
                        lambda i: a_row(g, block.iv, i, E.imul(c0, taps)), a_step,
                        Panel(scratch, E.imul(p.iv, kc * nr), nr), acc)

                    def store_row(i: int) -> None:
                        for v in range(nv):
                            value = acc[i][v]
                            if last:
                                channel = E.iadd(E.imul(g, rows), E.iadd(m0, i))
                                column_ = Column(out_index[i][v], cols[v][2],
                                                 [cols[v][0], cols[v][1]])
                                value = _apply_steps(k, steps, accesses, value,
                                                     [image, channel], column_)
                            _store(E, value, y, out_index[i][v], cols[v][2])

                    _guarded_rows(E, rows, mr, m0, store_row)

        if blocks == 1:
            pack(0, cg)
            compute(0, cg, True, True)
        else:
            pack(0, block_channels)
            compute(0, block_channels, True, False)
            with E.loop(1, blocks - 1) as b:
                c0 = E.imul(b.iv, block_channels)
                pack(c0, block_channels)
                compute(c0, block_channels, False, False)
            c_last = (blocks - 1) * block_channels
            pack(c_last, cg - c_last)
            compute(c_last, cg - c_last, False, True)


# --- linear and matmul ------------------------------------------------------------------


def _matmul_block(k: Kernel, m: int) -> tuple[int, int]:
    mr, nv = k.target.gemm_block
    if m >= mr:
        return mr, nv
    registers = k.target.vector_registers
    return m, max(1, min(4, (registers - 1) // (m + 1)))


def emit_linear(k: Kernel, op: nn.LinearOp, epilogue: Sequence[Operation]) -> None:
    """y[..., n] = sum_k x[..., k] w[n, k] (+ bias[n])."""
    x_dims = shape(op.input)
    n_out, depth = shape(op.weight)
    m = prod(x_dims[:-1])
    steps = list(chain_steps(k, epilogue, op.result))
    if op.bias is not None:
        steps.insert(0, Step(op, [Operand((n_out,), op.bias)], 0,
                             lambda E_, v: E_.fadd(v[0], v[1])))
    weight = k.constant(op.weight)
    b_constant = weight.T if weight is not None else None
    _gemm(k, op, epilogue, batch=(), m=m, n=n_out, depth=depth, a_value=op.input,
          a_batch=(), b_value=op.weight, b_constant=b_constant, b_transposed=True,
          b_batch=(), steps=steps)


def emit_matmul(k: Kernel, op: nn.MatmulOp, epilogue: Sequence[Operation]) -> None:
    a_dims, b_dims = shape(op.lhs), shape(op.rhs)
    out_dims = shape(op.result)
    batch = out_dims[:-2]
    m, depth = a_dims[-2:]
    n = b_dims[-1]
    a_batch = broadcast_strides(a_dims[:-2], batch) if batch else ()
    b_batch = broadcast_strides(b_dims[:-2], batch) if batch else ()
    a_batch = tuple(s * m * depth for s in a_batch)
    b_batch = tuple(s * depth * n for s in b_batch)
    steps = list(chain_steps(k, epilogue, op.result))
    rhs = k.constant(op.rhs)
    _gemm(k, op, epilogue, batch=batch, m=m, n=n, depth=depth, a_value=op.lhs, a_batch=a_batch,
          b_value=op.rhs, b_constant=rhs, b_transposed=False, b_batch=b_batch, steps=steps)


def _gemm(k: Kernel, op: Operation, epilogue: Sequence[Operation], *, batch: Sequence[int],
          m: int, n: int, depth: int, a_value: SSAValue, a_batch: Sequence[int],
          b_value: SSAValue, b_constant: np.ndarray | None, b_transposed: bool,
          b_batch: Sequence[int], steps: list[Step]) -> None:
    """C[b][m, n] = A[b][m, :] . B[b][:, n] for every batch index b; B[b] is b_value read
    as [K][N] (or [N][K] when b_transposed), packed into panels."""
    E = k.E
    if not isinstance(a_value.type.get_element_type(), type(f32)):
        raise k.fail("only f32 matrix products are supported by the code generator")
    lanes = k.lanes
    mr, nv = _matmul_block(k, m)
    nr = nv * lanes
    panels = ceil_div(n, nr)
    row_blocks = ceil_div(m, mr)
    batches = prod(batch)
    result = (epilogue[-1] if epilogue else op).results[0]
    out_dims = shape(result)
    a = k.buffer(a_value)
    y = k.buffer(result)
    accesses = [[o.access(k, out_dims) for o in step.operands] for step in steps]

    if b_constant is not None:
        # packed at compile time: [batch of B][panel][K][nr], zero columns pad the last panel
        matrix = np.asarray(b_constant, np.float32)
        matrix = matrix.reshape(-1, depth, n)
        padded = np.zeros((matrix.shape[0], depth, panels * nr), np.float32)
        padded[:, :, :n] = matrix
        packed = padded.reshape(matrix.shape[0], depth, panels, nr).transpose(0, 2, 1, 3)
        b_buffer = k.weight(np.ascontiguousarray(packed), ("gemm-b", id(b_constant), nr))
        b_batch_packed = tuple(s // (depth * n) * panels * depth * nr for s in b_batch)
        chunk = max(1, min(panels, 8))
        scratch = None
    else:
        b_buffer = k.buffer(b_value)
        chunk = max(1, min(panels, SCRATCH_BYTES // (depth * nr * 4)))
        scratch = E.alloca(chunk * depth * nr)
    chunks = ceil_div(panels, chunk)
    row_chunks = 1
    while batches * chunks * row_chunks < 4 * k.threads and row_chunks < row_blocks:
        row_chunks *= 2
    chunk_blocks = ceil_div(row_blocks, row_chunks)
    row_chunks = ceil_div(row_blocks, chunk_blocks)
    tiles = batches * chunks * row_chunks
    iota = E.iota(lanes, I32)
    lo, hi = k.tile_range(tiles)

    with E.loop(lo, hi) as tile:
        t = tile.iv
        row_chunk = E.irem(t, row_chunks)
        t = E.idiv(t, row_chunks)
        panel_chunk = E.irem(t, chunks)
        flat_batch = E.idiv(t, chunks)
        batch_index: list[Index] = []
        rest: Index = flat_batch
        for size in reversed(batch):
            batch_index.insert(0, E.irem(rest, size))
            rest = E.idiv(rest, size)
        a_base = E.linear(list(zip(batch_index, a_batch, strict=True)))
        c_base = E.imul(flat_batch, m * n)
        first_panel = E.imul(panel_chunk, chunk)
        panel_count = E.imin(chunk, E.isub(panels, first_panel))
        first_block = E.imul(row_chunk, chunk_blocks)
        last_block = E.imin(row_blocks, E.iadd(first_block, chunk_blocks))

        if scratch is None:
            b_base = E.linear(list(zip(batch_index, b_batch_packed, strict=True)))

            def panel_of(p: Index) -> Panel:
                return Panel(b_buffer, E.iadd(b_base, E.imul(E.iadd(first_panel, p),
                                                             depth * nr)), nr)
        else:
            b_base = E.linear(list(zip(batch_index, b_batch, strict=True)))
            _pack_b(k, b_buffer, b_base, scratch, first_panel, panel_count, depth, n, nr, nv,
                    b_transposed, iota)

            def panel_of(p: Index) -> Panel:
                return Panel(scratch, E.imul(p, depth * nr), nr)

        with E.loop(0, panel_count) as p:
            n0 = E.imul(E.iadd(first_panel, p.iv), nr)
            masks = []
            for v in range(nv):
                left_cols = E.isub(n, E.iadd(n0, v * lanes))
                limit = E.cast_index(E.index(E.imax(E.imin(left_cols, lanes), 0)), I32)
                masks.append(None if n % nr == 0 else E.cmpi("slt", iota, E.splat(limit, lanes)))
            with E.loop(first_block, last_block) as block:
                m0 = E.imul(block.iv, mr)

                def a_row(i: int) -> Index:
                    row = E.imin(E.iadd(m0, i), m - 1) if m % mr else E.iadd(m0, i)
                    return E.iadd(a_base, E.imul(row, depth))

                acc = micro_kernel(E, mr, nv, lanes, depth, a, a_row, 1, panel_of(p.iv),
                                   _zeros(E, mr, nv, lanes))

                def store_row(i: int) -> None:
                    row = E.iadd(m0, i)
                    for v in range(nv):
                        col = E.iadd(n0, v * lanes)
                        index = E.iadd(c_base, E.iadd(E.imul(row, n), col))
                        column = Column(index, masks[v], [col])
                        value = _apply_steps(k, steps, accesses, acc[i][v],
                                             _row_ivs(E, batch_index, row, out_dims, op),
                                             column)
                        _store(E, value, y, index, masks[v])

                _guarded_rows(E, m, mr, m0, store_row)


def _row_ivs(E: Emitter, batch_index: list[Index], row: Index, out_dims: Sequence[int],
             op: Operation) -> list[Index]:
    """Output indices of all but the last dim for GEMM row `row` (linear flattens its
    leading dims into rows)."""
    if isinstance(op, nn.MatmulOp):
        return [*batch_index, row]
    leading = list(out_dims[:-1])
    ivs: list[Index] = []
    rest: Index = row
    for size in reversed(leading):
        ivs.insert(0, E.irem(rest, size))
        rest = E.idiv(rest, size)
    return ivs


def _pack_b(k: Kernel, b: SSAValue, base: Index, scratch: SSAValue, first_panel: Index,
            panel_count: Index, depth: int, n: int, nr: int, nv: int, transposed: bool,
            iota: SSAValue) -> None:
    """scratch[p][kk][nr] = B[kk, panel p's columns] (zeros past column n)."""
    E = k.E
    lanes = k.lanes
    with E.loop(0, panel_count) as p:
        n0 = E.imul(E.iadd(first_panel, p.iv), nr)
        target = E.imul(p.iv, depth * nr)
        if transposed:  # B[k][n] = b[n][k]: one column of B is a row of b
            with E.loop(0, nr) as j:
                col = E.iadd(n0, j.iv)
                valid = E.cmpi("slt", col, n)
                source = E.iadd(base, E.imul(E.imin(col, n - 1), depth))
                with E.loop(0, depth) as kk:
                    value = E.select(valid, E.load(b, E.iadd(source, kk.iv)), E.f32(0.0))
                    E.store(value, scratch, E.iadd(target, E.iadd(E.imul(kk.iv, nr), j.iv)))
        else:
            for v in range(nv):
                col = E.iadd(n0, v * lanes)
                limit = E.cast_index(E.index(E.imax(E.imin(E.isub(n, col), lanes), 0)), I32)
                mask = E.cmpi("slt", iota, E.splat(limit, lanes))
                with E.loop(0, depth) as kk:
                    value = E.vload_masked(b, E.iadd(base, E.iadd(E.imul(kk.iv, n), col)),
                                           mask, E.const(0.0, VectorType(f32, [lanes])))
                    E.vstore(value, scratch,
                             E.iadd(target, E.iadd(E.imul(kk.iv, nr), v * lanes)))
