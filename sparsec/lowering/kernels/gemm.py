"""Contractions on a register-blocked, vectorised GEMM micro-kernel: conv2d (im2col
panels), linear and matmul.

The micro-kernel computes an `mr` x `nv * lanes` block of C = A.B in `mr * nv` vector
accumulators: per k step it loads `nv` vectors of B (a packed panel [k][nr]), broadcasts
`mr` scalars of A, and issues `mr * nv` vector FMAs. The block shape comes from the
target (`Target.gemm_block`: 6 x 16 on AVX2, 8 x 32 on AVX-512, 8 x 8 on NEON). It is a
function of its own, shared by every kernel of the module with that block shape and kept
out of line (inlined into a kernel, LLVM's register allocator rotated its accumulators
through registers every iteration); it leaves the block in a small stack tile.

conv2d, NCHW: C[co, q] = sum_k W[co, k] im2col[k, q] with k = (ci, kh, kw) and q an output
position. Rows of C are output channels, so A is the weight, packed at compile time into
[Cout/mr][K][mr] (zero rows pad the last block). Columns run over output rows padded to a
multiple of the vector width, so each vector of a panel lies within one output row: the
im2col panel is packed with (strided) masked vector loads, padding lanes read zeros.
Large K is cut into blocks of whole input channels; partial sums stay in a tile-local
buffer between blocks. Depthwise convolutions use the window kernel
(`pooling.emit_depthwise`).

linear / matmul: C[m, n] = sum_k A[m, k] B[k, n], A read in place (row-major), B packed
into panels [n/nr][K][nr]: at compile time when it is a constant (linear weights), per
tile otherwise.

Work is split into tiles (image, group, panel chunk, row chunk) that threads share. The
epilogue (bias, batch norm, residual add, activations) is applied to each vector of the
finished block before its single store; vectors cut by the end of an output row use a
masked store (slow on AMD Zen, so full vectors take a plain one).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from math import prod

import numpy as np
from xdsl.dialects import arith, func, memref
from xdsl.dialects.builtin import DYNAMIC_INDEX, IntegerType, MemRefType, UnitAttr, VectorType, f32
from xdsl.ir import Block, Operation, SSAValue

from sparsec.dialects import nn

from ..emitter import INDEX, Emitter, Index
from ..func_to_llvm import NO_INLINE
from .base import Kernel, private_function, shape
from .elementwise import Access, _read, broadcast_strides, contiguous_strides
from .epilogue import Operand, Step, chain_steps
from .pooling import Window, per_plane, window_rows
from .views import matrix_strides

I32 = IntegerType(32)
SCRATCH_BYTES = 96 * 1024
"""Budget of a tile's packed B panels (stays in L2 while the tile's rows stream by)."""
K_BLOCK = 256
"""Largest K block of a convolution (a packed panel [K][nr] stays in L1)."""
SUMS_BYTES = 192 * 1024
"""Budget of a tile's partial sums between K blocks."""
RING_BYTES = 512 * 1024
"""Budget of the ring of output rows in which a convolution keeps its result for a
window pooling that is its only reader (`pool_ring`)."""
WIDEST_PANEL = 64
"""More columns than any target's GEMM panel (`Target.gemm_block`: nv * lanes)."""


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


# --- prologue operands -----------------------------------------------------------------


def prologue_supported(op: nn.Conv2dOp) -> bool:
    """Can this convolution apply element-wise ops to its input as it reads it? In f32:
    the im2col (GEMM) path while packing panels, the depthwise window kernel while
    copying each input plane into its padded plane."""
    return isinstance(op.input.type.get_element_type(), type(f32))


def prologue_operands_supported(producer: Operation, dims: Sequence[int], resolve) -> bool:
    """Can the packing loop read every operand of `producer` at the input's indices
    `dims` (f32, contiguous or broadcast along the width, the vector's dimension)?"""
    for value in producer.operands:
        if not isinstance(value.type.get_element_type(), type(f32)):
            return False
        if isinstance(producer, nn.BatchNormOp) and resolve(value) is not resolve(
                producer.input):
            continue  # per-channel statistics
        if broadcast_strides(shape(value), dims)[-1] not in (0, 1):
            return False
    return isinstance(producer.results[0].type.get_element_type(), type(f32))


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


def _dynamic(E: Emitter, buffer: SSAValue) -> SSAValue:
    """buffer as memref<?xf32>, the type of the shared micro-kernels' parameters."""
    type = MemRefType(f32, [DYNAMIC_INDEX])
    if buffer.type == type:
        return buffer
    return E.value(memref.CastOp.get(buffer, type))


