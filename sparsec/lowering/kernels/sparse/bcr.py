"""GRIM's BCR kernel: a `#sparse.bcr` weight, tile by tile.

Every tile of the block grid keeps kr whole rows and kc whole columns (a small dense
kr x kc matrix). A block row of W (bm output rows) is computed with its bm x nv sums in
vector registers:

    acc[bm][nv] = 0
    for kc in the column counts present in the layer:   # unrolled: one body per count
        for each tile of this block row keeping kc columns:
            xs[j] = Xp[kept column j]            j < kc   # loaded once per tile ...
            acc[i] += W[i, j] * xs[j]      i < bm, j < kc # ... reused by all its rows
    store(epilogue(acc[i])) for i < bm

Grouping the tiles by column count is GRIM's reorder for this kernel: every kept row of
a tile shares its column set, so each body is straight-line code (kc x nv vector loads,
bm x kc x nv FMAs) with no branch and no per-row index. The tile's pruned rows are
zeros in the re-packed values (bm x kc per tile): when tiles keep most of their rows, a
few FMAs on zeros buy sums that never leave the registers. Pruning gives every tile of
a layer the same kr x kc (`schemes`), so a layer usually has a single body.

When bm + bk vectors do not fit the register file (e.g. 16-row tiles on AVX2), or the
tiles keep half their rows or fewer (8x4 at 80%: 3 of 8), the sums live in a small
stack block Yb[bm][nr] instead and only the kept rows are updated (`_update`, one body
per (kr, kc)), in chunks of rows whose sums fit the registers (`row_chunks`):

    acc[i][nv] = Yb[kept row i]                        i in the chunk
    for j < kc:
        xs = Xp[kept column j]                          # nv vectors, once per chunk
        acc[i] += W[i, j] * xs                          # outer product: rows x column
    Yb[kept row i] = acc[i]

so the loads and stores of the sums are amortised over kc, each column is loaded once
per chunk and the FMAs are all useful. When a convolution's band of input rows is large,
K is cut into segments (`segment_columns`) and the loops run segment -> block row ->
panel -> tiles of the segment, each (block row, panel) keeping its own Yb between
segments: every block row reads the segment's part of the band while it is still close.

Compile time re-packs the format's arrays (row_ptr, rows, col_ptr, cols, val_ptr,
values) by tile shape s: the tiles of each shape in block-row order, each a fixed-size
record in `meta` ([kr row offsets into Yb,] kc column offsets into Xp) and in `values`
(bm x kc, or kr x kc), so a tile's records are found from its index alone;
`tptr[s * (block rows * segments + 1) + br * segments + seg]` is the first tile of shape
s in block row br and K segment seg.
"""

from __future__ import annotations

import numpy as np
from xdsl.ir import SSAValue

from sparsec.dialects.sparse.encodings import BCRAttr, matrix_view

from ...emitter import Index
from ...target import Target
from ..base import Kernel
from . import PackedConstant
from .core import (
    XP_BYTES,
    Layout,
    Panels,
    Program,
    Sink,
    index_array,
    load_index,
    value_array,
    zeros,
)


def in_registers(encoding: BCRAttr, target: Target, kept_rows: float) -> bool:
    """Whether a block row's sums stay in registers: bm sums and bk columns fit with a
    broadcast register to spare, and the tiles keep more than half their rows
    (`kept_rows` on average). Otherwise only the kept rows' sums are updated, in memory:
    the FMAs on pruned rows would outnumber the useful ones. Measured on ResNet-18's
    64@56 and 256@14 layers with 8x4 tiles (fastest of 300 runs): keeping 3 of 8 rows
    (80%), 1.03 / 1.07 ms in memory against 2.25 / 1.85 ms in registers; keeping all 8
    rows (50%), 2.13 / 2.41 ms against 1.67 / 1.87 ms."""
    bm, bk = encoding.block
    return bm + bk + 1 <= target.vector_registers and 2 * kept_rows > bm


