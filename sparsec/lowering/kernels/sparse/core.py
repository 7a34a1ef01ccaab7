"""The GEMM view every sparse kernel shares: tiles, the packed X chunk, the output rows.

    Y[g][M/groups][N] = W[g] . X[g][K][N]            per image and group g

conv2d (NCHW): W is the weight's matrix view Cout x Cin/groups*kh*kw (its rows split
among the groups), X the im2col columns of one image: N runs over output rows padded to
a multiple of the vector width (`owp`), so a vector never straddles two output rows, as
in the dense kernel. linear (and matmul with a constant 2-D right operand, transposed to
a linear weight at compile time): W is out x in, X = x^T, N the rows of x.

Work is split into tiles (image, group, column chunk, row chunk) that threads share; the
column chunk varies fastest. A tile packs its chunk of X into panels Xp[K][nr] of
`nr = nv * lanes` columns in a stack buffer (conv2d: masked, strided vector loads, zeros
in the padding; linear: lanes x lanes blocks of x transposed in registers) -- or, for a
convolution with more than one tap (or stride 1), a zero-padded band of input rows, split
into column phases when strided, that every tap reads in place (`_DirectConvView`, no
im2col) -- then runs the format's row program (`Program.emit`): for each of its rows,
for each panel, the row's `nv` vector sums, handed to a `Sink`. The panel loop is inside the row loop, so a row's
weights come from L1 for all panels of the chunk (one pass over the weight per chunk):
- conv2d: the epilogue is applied to each vector and it is stored in the output, with a
  masked store only when the vector is cut by the end of an output row;
- linear: the row goes to a buffer Yt[rows][panels][nr]; when the tile's rows are done,
  lanes x lanes blocks of Yt are transposed in registers so the epilogue sees vectors
  along the output's innermost dim (the output features), as in the dense kernel.

Vectors per row (`nv`) come from the format's register budget (the BCR and pattern
kernels keep several sums per vector), capped by the panel's size budget.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from math import gcd, prod

import numpy as np
from xdsl.dialects import arith
from xdsl.dialects.builtin import IntegerType, VectorType, f32
from xdsl.ir import Operation, SSAValue

from sparsec.dialects import nn
from sparsec.dialects.sparse.encodings import BCRAttr, CSRAttr, PatternAttr
from sparsec.dialects.sparse.formats import check, pack, unpack

from ...emitter import INDEX, Emitter, Index
from ..base import Kernel, shape
from ..epilogue import Operand, Step, chain_steps
from ..gemm import Column, _apply_steps, _ints, ceil_div
from . import KERNEL_FORMATS, PackedConstant, sparse_operand

I32 = IntegerType(32)
PANEL_BYTES = 256 * 1024
"""Budget of one packed panel of X (Xp[K][nr]): fewer vectors per row above it."""
XP_BYTES = 128 * 1024
"""Budget of a tile's panels: every row (block row) of the weight reads the chunk again,
so the chunk must stay in L2 (512 KB on Zen 3, with the weights and the output rows
beside it); the weights are a tenth of a dense layer's, so re-reading them for every
chunk costs little. Measured on ResNet-18's 64@56 3x3 layer (fastest of 300 runs): a
768 KB budget (the band of the whole image) ran BCR 8x4 at 90% in 1.24 ms and patterns
in 1.24 ms, 128 KB in 0.92 and 0.75 ms."""
YT_BYTES = 256 * 1024
"""linear: budget of a tile's transposed result rows (Yt[rows][panels][nr])."""

Sink = Callable[[Index, list[SSAValue], Index], None]
"""sink(output row, its nv vectors of a panel's columns, the panel within the chunk)."""