def call_micro_kernel(k: Kernel, mr: int, nv: int, a: SSAValue, a_base: Index,
                      a_row_stride: int, a_step: int, valid_rows: Index | None, b: Panel,
                      k_count: Index, tile: Tile, accumulate: bool) -> None:
    """tile[i][v] (+)= sum_k A[row i, k] B[k, v-th vector]: a call to the module's shared
    micro-kernel for this block shape. A[row i, k] is at
    a[a_base + i * a_row_stride + k * a_step]; with `valid_rows`, rows past the last
    re-read the last (their results are never stored)."""
    lanes = k.lanes
    clamp = valid_rows is not None
    key = ("gemm", mr, nv, lanes, a_row_stride, a_step, clamp, accumulate)
    name = f"gemm_{mr}x{nv * lanes}_{'add' if accumulate else 'set'}_{a_row_stride}x{a_step}" \
        + ("_tail" if clamp else "")
    callee = k.library.function(key, name, lambda: _micro_kernel_function(
        name, mr, nv, lanes, a_row_stride, a_step, clamp, accumulate))
    E = k.E
    operands = [_dynamic(E, a), E.index(a_base), _dynamic(E, b.buffer), E.index(b.base),
                E.index(k_count), _dynamic(E, tile.buffer), E.index(tile.base)]
    if clamp:
        operands.append(E.index(valid_rows))  # type: ignore[arg-type]
    E.add(func.CallOp(callee, operands, []))


def _micro_kernel_function(name: str, mr: int, nv: int, lanes: int, a_row_stride: int,
                           a_step: int, clamp: bool, accumulate: bool) -> func.FuncOp:
    """@name(a, a0, b, b0, k, c, c0[, rows]): c[c0 + i*nr + v*lanes] (+)= ..."""
    dynamic = MemRefType(f32, [DYNAMIC_INDEX])
    block = Block(arg_types=[dynamic, INDEX, dynamic, INDEX, INDEX, dynamic, INDEX,
                             *([INDEX] if clamp else [])])
    a_, a0, b_, b0, count, c_, c0 = block.args[:7]
    F = Emitter(block)
    nr = nv * lanes
    if clamp:
        last = F.isub(block.args[7], 1)
        rows = [F.iadd(a0, F.imul(F.imin(i, last), a_row_stride)) for i in range(mr)]
    else:
        rows = [F.iadd(a0, i * a_row_stride) for i in range(mr)]
    if accumulate:
        acc = [[F.vload(c_, F.iadd(c0, i * nr + v * lanes), lanes) for v in range(nv)]
               for i in range(mr)]
    else:
        acc = _zeros(F, mr, nv, lanes)
    acc = micro_kernel(F, mr, nv, lanes, count, a_, lambda i: rows[i], a_step,
                       Panel(b_, b0, nr), acc)
    for i in range(mr):
        for v in range(nv):
            F.vstore(acc[i][v], c_, F.iadd(c0, i * nr + v * lanes))
    block.add_op(func.ReturnOp())
    function = private_function(name, block)
    # out of line: inlined into a kernel, LLVM's register allocator rotated the
    # accumulators through registers on every iteration (see llvm_ir)
    function.attributes[NO_INLINE] = UnitAttr()
    return function


def _zeros(E: Emitter, mr: int, nv: int, lanes: int) -> list[list[SSAValue]]:
    zero = E.const(0.0, VectorType(f32, [lanes]))
    return [[zero] * nv for _ in range(mr)]


@dataclass
class Column:
    """One vector of C's columns: where it starts, which lanes are valid (None: all) and
    whether all are (an i1, so full vectors avoid slow masked stores)."""

    offset: Index
    mask: SSAValue | None
    full: SSAValue | None
    position: list[Index]  # output indices of lane 0 along the column dims

    def split(self, E: Emitter, emit: Callable[[SSAValue | None], None]) -> None:
        """emit(mask) once for full vectors (mask None) and once for partial ones."""
        if self.mask is None:
            emit(None)
            return
        E.choose(self.full, lambda: emit(None) or [], lambda: emit(self.mask) or [])

    def load(self, E: Emitter, buffer: SSAValue, index: Index, lanes: int) -> SSAValue:
        """buffer[index...] through this column's mask (plain loads when full)."""
        if self.mask is None:
            return E.vload(buffer, index, lanes)
        return E.choose(self.full, lambda: [E.vload(buffer, index, lanes)],
                        lambda: [E.vload_where(buffer, index, lanes, self.mask)])[0]


def _apply_steps(k: Kernel, steps: Sequence[Step], accesses: list[list[Access]],
                 value: SSAValue, row_index: list[Index], column: Column,
                 mask: SSAValue | None) -> SSAValue:
    E = k.E
    for step, step_accesses in zip(steps, accesses, strict=True):
        values = []
        for access in step_accesses:
            base: Index = access.offset
            ivs = [*row_index, *column.position]
            for iv, stride in zip(ivs, access.strides, strict=True):
                base = E.iadd(base, E.imul(iv, stride))
            values.append(_read(k, access, base, access.strides[-1], k.lanes, mask, f32))
        value = step.apply(E, value, values)
    return value


@dataclass
class Tile:
    """A micro-tile's accumulators spilled to a stack buffer [mr][nr], so the epilogue is
    a loop over the valid rows instead of mr * nv unrolled copies."""

    buffer: SSAValue
    mr: int
    nv: int
    lanes: int
    base: Index = 0

    @property
    def nr(self) -> int:
        return self.nv * self.lanes

    def spill(self, E: Emitter, acc: list[list[SSAValue]]) -> None:
        for i in range(self.mr):
            for v in range(self.nv):
                E.vstore(acc[i][v], self.buffer, E.iadd(self.base, i * self.nr + v * self.lanes))

    def rows(self, E: Emitter, count: Index, body: Callable[[Index, int, Index], None]) -> None:
        """body(row, v, tile index) for the first `count` rows and every vector."""
        with E.loop(0, count) as row:
            for v in range(self.nv):
                body(row.iv, v, E.iadd(self.base, E.iadd(E.imul(row.iv, self.nr),
                                                         v * self.lanes)))


