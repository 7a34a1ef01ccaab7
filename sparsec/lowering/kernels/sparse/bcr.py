"""GRIM's BCR kernel: a `#sparse.bcr` weight, tile by tile.

Every tile of the block grid keeps kr whole rows and kc whole columns (a small dense
kr x kc matrix). For a block row of W:

    Yb[bm][nr] = 0
    for each (kr, kc) shape present in the layer:     # unrolled: one body per shape
        for each tile of this block row with that shape:
            xs[j] = Xp[kept column j]            j < kc   # loaded once per tile ...
            for i < kr:                                   # ... reused by all its rows
                Yb[kept row i] += sum_j W[i, j] * xs[j]
    store(epilogue(Yb[i])) for each of the block's bm rows

Grouping the tiles by shape is GRIM's reorder for this kernel: all kept rows of a tile
share its column set, so each body is straight-line code (kc x nv vector loads, kr x kc
x nv FMAs) with no per-row branch. Pruning gives every tile of a layer the same shape
(`schemes`), so a layer usually has a single body.

Compile time re-packs the format's arrays (row_ptr, rows, col_ptr, cols, val_ptr,
values) per tile into one `meta` record: [value start, kc column offsets into Xp, kr row
offsets into Yb]; `tptr[br * S + s]` delimits block row br's tiles of shape s.
"""

from __future__ import annotations

import numpy as np
from xdsl.ir import SSAValue

from sparsec.dialects.sparse.encodings import BCRAttr, matrix_view

from ...emitter import Index
from ..base import Kernel
from . import PackedConstant
from .core import Program, Sink, index_array, load_index, value_array, zeros


class BCRProgram(Program):
    def __init__(self, k: Kernel, packed: PackedConstant, groups: int, nr: int):
        encoding = packed.encoding
        assert isinstance(encoding, BCRAttr)
        (m, kdim), (bm, bk) = matrix_view(packed.shape), encoding.block
        arrays = {name: np.asarray(a).astype(np.int64) if name != "values" else np.asarray(a)
                  for name, a in packed.arrays.items()}
        self.bm, self.nr = bm, nr
        self.rows_per_unit = bm
        self.units = m // groups // bm
        block_rows, block_cols = m // bm, kdim // bk
        row_ptr, col_ptr, val_ptr = arrays["row_ptr"], arrays["col_ptr"], arrays["val_ptr"]
        kr = np.diff(row_ptr)
        kc = np.diff(col_ptr)
        tiles = np.nonzero((kr > 0) & (kc > 0))[0]
        self.shapes = sorted({(int(kr[t]), int(kc[t])) for t in tiles})
        shape_id = {s: i for i, s in enumerate(self.shapes)}
        count = len(self.shapes)
        keyed = sorted(tiles.tolist(), key=lambda t: (t // block_cols,
                                                      shape_id[(int(kr[t]), int(kc[t]))]))
        meta: list[int] = []
        starts: list[int] = []
        keys: list[int] = []
        for t in keyed:
            starts.append(len(meta))
            keys.append((t // block_cols) * count + shape_id[(int(kr[t]), int(kc[t]))])
            rows = arrays["rows"][row_ptr[t]:row_ptr[t + 1]]
            cols = arrays["cols"][col_ptr[t]:col_ptr[t + 1]]
            meta.append(int(val_ptr[t]))
            meta.extend((cols * nr).tolist())
            meta.extend(((rows % bm) * nr).tolist())
        tptr = np.searchsorted(np.asarray(keys, np.int64),
                               np.arange(block_rows * count + 1), side="left")
        self.tptr = k.weight(index_array(tptr))
        self.start = k.weight(index_array(starts))
        self.meta = k.weight(index_array(meta))
        self.values = k.weight(value_array(arrays["values"]))
        self.yb = k.E.alloca(bm * nr)

    def emit(self, k: Kernel, g: Index, u0: Index, u1: Index, xp: SSAValue, nv: int,
             sink: Sink) -> None:
        E, lanes, nr, bm = k.E, k.lanes, self.nr, self.bm
        count = len(self.shapes)
        first = E.imul(g, self.units)
        zero = zeros(E, 1, lanes)[0]
        with E.loop(E.iadd(first, u0), E.iadd(first, u1)) as block:
            for i in range(bm):
                for v in range(nv):
                    E.vstore(zero, self.yb, i * nr + v * lanes)
            for s, (kr, kc) in enumerate(self.shapes):
                head = E.iadd(E.imul(block.iv, count), s)
                lo = load_index(E, self.tptr, head)
                hi = load_index(E, self.tptr, E.iadd(head, 1))
                with E.loop(lo, hi) as tile:
                    m0 = load_index(E, self.start, tile.iv)
                    v0 = load_index(E, self.meta, m0)
                    xs = []
                    for j in range(kc):
                        at = load_index(E, self.meta, E.iadd(m0, 1 + j))
                        xs.append([E.vload(xp, E.iadd(at, v * lanes), lanes)
                                   for v in range(nv)])
                    for i in range(kr):
                        row = load_index(E, self.meta, E.iadd(m0, 1 + kc + i))
                        weights = [E.splat(E.load(self.values, E.iadd(v0, i * kc + j)), lanes)
                                   for j in range(kc)]
                        for v in range(nv):
                            at = E.iadd(row, v * lanes)
                            acc = E.vload(self.yb, at, lanes)
                            for j in range(kc):
                                acc = E.fma(weights[j], xs[j][v], acc)
                            E.vstore(acc, self.yb, at)
            with E.loop(0, bm) as i:
                sink(E.iadd(E.imul(block.iv, bm), i.iv),
                     [E.vload(self.yb, E.iadd(E.imul(i.iv, nr), v * lanes), lanes)
                      for v in range(nv)])