class Layout:
    """Where the packed input holds X: `offset(k)` is the offset of row k of X (a column
    of W) relative to a vector's base, `nr` the columns a panel has."""

    nr: int

    def offset(self, k: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def bytes_per_k(self) -> float | None:
        """Bytes of a tile's packed X per row of X (a column of W), for a layout whose
        kernels may cut K into segments (`bcr.segment_columns`); None keeps K whole."""
        return None


@dataclass
class Panels:
    """A tile's packed chunk of X: `count` panels; `bases(E, p)` are the offsets of panel
    p's `nv` vectors (X[k, vector v of panel p] is at xp[offset(k) + bases[v]])."""

    xp: SSAValue
    count: Index
    bases: Callable[[Emitter, Index], list[Index]]


def load_index(E: Emitter, buffer: SSAValue, index: Index) -> SSAValue:
    """An i32 index array element, as an index."""
    return E.cast_index(E.load(buffer, index), INDEX)


def index_array(values: Sequence[int] | np.ndarray) -> np.ndarray:
    """An index array for the weights buffer (i32, never empty)."""
    array = np.asarray(values, np.int64).reshape(-1)
    if array.size and (array.min() < 0 or array.max() >= 2**31):
        raise ValueError("index out of the i32 range")
    return np.asarray(array if array.size else [0], np.int32)


def value_array(values: np.ndarray) -> np.ndarray:
    """A value array for the weights buffer (f32, never empty)."""
    array = np.asarray(values, np.float32).reshape(-1)
    return array if array.size else np.zeros(1, np.float32)


class Program:
    """A format's row program over one group's rows. `units` per group, each covering
    `rows_per_unit` output rows (contiguous when > 1, in the program's order otherwise)."""

    units: int
    rows_per_unit: int = 1
    bytes: int = 0
    """Bytes of the re-packed weight (all groups)."""

    def store(self, k: Kernel, array: np.ndarray) -> SSAValue:
        """A re-packed array, in the weights buffer."""
        self.bytes += array.nbytes
        return k.weight(array)

    def prepare(self, k: Kernel, units: int, panels: int) -> None:
        """Before the tile loop: a tile has at most `units` units and `panels` panels."""

    def emit(self, k: Kernel, g: Index, u0: Index, u1: Index, panels: Panels, nv: int,
             sink: Sink) -> None:
        """Units [u0, u1) of group g: every output row of them, for every panel (the
        panel loop inside the row loop, so a row's weights are read from L1 again)."""
        raise NotImplementedError


# --- entry ------------------------------------------------------------------------------


def emit(k: Kernel, op: Operation, epilogue: Sequence[Operation]) -> None:
    weight = sparse_operand(op)
    assert weight is not None
    packed = k.constant(weight)
    if not isinstance(packed, PackedConstant):
        raise k.fail("a sparse weight must be a constant (a sparse.assemble of constant "
                     "arrays)")
    if not isinstance(packed.encoding, KERNEL_FORMATS):
        raise k.fail(f"no kernel for {packed.encoding} weights (the code generator has "
                     "kernels for #sparse.bcr, #sparse.pattern and #sparse.csr)")
    if not isinstance(op.results[0].type.get_element_type(), type(f32)) or \
            packed.arrays and _value_dtype(packed) != np.float32:
        raise k.fail("only f32 sparse contractions are supported by the code generator")
    try:
        check(packed.encoding, packed.shape, packed.arrays)
    except ValueError as e:
        raise k.fail(f"invalid packed weight: {e}") from None
    if isinstance(op, nn.MatmulOp):
        packed = transposed(packed)
    max_nv = k.target.gemm_block[1]
    if isinstance(packed.encoding, BCRAttr):
        from .bcr import vectors_per_row

        max_nv = vectors_per_row(packed, k.target)
    elif isinstance(packed.encoding, PatternAttr):
        from .pattern import vectors_per_row as pattern_vectors

        max_nv = pattern_vectors(k.target)
    if isinstance(op, nn.Conv2dOp):
        view: _View = _DirectConvView(k, op, epilogue, max_nv,
                                      whole_rows=isinstance(packed.encoding, PatternAttr))
        if not view.fits():
            view = _ConvView(k, op, epilogue, max_nv)
    else:
        view = _LinearView(k, op, epilogue, max_nv)
    program = make_program(k, packed, view)
    view.run(program)


def _value_dtype(packed: PackedConstant) -> np.dtype:
    from sparsec.dialects.sparse.encodings import fields

    [name] = [f.name for f in fields(packed.encoding, packed.shape) if f.kind == "value"]
    return np.asarray(packed.arrays[name]).dtype


def transposed(packed: PackedConstant) -> PackedConstant:
    """The weight of a matmul's constant right operand B[K][N] as a linear weight
    W = B^T [N][K], in the same format (a bcr block transposes with it)."""
    dense = unpack(packed.encoding, packed.shape, packed.arrays).T
    encoding = packed.encoding
    if isinstance(encoding, BCRAttr):
        encoding = BCRAttr(encoding.block[::-1])
    return PackedConstant(encoding, dense.shape, pack(encoding, np.ascontiguousarray(dense)))


def make_program(k: Kernel, packed: PackedConstant, view: _View) -> Program:
    from .bcr import BCRProgram
    from .csr import CSRProgram
    from .pattern import PatternProgram

    encoding = packed.encoding
    if isinstance(encoding, BCRAttr):
        if view.rows_per_group % encoding.block[0] == 0:
            return BCRProgram(k, packed, view.groups, view)
        # a tile would straddle two groups: the same weights, row by row
        dense = packed.dense()
        packed = PackedConstant(CSRAttr(), packed.shape, pack(CSRAttr(), dense))
    if isinstance(packed.encoding, PatternAttr):
        return PatternProgram(k, packed, view.groups, view)
    return CSRProgram(k, packed, view.groups, view)


# --- the two views ----------------------------------------------------------------------


class _View(Layout):
    """Tiles over (image, group, column chunk, row chunk) of one contraction. By default
    the packed input is panels Xp[K][nr], `stride` floats apart (im2col, x^T)."""

    images: int
    groups: int
    rows_per_group: int
    depth: int
    columns: int
    nv: int

    def __init__(self, k: Kernel, op: Operation, epilogue: Sequence[Operation], max_nv: int):
        self.k = k
        self.max_nv = max_nv
        self.E = k.E
        self.op = op
        self.lanes = k.lanes
        self.result = (epilogue[-1] if epilogue else op).results[0]
        self.out_dims = shape(self.result)
        self.steps: list[Step] = list(chain_steps(k, epilogue, op.results[0]))

    @property
    def nr(self) -> int:
        return self.nv * self.lanes

    def choose_nv(self, *budgets: tuple[int, int]) -> int:
        """Vectors per row: the format's register budget (`max_nv`), no more than the
        columns need, fewer while a (bytes per column, budget) scratch would not fit."""
        nv = min(self.max_nv, ceil_div(self.columns, self.lanes))
        while nv > 1 and any(per * nv * self.lanes > budget for per, budget in budgets):
            nv -= 1
        return nv

    def run(self, program: Program) -> None:
        k, E, lanes = self.k, self.E, self.lanes
        self.accesses = [[o.access(k, self.out_dims) for o in step.operands]
                         for step in self.steps]
        total = ceil_div(self.columns, self.nr)
        per_chunk = self.per_chunk = self.panels_per_chunk(total)
        chunks = ceil_div(total, per_chunk)
        xp = E.alloca(self.chunk_floats())
        units, rows_per_unit = program.units, program.rows_per_unit
        chunk_units = units
        if self.transposed_rows:
            chunk_units = max(1, min(units, YT_BYTES // (rows_per_unit * per_chunk
                                                         * self.nr * 4)))
        while (self.images * self.groups * chunks * ceil_div(units, chunk_units)
               < 4 * k.threads and chunk_units > 1):
            chunk_units = ceil_div(chunk_units, 2)
        row_chunks = ceil_div(units, chunk_units)
        self.scratch(chunk_units * rows_per_unit)
        program.prepare(k, chunk_units, per_chunk)
        tiles = self.images * self.groups * row_chunks * chunks
        self.iota = E.iota(lanes, I32)
        lo, hi = k.tile_range(tiles)
        with E.loop(lo, hi) as tile:
            t = tile.iv
            chunk = E.irem(t, chunks)
            t = E.idiv(t, chunks)
            row_chunk = E.irem(t, row_chunks)
            t = E.idiv(t, row_chunks)
            g = E.irem(t, self.groups)
            image = E.idiv(t, self.groups)
            u0 = E.imul(row_chunk, chunk_units)
            u1 = E.imin(units, E.iadd(u0, chunk_units))
            first_panel = E.imul(chunk, per_chunk)
            count = E.imin(per_chunk, E.isub(total, first_panel))
            self.pack_chunk(image, g, chunk, first_panel, count, xp)
            first = E.imul(g, self.rows_per_group)
            row_lo = E.iadd(first, E.imul(u0, rows_per_unit))
            row_hi = E.iadd(first, E.imin(self.rows_per_group, E.imul(u1, rows_per_unit)))
            sink = self.sink(image, first_panel, row_lo)
            program.emit(k, g, u0, u1, Panels(xp, count, self.bases), self.nv, sink)
            self.finish(image, first_panel, count, row_lo, row_hi)

    transposed_rows = False
    """Whether the sink keeps rows back for `finish` (then row chunks are bounded)."""

    @property
    def stride(self) -> int:
        """Floats per panel (+ lanes: the linear pack's last block writes past row K)."""
        return (self.depth + self.lanes) * self.nr

    def panels_per_chunk(self, total: int) -> int:
        return max(1, min(total, XP_BYTES // (self.stride * 4)))

    def chunk_floats(self) -> int:
        return self.per_chunk * self.stride

    def offset(self, k: np.ndarray) -> np.ndarray:
        return np.asarray(k, np.int64) * self.nr

    def bases(self, E: Emitter, p: Index) -> list[Index]:
        base = E.imul(p, self.stride)
        return [E.iadd(base, v * self.lanes) for v in range(self.nv)]

    def pack_chunk(self, image: Index, g: Index, chunk: Index, first_panel: Index,
                   count: Index, xp: SSAValue) -> None:
        with self.E.loop(0, count) as p:
            self.pack(image, g, self.E.iadd(first_panel, p.iv), xp,
                      self.E.imul(p.iv, self.stride))

    def scratch(self, rows: int) -> None:
        """Allocate any per-tile buffers besides Xp (`rows`: most rows a tile has)."""

    def pack(self, image: Index, g: Index, panel: Index, xp: SSAValue, base: Index) -> None:
        """xp[base + k * nr + lane] = X[k, panel * nr + lane]."""
        raise NotImplementedError

    def sink(self, image: Index, first_panel: Index, row_lo: Index) -> Sink:
        raise NotImplementedError

    def finish(self, image: Index, first_panel: Index, count: Index, row_lo: Index,
               row_hi: Index) -> None:
        """After the tile's rows: write out what the sink kept back."""

    def bias_step(self, dims: tuple[int, ...]) -> None:
        bias = getattr(self.op, "bias", None)
        if bias is not None:
            self.steps.insert(0, Step(self.op, [Operand(dims, bias)], 0,
                                      lambda E_, v: E_.fadd(v[0], v[1])))


class _ConvView(_View):
    def __init__(self, k: Kernel, op: nn.Conv2dOp, epilogue: Sequence[Operation],
                 max_nv: int):
        super().__init__(k, op, epilogue, max_nv)
        self.images, self.c_in, self.h, self.w = shape(op.input)
        self.c_out, self.cg, self.kh, self.kw = shape(op.weight)
        _, _, self.oh, self.ow = shape(op.result)
        self.groups = op.groups.value.data
        self.sh, self.sw = _ints(op.stride)
        self.top, self.left = _ints(op.padding)[:2]
        self.dh, self.dw = _ints(op.dilation)
        self.rows_per_group = self.c_out // self.groups
        self.taps = self.kh * self.kw
        self.depth = self.cg * self.taps
        self.owp = ceil_div(self.ow, self.lanes) * self.lanes
        self.columns = self.oh * self.owp
        self.nv = self.choose_nv(*self.panel_budgets())
        self.full_vectors = self.ow % self.lanes == 0 and self.columns % self.nr == 0
        self.bias_step((self.c_out, 1, 1))
        self.x = k.buffer(op.input)
        self.y = k.buffer(self.result)

    def panel_budgets(self) -> list[tuple[int, int]]:
        """(bytes per column, budget) of the packed input: an im2col panel Xp[K][nr]."""
        return [(self.depth * 4, PANEL_BYTES)]

    def column(self, chunk: Index, v: Index) -> Column:
        """Vector v of a chunk: output row and column of lane 0, lane mask, all valid?"""
        E, lanes = self.E, self.lanes
        q = E.iadd(E.imul(chunk, self.nr), E.imul(v, lanes))
        out_row = E.idiv(q, self.owp)
        ow0 = E.irem(q, self.owp)
        in_row = E.cmpi("slt", out_row, self.oh)
        limit = E.select(in_row, E.cast_index(E.index(E.isub(self.ow, ow0)), I32),
                         E.const(0, I32))
        mask = E.cmpi("slt", self.iota, E.splat(limit, lanes))
        full = E.cmpi("sge", limit, E.const(lanes, I32))
        offset = E.iadd(E.imul(out_row, self.ow), ow0)
        return Column(offset, None if self.full_vectors else mask, full, [out_row, ow0])

    def pack(self, image: Index, g: Index, panel: Index, xp: SSAValue, base: Index) -> None:
        """xp[base + (ci * taps + tap) * nr + lane] = the im2col column of this panel:
        masked (strided) vector loads of the input, zeros in the padding."""
        E, lanes, nr = self.E, self.lanes, self.nr
        h, w, ow, oh = self.h, self.w, self.ow, self.oh
        vec_i32 = VectorType(I32, [lanes])
        x_base = E.imul(E.iadd(E.imul(image, self.c_in), E.imul(g, self.cg)), h * w)
        with E.loop(0, self.nv) as v:
            col = self.column(panel, v.iv)
            out_row, ow0 = col.position
            out_mask = E.cmpi("slt", self.iota, E.splat(E.select(
                E.cmpi("slt", out_row, oh), E.cast_index(E.index(E.isub(ow, ow0)), I32),
                E.const(0, I32)), lanes))
            first_col = E.iadd(E.imul(ow0, self.sw), -self.left)
            lane_cols = E.value(arith.AddiOp(
                E.splat(E.cast_index(E.index(first_col), I32), lanes),
                E.value(arith.MuliOp(self.iota, E.const(self.sw, vec_i32)))))
            with E.loop(0, self.kh) as i:
                ih = E.iadd(E.imul(out_row, self.sh), E.iadd(E.imul(i.iv, self.dh), -self.top))
                row_ok = E.and_(E.cmpi("sge", ih, 0), E.cmpi("slt", ih, h))
                row_mask = E.and_(out_mask, E.splat(row_ok, lanes))
                row_start = E.iadd(x_base, E.imul(E.imax(E.imin(ih, h - 1), 0), w))
                with E.loop(0, self.kw) as j:
                    shift = E.imul(j.iv, self.dw)
                    cols = E.value(arith.AddiOp(lane_cols, E.splat(
                        E.cast_index(E.index(shift), I32), lanes)))
                    inside = E.and_(E.cmpi("sge", cols, E.const(0, vec_i32)),
                                    E.cmpi("slt", cols, E.const(w, vec_i32)))
                    mask = E.and_(row_mask, inside)
                    source = E.iadd(row_start, E.iadd(first_col, shift))
                    tap = E.iadd(E.imul(i.iv, self.kw), j.iv)
                    target = E.iadd(base, E.iadd(E.imul(tap, nr), E.imul(v.iv, lanes)))
                    with E.loop(0, self.cg) as ci:
                        value = E.vload_strided(self.x, E.iadd(source, E.imul(ci.iv, h * w)),
                                                lanes, self.sw, mask, 0.0)
                        E.vstore(value, xp, E.iadd(target, E.imul(ci.iv, self.taps * nr)))

    def sink(self, image: Index, first_panel: Index, row_lo: Index) -> Sink:
        E = self.E

        def store(row: Index, acc: list[SSAValue], p: Index) -> None:
            cols = [self.column(E.iadd(first_panel, p), v) for v in range(self.nv)]
            for v, value in enumerate(acc):
                index = E.iadd(E.imul(E.iadd(E.imul(image, self.c_out), row),
                                      self.oh * self.ow), cols[v].offset)

                def emit(mask: SSAValue | None, v: int = v, value: SSAValue = value,
                         index: Index = index) -> None:
                    out = _apply_steps(self.k, self.steps, self.accesses, value, [image, row],
                                       cols[v], mask)
                    E.vstore_where(out, self.y, index, mask)
                cols[v].split(E, emit)
        return store


class _DirectConvView(_ConvView):
    """A convolution without im2col: the tile packs a band of input rows, zero padded, and
    every tap reads it in place -- a plain vector load per tap, about taps x less packing
    than im2col. Stride s along the columns splits each band row into its s column
    phases (the phases some tap reads), so that consecutive output columns read
    consecutive floats:

        P[ci][phase][r][c] = Xpad[ci][band start + r][c * s + phase]
        X[(ci, i, j), (oy, ox)] = P[ci][(j * dw) % s][oy * sh + i * dh][ox + (j * dw) // s]

    with wpp = owp + ((kw - 1) * dw) // s columns per row (stride 1: one phase, the
    padded rows themselves). A chunk is a band of output rows (a multiple of rows that
    makes whole panels); it reads (rows - 1) * sh + (kh - 1) * dh + 1 input rows."""

    def __init__(self, k: Kernel, op: nn.Conv2dOp, epilogue: Sequence[Operation],
                 max_nv: int, whole_rows: bool = False):
        self.whole_rows = whole_rows
        super().__init__(k, op, epilogue, max_nv)
        self.phases = sorted({j * self.dw % self.sw for j in range(self.kw)})
        self.wpp = self.owp + (self.kw - 1) * self.dw // self.sw
        self.halo = (self.kh - 1) * self.dh + 1  # input rows of one output row
        vectors = self.owp // self.lanes
        step = self.nv // gcd(vectors, self.nv)  # rows that make whole panels
        plane_row = self.cg * len(self.phases) * self.wpp * 4
        fit = (XP_BYTES // plane_row - self.halo) // self.sh + 1
        self.band_rows = max(step, min(fit, ceil_div(self.oh, step) * step) // step * step)
        self.bh = (self.band_rows - 1) * self.sh + self.halo

    def choose_nv(self, *budgets: tuple[int, int]) -> int:
        """With `whole_rows` (the pattern kernels): a panel is whole output rows, or an
        equal part of one, so that its vectors' input offsets differ by constants (one
        base register: LLVM folds the rest into the loads; vectors that wrap to the
        next row each keep a register of their own). ResNet-18's 64@56 layer with
        patterns, nv = 7 (one row) against 8: 0.70 against 0.85 ms."""
        nv = super().choose_nv(*budgets)
        if not self.whole_rows:
            return nv
        per_row = self.owp // self.lanes
        if per_row <= nv:
            return nv // per_row * per_row
        return max(d for d in range(1, nv + 1) if per_row % d == 0)

    def panel_budgets(self) -> list[tuple[int, int]]:
        # no panels: the taps read the band in place, and XP_BYTES bounds the band. (The
        # im2col panel's budget held 512-channel layers to nv = 1, which bands single
        # output rows and re-reads the weight for each; AOT, fastest of 20-300: VGG-16's
        # 512@28 layer, BCR 16x16 at 90%, 9.6 -> 8.4 ms with nv = 3, patterns 24.4 ->
        # 18.4 ms; ResNet-18's 512@7 with patterns 1.17 -> 0.95 ms)
        return []

    def fits(self) -> bool:
        # A strided 1x1 convolution reads every s-th row and column: its im2col is
        # smaller than the band. The smallest band (the rows of whole panels) of a wide,
        # deep layer exceeds XP_BYTES; up to 4x it still beats im2col's taps-fold
        # packing (VGG-16's 64@224 layer, BCR 16x16 at 90%: 28.9 ms through im2col,
        # 12.0 ms from a 297 KB band).
        return (self.taps > 1 or (self.sh, self.sw) == (1, 1)) \
            and self.chunk_floats() * 4 <= 4 * XP_BYTES

    def panels_per_chunk(self, total: int) -> int:
        return self.band_rows * self.owp // self.nr

    def chunk_floats(self) -> int:
        # + lanes: a row's last store
        return self.cg * len(self.phases) * self.bh * self.wpp + self.lanes

    def bytes_per_k(self) -> float | None:
        # the taps of an input channel read its band rows in place. (Only this view cuts
        # K: the linear view's panels, Xp[K][nr] with each K row one cache line, ran
        # slower in segments: BCR 8x4 at 90% on a 4096 x 4096 linear layer with 128
        # rows, 24.6 ms whole, 31.6 ms in 16 segments; 16x16 8.9 against 11.1 ms.)
        return len(self.phases) * self.bh * self.wpp * 4 / self.taps

    def offset(self, k: np.ndarray) -> np.ndarray:
        k = np.asarray(k, np.int64)
        ci, tap = k // self.taps, k % self.taps
        column = tap % self.kw * self.dw
        plane = np.searchsorted(self.phases, column % self.sw)
        return (((ci * len(self.phases) + plane) * self.bh + tap // self.kw * self.dh)
                * self.wpp + column // self.sw)

    def bases(self, E: Emitter, p: Index) -> list[Index]:
        out = []
        for v in range(self.nv):
            q = E.iadd(E.imul(p, self.nr), v * self.lanes)  # column within the band
            out.append(E.iadd(E.imul(E.idiv(q, self.owp), self.sh * self.wpp),
                              E.irem(q, self.owp)))
        return out

    def pack_chunk(self, image: Index, g: Index, chunk: Index, first_panel: Index,
                   count: Index, xp: SSAValue) -> None:
        """xp[((ci * phases + plane) * bh + r) * wpp + c] = x[ci, band start + r - top,
        c * s + phase - left], zeros outside the input; each row by masked (strided)
        vector loads (a row's last store runs into the next row, written after it)."""
        E, lanes, h, w, s = self.E, self.lanes, self.h, self.w, self.sw
        vec_i32 = VectorType(I32, [lanes])
        x_base = E.imul(E.iadd(E.imul(image, self.c_in), E.imul(g, self.cg)), h * w)
        first_row = E.iadd(E.imul(chunk, self.band_rows * self.sh), -self.top)
        lane_steps = E.value(arith.MuliOp(self.iota, E.const(s, vec_i32)))
        with E.loop(0, self.cg) as ci:
            for plane, phase in enumerate(self.phases):
                with E.loop(0, self.bh) as r:
                    ih = E.iadd(first_row, r.iv)
                    row_in = E.and_(E.cmpi("sge", ih, 0), E.cmpi("slt", ih, h))
                    row_ok = E.splat(row_in, lanes)
                    source = E.iadd(E.iadd(x_base, E.imul(ci.iv, h * w)),
                                    E.imul(E.imax(E.imin(ih, h - 1), 0), w))
                    target = E.imul(E.iadd(E.imul(E.iadd(E.imul(ci.iv, len(self.phases)),
                                                         plane), self.bh), r.iv), self.wpp)
                    with E.loop(0, self.wpp, lanes) as c:
                        column = E.iadd(E.imul(c.iv, s), phase - self.left)
                        lane_cols = E.value(arith.AddiOp(
                            E.splat(E.cast_index(E.index(column), I32), lanes), lane_steps))
                        at = E.iadd(source, column)

                        def edge(lane_cols=lane_cols, at=at, row_ok=row_ok) -> list[SSAValue]:
                            inside = E.and_(E.cmpi("sge", lane_cols, E.const(0, vec_i32)),
                                            E.cmpi("slt", lane_cols, E.const(w, vec_i32)))
                            return [E.vload_strided(self.x, at, lanes, s,
                                                    E.and_(row_ok, inside), 0.0)]
                        # a vector wholly inside the row: a plain load (the masked load
                        # of every vector cost about a fifth of VGG-16's 64@224 layer)
                        interior = E.and_(row_in, E.and_(
                            E.cmpi("sge", column, 0), E.cmpi("sle", column, w - lanes * s)))
                        [value] = E.choose(interior, lambda at=at: [E.vload_strided(
                            self.x, at, lanes, s, None, 0.0)], edge)
                        E.vstore(value, xp, E.iadd(target, c.iv))


class _LinearView(_View):
    def __init__(self, k: Kernel, op: nn.LinearOp | nn.MatmulOp,
                 epilogue: Sequence[Operation], max_nv: int):
        super().__init__(k, op, epilogue, max_nv)
        lhs = op.input if isinstance(op, nn.LinearOp) else op.lhs
        x_dims = shape(lhs)
        self.images, self.groups = 1, 1
        self.depth = x_dims[-1]
        self.columns = prod(x_dims[:-1])  # the rows of x
        self.rows_per_group = self.out_dims[-1]
        self.nv = self.choose_nv((self.depth * 4, PANEL_BYTES))
        if isinstance(op, nn.LinearOp):
            self.bias_step((self.rows_per_group,))
        self.x = k.buffer(lhs)
        self.y = k.buffer(self.result)

    transposed_rows = True

    def scratch(self, rows: int) -> None:
        # Yt[row - row_lo][panel][nr]; rows past the last are read (never stored) by the
        # last lanes x lanes block
        self.yt = self.E.alloca((rows + self.lanes) * self.per_chunk * self.nr)

    def pack(self, image: Index, g: Index, panel: Index, xp: SSAValue, base: Index) -> None:
        """xp[base + kk * nr + j] = x[panel * nr + j, kk]: lanes x lanes blocks of x (rows past
        the last re-read the last: their columns are never stored) transposed in
        registers. The last block of a depth that is not a multiple of the vector width
        is read through a mask and writes past row K of xp (allocated for it)."""
        E, lanes, nr, depth, rows = self.E, self.lanes, self.nr, self.depth, self.columns
        first = E.imul(panel, nr)
        with E.loop(0, depth, lanes) as kk:
            mask = None
            if depth % lanes:
                limit = E.cast_index(E.index(E.isub(depth, kk.iv)), I32)
                mask = E.cmpi("slt", self.iota, E.splat(limit, lanes))
            for v in range(self.nv):
                block = []
                for i in range(lanes):
                    row = E.imin(E.iadd(first, v * lanes + i), rows - 1)
                    at = E.iadd(E.imul(row, depth), kk.iv)
                    block.append(E.vload_where(self.x, at, lanes, mask))
                for i, column in enumerate(transpose(E, block)):
                    E.vstore(column, xp, E.iadd(base, E.iadd(E.imul(E.iadd(kk.iv, i), nr),
                                                             v * lanes)))

    def sink(self, image: Index, first_panel: Index, row_lo: Index) -> Sink:
        E = self.E

        def keep(row: Index, acc: list[SSAValue], p: Index) -> None:
            at = E.imul(E.iadd(E.imul(E.isub(row, row_lo), self.per_chunk), p), self.nr)
            for v, value in enumerate(acc):
                E.vstore(value, self.yt, E.iadd(at, v * self.lanes))
        return keep

    def finish(self, image: Index, first_panel: Index, count: Index, row_lo: Index,
               row_hi: Index) -> None:
        """y[b, r..r+lanes] = epilogue(Yt[r..r+lanes][b]) for the tile's rows b of x: a
        lanes x lanes block of Yt is read as `lanes` row vectors and transposed in
        registers (log2(lanes) rounds of interleaving shuffles)."""
        E, lanes, nr = self.E, self.lanes, self.nr
        with E.loop(row_lo, row_hi, lanes) as r:
            limit = E.cast_index(E.index(E.imin(E.isub(row_hi, r.iv), lanes)), I32)
            mask = E.cmpi("slt", self.iota, E.splat(limit, lanes))
            full = E.cmpi("sge", limit, E.const(lanes, I32))
            col = Column(r.iv, mask, full, [r.iv])
            with E.loop(0, count) as p:
                first = E.imul(E.iadd(first_panel, p.iv), nr)
                for v in range(self.nv):
                    block = [E.vload(self.yt, E.iadd(E.imul(E.iadd(E.imul(E.iadd(
                        E.isub(r.iv, row_lo), i), self.per_chunk), p.iv), nr), v * lanes),
                        lanes) for i in range(lanes)]
                    for j, value in enumerate(transpose(E, block)):
                        b = E.iadd(first, v * lanes + j)
                        E.choose(E.cmpi("slt", b, self.columns),
                                 lambda b=b, value=value: self._write(b, r.iv, value, col)
                                 or [], lambda: [])

    def _write(self, b: Index, r: Index, value: SSAValue, col: Column) -> None:
        E = self.E
        row_ivs: list[Index] = []
        rest: Index = b
        for size in reversed(self.out_dims[:-1]):
            row_ivs.insert(0, E.irem(rest, size))
            rest = E.idiv(rest, size)
        index = E.iadd(E.imul(b, self.rows_per_group), r)

        def emit(mask: SSAValue | None) -> None:
            out = _apply_steps(self.k, self.steps, self.accesses, value, row_ivs, col, mask)
            E.vstore_where(out, self.y, index, mask)
        col.split(E, emit)


def transpose(E: Emitter, rows: list[SSAValue]) -> list[SSAValue]:
    """The columns of a square block given as its rows (a power-of-two count): each round
    interleaves row i with row i + n/2; log2(n) rounds transpose."""
    n = len(rows)
    low = [x for i in range(n // 2) for x in (i, n + i)]
    high = [x for i in range(n // 2, n) for x in (i, n + i)]
    for _ in range(n.bit_length() - 1):
        rows = [out for i in range(n // 2)
                for out in (E.shuffle(rows[i], rows[i + n // 2], low),
                            E.shuffle(rows[i], rows[i + n // 2], high))]
    return rows


def zeros(E: Emitter, nv: int, lanes: int) -> list[SSAValue]:
    zero = E.const(0.0, VectorType(f32, [lanes]))
    return [zero] * nv