# --- conv2d -----------------------------------------------------------------------------


def pool_ring(op: nn.Conv2dOp, pool: Operation) -> int | None:
    """Rows per output channel of the ring in which the GEMM convolution `op` keeps its
    result for `pool`, a window pooling that is its only reader (`_conv_gemm`, banded);
    None where there is none: `pool` is no window pooling, `op` is depthwise, or the ring
    of a group's channels would take more than RING_BYTES. A chunk of panels covers at
    most max(SCRATCH_BYTES / (4 kc), WIDEST_PANEL) columns, so at most that / ow + 1
    complete rows; after a chunk the ring must still hold the rows of the pooled rows
    not yet complete, fewer than the window spans plus one; never more than the oh rows
    of a whole plane. The same on every target."""
    rows = window_rows(pool)
    _, c_in, _, _ = shape(op.input)
    groups = op.groups.value.data
    if rows is None or (groups > 1 and c_in == groups):
        return None
    c_out, cg, kh, kw = shape(op.weight)
    _, _, oh, ow = shape(op.result)
    kc = max(1, min(cg, K_BLOCK // (kh * kw))) * kh * kw
    columns = max(SCRATCH_BYTES // (4 * kc), WIDEST_PANEL)
    ring = min(columns // ow + rows[0] + 3, oh)  # (oh: whole planes, nothing wraps)
    return ring if (c_out // groups) * ring * ow * 4 <= RING_BYTES else None


def emit_conv2d(k: Kernel, op: nn.Conv2dOp, epilogue: Sequence[Operation],
                prologue: Sequence[Operation] = (), plane_epilogue: Operation | None = None,
                banded: bool = False) -> None:
    if not isinstance(op.input.type.get_element_type(), type(f32)):
        raise k.fail("only f32 convolutions are supported by the code generator")
    _, c_in, _, _ = shape(op.input)
    groups = op.groups.value.data
    if groups > 1 and c_in == groups:
        from .pooling import emit_depthwise

        emit_depthwise(k, op, epilogue, prologue, plane_epilogue)
        return
    _conv_gemm(k, op, epilogue, prologue, plane_epilogue, banded)


def _conv_gemm(k: Kernel, op: nn.Conv2dOp, epilogue: Sequence[Operation],
               prologue: Sequence[Operation] = (), plane_epilogue: Operation | None = None,
               banded: bool = False) -> None:
    """The convolution as a GEMM over packed im2col panels. A `prologue` (element-wise ops
    whose chain ends in the input) is applied to each vector as the panel is packed:
    x' = prologue(operands at the same input indices), then padding lanes are zeroed
    (the convolution pads x', not x: batch norm of a zero is not zero).

    A plane epilogue (`pooling.per_plane`: a pooling of the result, or a binary op
    broadcasting it over planes) makes the tiles whole output channels:
    tile = (image, group, row chunk) loops over every panel chunk, so when its last
    panel is stored, planes c in [g*rows + first_block*mr, g*rows + min(last_block*mr,
    rows)) of y are complete and the tile computes the epilogue's planes of exactly
    those, y[image, c] -> out[image, c] (from cache when the tile is small; rows are split
    only as far as the threads need, since every row chunk packs every panel again). No
    other tile writes those planes.

    `banded` (the plane epilogue is a window pooling and the result's only reader,
    `pool_ring`): the result is never stored. The tile keeps its channels' output rows in
    a ring of `pool_ring` rows each, and after each chunk of panels pools the output rows
    whose windows the rows stored so far complete (`Window.band`): the intermediate
    stays in a tile, read back from cache."""
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
    full_vectors = ow % lanes == 0 and columns % nr == 0
    row_blocks = ceil_div(rows, mr)

    # K blocks of whole input channels
    block_channels = max(1, min(cg, K_BLOCK // taps))
    blocks = ceil_div(cg, block_channels)
    kc = block_channels * taps
    chunk = max(1, min(panels, SCRATCH_BYTES // (kc * nr * 4)))
    chunks = ceil_div(panels, chunk)
    # A tile with a plane epilogue takes every panel, so each of its row chunks packs every panel
    # again: split rows only as far as the threads need (one chunk on one thread).
    split_panels, target = (chunks, 4 * k.threads) if plane_epilogue is None else \
        (1, k.threads)
    row_chunks = 1
    while n * groups * split_panels * row_chunks < target and row_chunks < row_blocks:
        row_chunks *= 2
    chunk_blocks = ceil_div(row_blocks, row_chunks)
    if blocks > 1:
        chunk_blocks = max(1, min(chunk_blocks, SUMS_BYTES // (chunk * mr * nr * 4)))
    row_chunks = ceil_div(row_blocks, chunk_blocks)
    tiles = n * groups * split_panels * row_chunks

    # A: the weight, packed [group][row block][K][mr] when constant
    weight = k.constant(op.weight)
    if weight is not None:
        packed = np.zeros((groups, row_blocks * mr, depth), np.float32)  # zero rows pad
        packed[:, :rows] = weight.reshape(groups, rows, depth)
        packed = packed.reshape(groups, row_blocks, mr, depth).transpose(0, 1, 3, 2)
        a = k.weight(np.ascontiguousarray(packed), ("conv-a", k.resolve(op.weight), mr))
        a_step = mr

        a_stride = 1
        clamp = False  # zero rows pad the packed weight

        def a_rows(g: Index, block: Index, k0: Index) -> Index:
            """Where row 0 of the block's A starts at k0."""
            return E.iadd(E.imul(E.iadd(E.imul(g, row_blocks), block), depth * mr),
                          E.imul(k0, mr))
    else:
        a = k.buffer(op.weight)
        a_step = 1
        a_stride = depth
        clamp = rows % mr != 0

        def a_rows(g: Index, block: Index, k0: Index) -> Index:
            row = E.imul(block, mr)
            return E.iadd(E.imul(E.iadd(E.imul(g, rows), row), depth), k0)

    in_dims = (n, c_in, h, w)
    pro_steps = list(chain_steps(k, prologue, None))
    pro_accesses = [[o.access(k, in_dims) for o in step.operands] for step in pro_steps]
    x = None if prologue else k.buffer(op.input)
    ring_rows = pool_ring(op, plane_epilogue) if banded and plane_epilogue is not None else None
    assert ring_rows is not None or not banded
    # the result's buffer, or the ring of the tile's channels' rows: (channel - first
    # channel of the tile, output row % ring_rows, column)
    y = k.buffer(result) if ring_rows is None else E.alloca(chunk_blocks * mr * ring_rows * ow)
    steps = list(chain_steps(k, epilogue, op.result))
    if op.bias is not None:
        steps.insert(0, Step(op, [Operand((c_out, 1, 1), op.bias)], 0,
                             lambda E_, v: E_.fadd(v[0], v[1])))
    out_dims = shape(result)
    accesses = [[o.access(k, out_dims) for o in step.operands] for step in steps]
    scratch = E.alloca(chunk * kc * nr)
    blend = E.alloca(lanes) if prologue else None
    tile_buffer = Tile(E.alloca(mr * nr), mr, nv, lanes)
    # partial sums of every micro-tile of a tile, between K blocks: plain vector loads and
    # stores (the output's partial vectors would need masked stores, slow on AMD Zen)
    sums = E.alloca(chunk * chunk_blocks * mr * nr) if blocks > 1 else None
    iota = E.iota(lanes, I32)
    vec_i32 = VectorType(I32, [lanes])
    # the plane epilogue's buffers and scratch plane (its arguments come before the tile
    # range, which must be the kernel's last)
    planes = per_plane(k, plane_epilogue, result, banded) if plane_epilogue is not None \
        else None

    def pooled_rows(window: Window, stored: Index) -> Index:
        """How many pooled rows are complete once the first `stored` columns of a plane
        (oh rows of owp) are stored: all when every output row is, else those whose window
        ends before the first incomplete row."""
        complete = E.imin(E.idiv(stored, owp), oh)
        extent, stride, top = window_rows(plane_epilogue)  # type: ignore[misc, arg-type]
        pooled = window.out_dims[2]
        ready = E.imax(E.imin(E.iadd(E.idiv(E.isub(E.iadd(complete, top), extent), stride),
                                     1), pooled), 0)
        return E.select(E.cmpi("sge", complete, oh), E.index(pooled), E.index(ready))
    lo, hi = k.tile_range(tiles)

    def column(panel: Index, v: Index) -> Column:
        """Vector v of a panel: output row and column of lane 0, lane mask, all valid?"""
        q = E.iadd(E.imul(panel, nr), E.imul(v, lanes))
        out_row = E.idiv(q, owp)
        ow0 = E.irem(q, owp)
        in_row = E.cmpi("slt", out_row, oh)
        limit = E.select(in_row, E.cast_index(E.index(E.isub(ow, ow0)), I32), E.const(0, I32))
        mask = E.cmpi("slt", iota, E.splat(limit, lanes))
        full = E.cmpi("sge", limit, E.const(lanes, I32))
        offset = E.iadd(E.imul(out_row, ow), ow0)
        return Column(offset, None if full_vectors else mask, full, [out_row, ow0])

    with E.loop(lo, hi) as tile:
        t = tile.iv
        row_chunk = E.irem(t, row_chunks)
        t = E.idiv(t, row_chunks)
        panel_chunk: Index = 0
        if planes is None:
            panel_chunk = E.irem(t, chunks)
            t = E.idiv(t, chunks)
        g = E.irem(t, groups)
        image = E.idiv(t, groups)
        first_block = E.imul(row_chunk, chunk_blocks)
        last_block = E.imin(row_blocks, E.iadd(first_block, chunk_blocks))
        first_channel = E.iadd(E.imul(g, rows), E.imul(first_block, mr))
        last_channel = E.iadd(E.imul(g, rows), E.imin(rows, E.imul(last_block, mr)))
        x_base = E.imul(E.iadd(E.imul(image, c_in), E.imul(g, cg)), h * w)

        def ring_row(channel: Index, out_row: Index) -> Index:
            """Where output row `out_row` of `channel` starts in the ring."""
            assert ring_rows is not None
            return E.iadd(E.imul(E.isub(channel, first_channel), ring_rows * ow),
                          E.imul(E.irem(out_row, ring_rows), ow))

        def panel_chunk_body(panel_chunk: Index) -> None:
            """Every output vector of the tile's row blocks in this chunk of panels."""
            first_panel = E.imul(panel_chunk, chunk)
            panel_count = E.imin(chunk, E.isub(panels, first_panel))

            def read_prologue(at: list[Index], mask: SSAValue) -> SSAValue:
                """The prologue's value at input indices `at` (the width index is lane 0's,
                lanes step by the stride), zero where `mask` is off."""
                value: SSAValue | None = None
                for step, step_accesses in zip(pro_steps, pro_accesses, strict=True):
                    values = []
                    for access in step_accesses:
                        if access.buffer is None:
                            values.append(E.splat(E.const(access.scalar, f32), lanes))
                            continue
                        width = access.strides[-1]
                        index: Index = access.offset
                        for iv, stride in zip(at[:-1] if width == 0 else at, access.strides,
                                              strict=False):
                            if stride:
                                index = E.iadd(index, E.imul(iv, stride))
                        values.append(E.splat(E.load(access.buffer, index), lanes) if width == 0
                                      else E.vload_strided(access.buffer, index, lanes, sw,
                                                           mask, 0.0))
                    value = step.apply(E, value, values)
                assert value is not None
                # zero the padding lanes: a store and a masked reload (a lane-wise select of
                # an i1 vector does not lower), which LLVM turns into a blend
                E.vstore(value, blend, 0)
                return E.vload_where(blend, 0, lanes, mask)

            def pack(c0: Index, channels: Index) -> None:
                """scratch[p][kk][nr] = the im2col rows of channels c0.. for this chunk's
                panels: masked (strided) vector loads, zeros in the padding."""
                with E.loop(0, panel_count) as p, E.loop(0, nv) as v:
                    col = column(E.iadd(first_panel, p.iv), v.iv)
                    out_row, ow0 = col.position
                    out_mask = E.cmpi("slt", iota, E.splat(E.select(
                        E.cmpi("slt", out_row, oh), E.cast_index(E.index(E.isub(ow, ow0)), I32),
                        E.const(0, I32)), lanes))
                    first_col = E.iadd(E.imul(ow0, sw), -left)
                    lane_cols = E.value(arith.AddiOp(
                        E.splat(E.cast_index(E.index(first_col), I32), lanes),
                        E.value(arith.MuliOp(iota, E.const(sw, vec_i32)))))
                    with E.loop(0, kh) as i:
                        ih = E.iadd(E.imul(out_row, sh), E.iadd(E.imul(i.iv, dh), -top))
                        row_ok = E.and_(E.cmpi("sge", ih, 0), E.cmpi("slt", ih, h))
                        row_mask = E.and_(out_mask, E.splat(row_ok, lanes))
                        ih_in = E.imax(E.imin(ih, h - 1), 0)
                        row_start = E.iadd(x_base, E.imul(ih_in, w))
                        with E.loop(0, kw) as j:
                            shift = E.imul(j.iv, dw)
                            cols = E.value(arith.AddiOp(lane_cols, E.splat(
                                E.cast_index(E.index(shift), I32), lanes)))
                            inside = E.and_(E.cmpi("sge", cols, E.const(0, vec_i32)),
                                            E.cmpi("slt", cols, E.const(w, vec_i32)))
                            mask = E.and_(row_mask, inside)
                            source = E.iadd(row_start, E.iadd(first_col, shift))
                            tap = E.iadd(E.imul(i.iv, kw), j.iv)
                            target = E.iadd(E.imul(p.iv, kc * nr),
                                            E.iadd(E.imul(tap, nr), E.imul(v.iv, lanes)))
                            with E.loop(0, channels) as ci:
                                channel = E.iadd(c0, ci.iv)
                                if x is None:
                                    value = read_prologue(
                                        [image, E.iadd(E.imul(g, cg), channel), ih_in,
                                         E.iadd(first_col, shift)], mask)
                                else:
                                    value = E.vload_strided(
                                        x, E.iadd(source, E.imul(channel, h * w)), lanes, sw,
                                        mask, 0.0)
                                E.vstore(value, scratch, E.iadd(target, E.imul(ci.iv, taps * nr)))

            with E.loop(0, blocks) as kblock:
                c0 = E.imul(kblock.iv, block_channels)
                channels = E.imin(block_channels, E.isub(cg, c0))
                pack(c0, channels)
                with E.loop(0, panel_count) as p:
                    panel = E.iadd(first_panel, p.iv)
                    cols = [column(panel, v) for v in range(nv)]
                    with E.loop(first_block, last_block) as block:
                        m0 = E.imul(block.iv, mr)
                        valid_rows = E.imin(mr, E.isub(rows, m0))
                        row_base = E.iadd(E.imul(image, c_out), E.iadd(E.imul(g, rows), m0))
                        # this micro-tile's slot in the accumulation buffer
                        slot = Tile(sums, mr, nv, lanes, E.imul(
                            E.iadd(E.imul(p.iv, chunk_blocks), E.isub(block.iv, first_block)),
                            mr * nr)) if blocks > 1 else tile_buffer

                        a_base = a_rows(g, block.iv, E.imul(c0, taps))

                        def multiply(accumulate: bool, slot: Tile = slot, a_base: Index = a_base,
                                     valid_rows: Index = valid_rows, p: Index = p.iv) -> list:
                            call_micro_kernel(k, mr, nv, a, a_base, a_stride, a_step,
                                              valid_rows if clamp else None,
                                              Panel(scratch, E.imul(p, kc * nr), nr),
                                              E.imul(channels, taps), slot, accumulate)
                            return []

                        if blocks == 1:
                            multiply(False)
                        else:
                            E.choose(E.cmpi("eq", kblock.iv, 0), lambda: multiply(False),
                                     lambda: multiply(True))

                        def write(slot: Tile = slot, m0: Index = m0, row_base: Index = row_base,
                                  valid_rows: Index = valid_rows) -> list:
                            def store(row: Index, v: int, at: Index) -> None:
                                value = E.vload(slot.buffer, at, lanes)
                                channel = E.iadd(E.imul(g, rows), E.iadd(m0, row))
                                if ring_rows is None:
                                    index = E.iadd(E.imul(E.iadd(row_base, row), oh * ow),
                                                   cols[v].offset)
                                else:
                                    out_row, ow0 = cols[v].position
                                    index = E.iadd(ring_row(channel, out_row), ow0)

                                def emit(mask: SSAValue | None) -> None:
                                    out = _apply_steps(k, steps, accesses, value, [image, channel],
                                                       cols[v], mask)
                                    E.vstore_where(out, y, index, mask)
                                cols[v].split(E, emit)
                            slot.rows(E, valid_rows, store)
                            return []

                        if blocks == 1:
                            write()
                        else:
                            E.choose(E.cmpi("eq", kblock.iv, blocks - 1), write, lambda: [])

        if planes is None:
            panel_chunk_body(panel_chunk)
        else:
            # a tile owns whole output channels: all their panels, then their epilogue planes
            with E.loop(0, chunks) as every_chunk:
                panel_chunk_body(every_chunk.iv)
                if ring_rows is not None:  # pool the rows this chunk completes
                    assert isinstance(planes, Window)
                    first = pooled_rows(planes, E.imul(every_chunk.iv, chunk * nr))
                    last = pooled_rows(planes, E.imul(E.iadd(every_chunk.iv, 1), chunk * nr))

                    def pool_band(window: Window = planes, first: Index = first,
                                  last: Index = last) -> list:
                        with E.loop(first_channel, last_channel) as channel:
                            window.band(E.iadd(E.imul(image, c_out), channel.iv), first, last,
                                        lambda r, c=channel.iv: (y, ring_row(c, r)))
                        return []
                    # most chunks of a wide plane complete no pooled row: skip the channels
                    E.choose(E.cmpi("slt", first, last), pool_band, lambda: [])
            if ring_rows is None:
                with E.loop(first_channel, last_channel) as channel:
                    planes.plane(E.iadd(E.imul(image, c_out), channel.iv))


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
    # the input read in place, or through its folded view (a transpose that moves a
    # dim of size 1: the encoder's (B, S, E) -> (S, B, E) for B = 1)
    view = k.views.get(k.resolve(op.input))
    if view is None:
        a = Strided(k.buffer(op.input), 0, (depth, 1))
    else:
        strides = matrix_strides(x_dims, view.strides)
        assert strides is not None  # `fold_views` checked it
        a = Strided(k.buffer(view.base), view.offset, strides)
    _gemm(k, op, epilogue, batch=(), m=m, n=n_out, depth=depth, a=a, b_value=op.weight,
          b_constant=weight, b_transposed=True,
          b=Strided(k.buffer(op.weight), 0, (1, depth)) if weight is None else None,
          steps=steps)


def emit_matmul(k: Kernel, op: nn.MatmulOp, epilogue: Sequence[Operation]) -> None:
    """C[b] = A[b] . B[b] over the broadcast batch dims b. Either operand may be a view
    folded by its fusion group (a transpose, slice, expand or reshape of a buffer,
    `views.fold_views`): the kernel reads its base through the view's strides, so K^T
    in attention is read in place, not copied."""
    a_dims, b_dims = shape(op.lhs), shape(op.rhs)
    out_dims = shape(op.result)
    batch = out_dims[:-2]
    m, depth = a_dims[-2:]
    n = b_dims[-1]
    steps = list(chain_steps(k, epilogue, op.result))
    rhs = k.constant(op.rhs)
    _gemm(k, op, epilogue, batch=batch, m=m, n=n, depth=depth,
          a=strided_operand(k, op.lhs, (*batch, m, depth)), b_value=op.rhs, b_constant=rhs,
          b_transposed=False,
          b=strided_operand(k, op.rhs, (*batch, depth, n)) if rhs is None else None,
          steps=steps)


@dataclass(frozen=True)
class Strided:
    """A matrix operand: element [b..., i, j] at buffer[offset + sum(b * strides[:-2]) +
    i * strides[-2] + j * strides[-1]] (stride 0 on broadcast batch dims)."""

    buffer: SSAValue
    offset: int
    strides: tuple[int, ...]


def strided_operand(k: Kernel, value: SSAValue, dims: Sequence[int]) -> Strided:
    """`value` read at the indices of `dims` (its batch dims broadcast): through its folded
    view if it has one, else its own contiguous buffer."""
    view = k.views.get(k.resolve(value))
    if view is not None:
        access = view.access(k, dims, shape(value))
        return Strided(access.buffer, access.offset, tuple(access.strides))
    return Strided(k.buffer(value), 0, broadcast_strides(shape(value), dims))


def _gemm(k: Kernel, op: Operation, epilogue: Sequence[Operation], *, batch: Sequence[int],
          m: int, n: int, depth: int, a: Strided, b_value: SSAValue,
          b_constant: np.ndarray | None, b_transposed: bool, b: Strided | None,
          steps: list[Step]) -> None:
    """C[b][m, n] = A[b][m, :] . B[b][:, n] for every batch index b, A and B read through
    their strides (`Strided`: [batch..., M, K] and [batch..., K, N]), B packed into
    panels. `b_constant` is b_value's array when it is a compile-time constant (packed at
    compile time, read as [K][N], or [N][K] when b_transposed; `b` is None then)."""
    E = k.E
    if not isinstance(op.operands[0].type.get_element_type(), type(f32)):
        raise k.fail("only f32 matrix products are supported by the code generator")
    lanes = k.lanes
    mr, nv = _matmul_block(k, m)
    nr = nv * lanes
    panels = ceil_div(n, nr)
    row_blocks = ceil_div(m, mr)
    batches = prod(batch)
    result = (epilogue[-1] if epilogue else op).results[0]
    out_dims = shape(result)
    a_row_stride, a_step = a.strides[-2:]
    a_batch = a.strides[:-2]
    y = k.buffer(result)
    # C[b][row, col] at y[sum(b * c_batch) + row * c_row + col]: contiguous, or the
    # strides of its transpose's buffer when the transpose is stored in place
    strided = k.strided.get(k.resolve(result))
    # or (a linear layer) in runs of a row into its reshaped and transposed result's
    # buffer: C[row, col] at row * split.row + (col // split.width) * split.chunk + col %
    # split.width, a vector never crossing a run (`views.SplitColumns`)
    split = k.split.get(k.resolve(result))
    if strided is not None:
        c_batch, c_row = strided[:-2], strided[-2]
    elif split is not None:
        assert not batch and split.width % lanes == 0
        c_batch, c_row = (), split.row
    else:
        c_batch, c_row = tuple(s * m * n for s in contiguous_strides(batch)), n

    def stored(col: Index) -> Index:
        """Where column `col` of a row starts, from the row's start."""
        return col if split is None else split.column(E, col)
    accesses = [[o.access(k, out_dims) for o in step.operands] for step in steps]
    # column ranges that element-wise ops take on into buffers of their own (attention's
    # q scaled by 1/sqrt(d), `views.ColumnStore`): their steps, read as immediates
    column_stores = []
    for store in k.columns.get(k.resolve(result), []):
        store_steps = chain_steps(k, store.ops, store.source)
        column_stores.append((store, k.buffer(store.ops[-1].results[0]), store_steps,
                              [[o.access(k, out_dims) for o in step.operands]
                               for step in store_steps]))

    def store_columns(column_store, value: SSAValue, row: Index, row_ivs: list[Index],
                      column: Column, mask: SSAValue | None) -> None:
        """The vector of C at (row, column) through a `ColumnStore`'s steps into its
        buffer, if the column lies in the store's range."""
        store, buffer, store_steps, store_accesses = column_store
        col = E.isub(column.position[0], store.first)

        def write() -> list:
            out = _apply_steps(k, store_steps, store_accesses, value, row_ivs, column, mask)
            E.vstore_where(out, buffer, E.iadd(E.imul(row, store.split.row),
                                          store.split.column(E, col)), mask)
            return []
        E.choose(E.cmpi("ult", col, store.count), write, lambda: [])

    if b_constant is not None:
        # packed at compile time: [batch of B][panel][K][nr], zero columns pad the last panel
        matrix = np.asarray(b_constant.T if b_transposed else b_constant, np.float32)
        matrix = matrix.reshape(-1, depth, n)
        padded = np.zeros((matrix.shape[0], depth, panels * nr), np.float32)
        padded[:, :, :n] = matrix
        packed = padded.reshape(matrix.shape[0], depth, panels, nr).transpose(0, 2, 1, 3)
        b_buffer = k.weight(np.ascontiguousarray(packed), ("gemm-b", k.resolve(b_value), nr))
        # the constant's batch dims (in matrices), broadcast to the product's
        b_batch_packed = tuple(s * panels * depth * nr for s in
                               broadcast_strides(b_constant.shape[:-2], batch))
        chunk = max(1, min(panels, 8))
        scratch = None
    else:
        assert b is not None
        b_buffer = b.buffer
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
    tile_buffer = Tile(E.alloca(mr * nr), mr, nv, lanes)
    lo, hi = k.tile_range(tiles)

    with E.loop(lo, hi) as tile:
        t = tile.iv
        row_chunk = E.irem(t, row_chunks)
        t = E.idiv(t, row_chunks)
        panel_chunk = E.irem(t, chunks)
        batch_index = E.unflatten(E.idiv(t, chunks), batch)
        a_base = E.linear(list(zip(batch_index, a_batch, strict=True)), a.offset)
        c_base = E.linear(list(zip(batch_index, c_batch, strict=True)))
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
            assert b is not None
            b_base = E.linear(list(zip(batch_index, b.strides[:-2], strict=True)), b.offset)
            _pack_b(k, b_buffer, b_base, scratch, first_panel, panel_count, depth, n, nr, nv,
                    b.strides[-2:], iota)

            def panel_of(p: Index) -> Panel:
                return Panel(scratch, E.imul(p, depth * nr), nr)

        with E.loop(0, panel_count) as p:
            n0 = E.imul(E.iadd(first_panel, p.iv), nr)
            cols = []
            for v in range(nv):
                col = E.iadd(n0, v * lanes)
                limit = E.cast_index(E.index(E.imax(E.imin(E.isub(n, col), lanes), 0)), I32)
                exact = n % nr == 0
                cols.append(Column(stored(col), None if exact else E.cmpi("slt", iota,
                                                                     E.splat(limit, lanes)),
                                   None if exact else E.cmpi("sge", limit,
                                                             E.const(lanes, I32)), [col]))
            with E.loop(first_block, last_block) as block:
                m0 = E.imul(block.iv, mr)

                valid_rows = E.imin(mr, E.isub(m, m0))

                def multiply(clamp: bool, m0: Index = m0, valid_rows: Index = valid_rows,
                             p: Index = p.iv) -> list:
                    call_micro_kernel(k, mr, nv, a.buffer,
                                      E.iadd(a_base, E.imul(m0, a_row_stride)), a_row_stride,
                                      a_step, valid_rows if clamp else None, panel_of(p),
                                      depth, tile_buffer, False)
                    return []

                if m % mr == 0:
                    multiply(False)
                else:  # the last row block re-reads its last row for the missing ones
                    E.choose(E.cmpi("eq", valid_rows, mr), lambda: multiply(False),
                             lambda: multiply(True))

                def store(row: Index, v: int, at: Index) -> None:
                    value = E.vload(tile_buffer.buffer, at, lanes)
                    m_row = E.iadd(m0, row)
                    index = E.iadd(c_base, E.iadd(E.imul(m_row, c_row), cols[v].offset))
                    row_ivs = _row_ivs(E, batch_index, m_row, out_dims, op)

                    def emit(mask: SSAValue | None) -> None:
                        out = _apply_steps(k, steps, accesses, value, row_ivs, cols[v], mask)
                        E.vstore_where(out, y, index, mask)
                        for column_store in column_stores:
                            store_columns(column_store, out, m_row, row_ivs, cols[v], mask)
                    cols[v].split(E, emit)
                tile_buffer.rows(E, valid_rows, store)


def _row_ivs(E: Emitter, batch_index: list[Index], row: Index, out_dims: Sequence[int],
             op: Operation) -> list[Index]:
    """Output indices of all but the last dim for GEMM row `row` (linear flattens its
    leading dims into rows)."""
    if isinstance(op, nn.MatmulOp):
        return [*batch_index, row]
    return E.unflatten(row, out_dims[:-1])


def _pack_b(k: Kernel, b: SSAValue, base: Index, scratch: SSAValue, first_panel: Index,
            panel_count: Index, depth: int, n: int, nr: int, nv: int,
            strides: Sequence[int], iota: SSAValue) -> None:
    """scratch[p][kk][nr] = B[kk, panel p's columns] (zeros past column n), where
    B[kk, j] = b[base + kk * strides[0] + j * strides[1]]."""
    E = k.E
    lanes = k.lanes
    k_stride, n_stride = strides
    with E.loop(0, panel_count) as p:
        n0 = E.imul(E.iadd(first_panel, p.iv), nr)
        target = E.imul(p.iv, depth * nr)
        if n_stride != 1:  # a column of B is strided (B = b^T: a row of b): element-wise
            with E.loop(0, nr) as j:
                col = E.iadd(n0, j.iv)
                valid = E.cmpi("slt", col, n)
                source = E.iadd(base, E.imul(E.imin(col, n - 1), n_stride))
                with E.loop(0, depth) as kk:
                    value = E.select(valid, E.load(b, E.iadd(source, E.imul(kk.iv, k_stride))),
                                     E.f32(0.0))
                    E.store(value, scratch, E.iadd(target, E.iadd(E.imul(kk.iv, nr), j.iv)))
        else:
            for v in range(nv):
                col = E.iadd(n0, v * lanes)
                limit = E.cast_index(E.index(E.imax(E.imin(E.isub(n, col), lanes), 0)), I32)
                mask = E.cmpi("slt", iota, E.splat(limit, lanes))
                with E.loop(0, depth) as kk:
                    value = E.vload_masked(b, E.iadd(base, E.iadd(E.imul(kk.iv, k_stride),
                                                                  col)),
                                           mask, E.const(0.0, VectorType(f32, [lanes])))
                    E.vstore(value, scratch,
                             E.iadd(target, E.iadd(E.imul(kk.iv, nr), v * lanes)))