def mean_kept_rows(packed: PackedConstant) -> float:
    """Kept rows per tile, on average over the tiles that keep anything."""
    rows = np.diff(np.asarray(packed.arrays["row_ptr"], np.int64))
    cols = np.diff(np.asarray(packed.arrays["col_ptr"], np.int64))
    kept = rows[(rows > 0) & (cols > 0)]
    return float(kept.mean()) if kept.size else 0.0


def vectors_per_row(packed: PackedConstant, target: Target) -> int:
    """Vectors of columns per row the kernel keeps in registers (at least 1)."""
    encoding = packed.encoding
    assert isinstance(encoding, BCRAttr)
    bm, bk = encoding.block
    if not in_registers(encoding, target, mean_kept_rows(packed)):
        # a tile's update holds a chunk of r of its kept rows' sums (r x nv) and one
        # column's nv vectors, plus a broadcast weight: nv (r + 1) + 1 registers, and it
        # loads 1/kc + 1/r + 1/nv vectors per FMA (sums, columns, weights). nv leaves room
        # for chunks of 4 rows: 3 on AVX2 (a 5-row tile in chunks of 3 and 2), 4 (capped)
        # with 32 registers. On AVX2, 16x16 tiles at 90% (5 x 5 kept), fastest of 20-300
        # AOT runs: nv = 3 ran VGG-16's 128@112 layer in 7.9-8.2 ms, nv = 2 (the 5 rows
        # in one chunk) in 8.7-10.7 ms, ResNet-18's 64@56 in 0.39-0.40 / 0.42-0.45 ms; the
        # direct convolution's band holds whole panels, so nv = 2 on 28 or 224 columns
        # bands single output rows, nv = 3 three
        return min(4, max(1, (target.vector_registers - 1) // 5))
    return max(1, (target.vector_registers - 1) // (bm + bk))


X_SEGMENT_BYTES = 16 * 1024
"""In-memory BCR: the bytes of packed X a K segment covers (the tile's whole chunk of X,
every panel: all of them are read while a block row's tiles of the segment run)."""
MIN_SEGMENT = 4
"""Fewest block columns in a K segment: each (block row, panel) loads and stores its
sums once per segment."""
SUMS_BYTES = 256 * 1024
"""Most a tile's sums may take when K is segmented (they wait in L2 between segments)."""


def segment_columns(bytes_per_k: float, bk: int, block_cols: int, sums_bytes: int) -> int:
    """Block columns per K segment of an in-memory BCR kernel over a convolution's band
    (`Layout.bytes_per_k`).

    A block row's tiles read their kept columns of the tile's X chunk (`bytes_per_k` per
    row of X) scattered over all of K; when the chunk is larger than the tile budget
    (`XP_BYTES`), every block row reads it again from L2 (or further), through more pages
    than the L1 TLB maps (which of the two costs more, this machine has no counters to
    tell). Cutting K into segments of about `X_SEGMENT_BYTES` of X and
    running every block row over one segment before the next keeps the segment's X
    close; the price is the sums of every (block row, panel) of the tile (`sums_bytes`),
    loaded and stored once per segment. One segment (all of K) when the chunk fits the
    budget or the sums would exceed `SUMS_BYTES`.

    Measured (JIT, one thread, fastest of 30-45 calls in alternating turns; BCR 16x16 at
    90%; VGG-16's layers): 512@28 8.65 -> 6.99 ms (16 KB segments; 32 KB 7.03, 64 KB
    7.34), 64@224 10.3 -> 8.6-8.9 ms (4 columns; 2 columns 10.1), 128@112 8.6 -> 7.5 ms,
    256@56 7.3 -> 6.4 ms; BCR 8x4 at 90%: 512@28 16.9 -> 15.4 ms, 64@224 17.2 -> 16.2 ms.
    ResNet-18's layers, whose chunks fit the budget, were 0-6% slower segmented."""
    if bytes_per_k * block_cols * bk <= XP_BYTES or sums_bytes > SUMS_BYTES:
        return block_cols
    return min(block_cols, max(MIN_SEGMENT, int(X_SEGMENT_BYTES // bytes_per_k) // bk))


def row_chunks(kr: int, nv: int, target: Target) -> list[range]:
    """A tile's kept rows in near-equal chunks whose r x nv sums fit the registers with
    one column's nv vectors and a broadcast weight: nv (r + 1) + 1 <= registers."""
    most = max(1, (target.vector_registers - 1) // nv - 1)
    count = -(-kr // most)
    bounds = [kr * c // count for c in range(count + 1)]
    return [range(bounds[c], bounds[c + 1]) for c in range(count)]


class BCRProgram(Program):
    def __init__(self, k: Kernel, packed: PackedConstant, groups: int, layout: Layout):
        encoding = packed.encoding
        assert isinstance(encoding, BCRAttr)
        (m, kdim), (bm, bk) = matrix_view(packed.shape), encoding.block
        arrays = {name: np.asarray(a) for name, a in packed.arrays.items()}
        nr = layout.nr
        self.bm, self.nr = bm, nr
        self.rows_per_unit = bm
        self.units = m // groups // bm
        self.registers = in_registers(encoding, k.target, mean_kept_rows(packed))
        block_rows, block_cols = m // bm, kdim // bk
        row_ptr, col_ptr, val_ptr = (arrays[n].astype(np.int64)
                                     for n in ("row_ptr", "col_ptr", "val_ptr"))
        rows_of, cols_of = arrays["rows"].astype(np.int64), arrays["cols"].astype(np.int64)
        values = np.asarray(arrays["values"], np.float32)
        kr, kc = np.diff(row_ptr), np.diff(col_ptr)
        tiles = np.nonzero((kr > 0) & (kc > 0))[0]  # row-major: block rows in order
        key_rows = np.zeros_like(kr) if self.registers else kr
        keys = key_rows[tiles] * (bk + 1) + kc[tiles]
        self.shapes = [(int(key) // (bk + 1), int(key) % (bk + 1)) for key in np.unique(keys)]
        self.block_rows, self.block_cols, self.bk = block_rows, block_cols, bk
        self.bytes_per_k = layout.bytes_per_k()  # None: K stays whole
        self.chosen: list[np.ndarray] = []  # each shape's tiles (row-major grid indices)
        meta: list[np.ndarray] = []
        stored: list[np.ndarray] = []
        self.meta_base, self.value_base = [], []
        meta_size = value_size = 0
        for rows_kept, cols_kept in self.shapes:
            chosen = tiles[keys == rows_kept * (bk + 1) + cols_kept]
            self.chosen.append(chosen)
            self.meta_base.append(meta_size)
            self.value_base.append(value_size)
            cols = layout.offset(cols_of[col_ptr[chosen][:, None] + np.arange(cols_kept)])
            if self.registers:  # bm x kc per tile, zeros in the pruned rows
                tile_values = np.zeros((len(chosen), bm, cols_kept), np.float32)
                for count in np.unique(kr[chosen]):
                    where = np.nonzero(kr[chosen] == count)[0]
                    some = chosen[where]
                    rows = rows_of[row_ptr[some][:, None] + np.arange(count)] % bm
                    tile_values[where[:, None], rows] = values[
                        val_ptr[some][:, None] + np.arange(count * cols_kept)].reshape(
                            len(some), count, cols_kept)
                records = cols
            else:
                rows = rows_of[row_ptr[chosen][:, None] + np.arange(rows_kept)] % bm
                tile_values = values[val_ptr[chosen][:, None]
                                     + np.arange(rows_kept * cols_kept)]
                records = np.concatenate([rows * nr, cols], axis=1)
            meta.append(records.reshape(-1))
            stored.append(tile_values.reshape(-1))
            meta_size += records.size
            value_size += tile_values.size
        self.meta = self.store(k, index_array(np.concatenate(meta) if meta else []))
        self.values = self.store(k, value_array(np.concatenate(stored) if stored
                                                else np.zeros(0, np.float32)))

    def prepare(self, k: Kernel, units: int, panels: int) -> None:
        """Cut K into segments (in-memory sums only, `segment_columns`) and index each
        shape's tiles by (block row, segment): `tptr[s * (block rows * segments + 1) + br *
        segments + seg]` is the first tile of shape s in block row br and segment seg
        (the tiles are in row-major order, so each such run is contiguous)."""
        bm, nr = self.bm, self.nr
        per_segment = self.block_cols
        if not self.registers and self.bytes_per_k is not None:
            per_segment = segment_columns(self.bytes_per_k, self.bk, self.block_cols,
                                          units * panels * bm * nr * 4)
        self.segments = -(-self.block_cols // per_segment)
        tptr = []
        for chosen in self.chosen:
            keys = chosen // self.block_cols * self.segments \
                + chosen % self.block_cols // per_segment
            counts = np.bincount(keys, minlength=self.block_rows * self.segments)
            tptr.append(np.concatenate([[0], np.cumsum(counts)]))
        self.tptr = self.store(k, index_array(np.concatenate(tptr) if tptr else [0]))
        self.yb = None
        if not self.registers:
            # the sums of every (unit, panel) of a tile when K is segmented, else of one
            self.yb = k.E.alloca((units * panels if self.segments > 1 else 1) * bm * nr)

    def emit(self, k: Kernel, g: Index, u0: Index, u1: Index, panels: Panels, nv: int,
             sink: Sink) -> None:
        E = k.E
        first = E.imul(g, self.units)
        lo, hi = E.iadd(first, u0), E.iadd(first, u1)
        if self.segments == 1:
            with E.loop(lo, hi) as block, E.loop(0, panels.count) as p:
                bases = panels.bases(E, p.iv)
                if self.registers:
                    self._emit_in_registers(k, block.iv, panels.xp, bases, p.iv, nv, sink)
                else:
                    self._zero(k, 0, nv)
                    self._update(k, block.iv, 0, 0, panels.xp, bases, nv)
                    self._sink(k, block.iv, 0, p.iv, nv, sink)
            return
        # K segments outermost: every block row's tiles in a segment read its X while it
        # is close, and update their sums (in L2), one slot per (block row, panel)
        size = self.bm * self.nr

        def slot(block: Index, p: Index) -> Index:
            return E.imul(E.iadd(E.imul(E.isub(block, lo), panels.count), p), size)
        with E.loop(0, E.imul(E.isub(hi, lo), panels.count)) as at:
            self._zero(k, E.imul(at.iv, size), nv)
        with E.loop(0, self.segments) as segment, E.loop(lo, hi) as block, \
                E.loop(0, panels.count) as p:
            self._update(k, block.iv, segment.iv, slot(block.iv, p.iv), panels.xp,
                         panels.bases(E, p.iv), nv)
        with E.loop(lo, hi) as block, E.loop(0, panels.count) as p:
            self._sink(k, block.iv, slot(block.iv, p.iv), p.iv, nv, sink)

    def _tiles(self, k: Kernel, block: Index, s: int,
               segment: Index = 0) -> tuple[SSAValue, SSAValue]:
        """Block row `block`'s tiles of shape s in K segment `segment`: [lo, hi) in that
        shape's list."""
        E = k.E
        head = E.iadd(E.iadd(E.imul(block, self.segments), segment),
                      s * (self.block_rows * self.segments + 1))
        return load_index(E, self.tptr, head), load_index(E, self.tptr, E.iadd(head, 1))

    def _columns(self, k: Kernel, at: Index, kc: int, xp: SSAValue, bases: list[Index],
                 nv: int) -> list[list[SSAValue]]:
        """The tile's kept columns of the panel (offsets at meta[at:at + kc]): kc x nv
        vectors."""
        E, lanes = k.E, k.lanes
        xs = []
        for j in range(kc):
            column = load_index(E, self.meta, E.iadd(at, j))
            xs.append([E.vload(xp, E.iadd(column, bases[v]), lanes) for v in range(nv)])
        return xs

    def _emit_in_registers(self, k: Kernel, block: Index, xp: SSAValue, bases: list[Index],
                           panel: Index, nv: int, sink: Sink) -> None:
        E, lanes, bm = k.E, k.lanes, self.bm
        acc = zeros(E, bm * nv, lanes)
        for s, (_, kc) in enumerate(self.shapes):
            lo, hi = self._tiles(k, block, s)
            with E.loop(lo, hi, carried=acc) as tile:
                m0 = E.iadd(self.meta_base[s], E.imul(tile.iv, kc))
                v0 = E.iadd(self.value_base[s], E.imul(tile.iv, bm * kc))
                xs = self._columns(k, m0, kc, xp, bases, nv)
                out = list(tile.args)
                for i in range(bm):
                    for j in range(kc):
                        weight = E.splat(E.load(self.values, E.iadd(v0, i * kc + j)), lanes)
                        for v in range(nv):
                            out[i * nv + v] = E.fma(weight, xs[j][v], out[i * nv + v])
                tile.next(*out)
            acc = tile.results
        for i in range(bm):
            sink(E.iadd(E.imul(block, bm), i), acc[i * nv:(i + 1) * nv], panel)

    def _zero(self, k: Kernel, at: Index, nv: int) -> None:
        """Zero the bm x nv vectors of sums at yb[at:]."""
        E, lanes = k.E, k.lanes
        assert self.yb is not None
        zero = zeros(E, 1, lanes)[0]
        for i in range(self.bm):
            for v in range(nv):
                E.vstore(zero, self.yb, E.iadd(at, i * self.nr + v * lanes))

    def _sink(self, k: Kernel, block: Index, at: Index, panel: Index, nv: int,
              sink: Sink) -> None:
        """Hand the block row's sums at yb[at:] to the sink, row by row."""
        E, lanes, nr, bm = k.E, k.lanes, self.nr, self.bm
        assert self.yb is not None
        with E.loop(0, bm) as i:
            row = E.iadd(at, E.imul(i.iv, nr))
            sink(E.iadd(E.imul(block, bm), i.iv),
                 [E.vload(self.yb, E.iadd(row, v * lanes), lanes) for v in range(nv)], panel)

    def _update(self, k: Kernel, block: Index, segment: Index, at: Index, xp: SSAValue,
                bases: list[Index], nv: int) -> None:
        """Add the block row's tiles in K segment `segment` to its sums at yb[at:], only
        the kept rows of each."""
        E, lanes = k.E, k.lanes
        yb = self.yb
        assert yb is not None
        for s, (kr, kc) in enumerate(self.shapes):
            lo, hi = self._tiles(k, block, s, segment)
            with E.loop(lo, hi) as tile:
                m0 = E.iadd(self.meta_base[s], E.imul(tile.iv, kr + kc))
                v0 = E.iadd(self.value_base[s], E.imul(tile.iv, kr * kc))
                rows = [E.iadd(load_index(E, self.meta, E.iadd(m0, i)), at) for i in range(kr)]
                columns = [load_index(E, self.meta, E.iadd(m0, kr + j)) for j in range(kc)]
                for chunk in row_chunks(kr, nv, k.target):
                    # outer products: the chunk's sums stay in registers over the tile's
                    # columns, each column vector is loaded once per chunk
                    offsets = {(i, v): E.iadd(rows[i], v * lanes) for i in chunk
                               for v in range(nv)}
                    acc = {key: E.vload(yb, offset, lanes) for key, offset in offsets.items()}
                    for j in range(kc):
                        xs = [E.vload(xp, E.iadd(columns[j], bases[v]), lanes)
                              for v in range(nv)]
                        for i in chunk:
                            weight = E.splat(E.load(self.values, E.iadd(v0, i * kc + j)),
                                             lanes)
                            for v in range(nv):
                                acc[i, v] = E.fma(weight, xs[v], acc[i, v])
                    for key, offset in offsets.items():
                        E.vstore(acc[key], yb, offset)
