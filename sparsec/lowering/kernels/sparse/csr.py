"""The unstructured baseline: a `#sparse.csr` weight, row by row.

    y[r, :] = sum_{e in indptr[r]:indptr[r+1]} values[e] * X[indices[e], :]

Each entry is one broadcast weight and `nv` vector FMAs against a row of the packed
chunk Xp; the sums of a row stay in registers. The format's arrays are used as they are,
with the column indices turned into offsets into the packed input (`Layout.offset`).
"""

from __future__ import annotations

from sparsec.dialects.sparse.encodings import matrix_view

from ...emitter import Index
from ..base import Kernel
from . import PackedConstant
from .core import Layout, Panels, Program, Sink, index_array, load_index, value_array, zeros


class CSRProgram(Program):
    def __init__(self, k: Kernel, packed: PackedConstant, groups: int, layout: Layout):
        rows, _ = matrix_view(packed.shape)
        arrays = packed.arrays
        self.rows_per_group = rows // groups
        self.units = self.rows_per_group
        self.indptr = self.store(k, index_array(arrays["indptr"]))
        self.offsets = self.store(k, index_array(layout.offset(arrays["indices"])))
        self.values = self.store(k, value_array(arrays["values"]))

    def emit(self, k: Kernel, g: Index, u0: Index, u1: Index, panels: Panels, nv: int,
             sink: Sink) -> None:
        E, lanes, xp = k.E, k.lanes, panels.xp
        first = E.imul(g, self.rows_per_group)
        with E.loop(E.iadd(first, u0), E.iadd(first, u1)) as row:
            start = load_index(E, self.indptr, row.iv)
            end = load_index(E, self.indptr, E.iadd(row.iv, 1))
            with E.loop(0, panels.count) as p:
                bases = panels.bases(E, p.iv)
                with E.loop(start, end, carried=zeros(E, nv, lanes)) as entry:
                    weight = E.splat(E.load(self.values, entry.iv), lanes)
                    at = load_index(E, self.offsets, entry.iv)
                    entry.next(*(E.fma(weight, E.vload(xp, E.iadd(at, bases[v]), lanes),
                                       entry.args[v]) for v in range(nv)))
                sink(row.iv, entry.results, p.iv)
