"""PatDNN's pattern kernels: a `#sparse.pattern` convolution weight (3x3 kernels, each
kept kernel keeps the 4 positions of one pattern of the set).

Compile time re-packs the FKW arrays (`encodings.fields`: reorder, offsets, strides,
pattern_ids, channels, weights) into the kernel's order without changing what they
store:
- filters in the format's filter kernel reorder (most kept kernels first), split by
  group: slot s of group g computes output channel order[s];
- each slot's kernels grouped by pattern: kernels[kptr[s * P + p] : kptr[s * P + p + 1]]
  have pattern p (the pattern runs), each with its input channel's offset in Xp and its
  4 weights.

The code has one branch-free loop per pattern of the set, its 4 tap offsets constants:

    acc[v] = 0 for each of the nv vectors of output columns
    for p, (t0, t1, t2, t3) in patterns:             # unrolled at compile time
        for kernel in run p of this filter:
            c = channel offset; w = its 4 weights
            for v: acc[v] += w0 * Xp[c + t0 + v] + w1 * Xp[c + t1 + v]   # 4 FMAs, one chain
                           + w2 * Xp[c + t2 + v] + w3 * Xp[c + t3 + v]
    store(epilogue(acc))

One chain per vector, and as many vectors as fit (`vectors_per_row`, at most 8): each
iteration is 4 * nv FMAs for one channel offset, 4 weight loads and one trip of the
loop, and nv chains of 4 FMAs hide the FMA latency. The earlier layout, 4 chains (one
per tap) of 3 vectors, paid those for 12 FMAs. JIT, fastest of 45 calls, ResNet-18's
3x3 layers with patterns: 64@56 0.75 -> 0.67 ms (nv = 7), 128@28 0.87-1.14 -> 0.67
(nv = 8), 256@14 0.87 -> 0.66 (8), 512@7 0.90 -> 0.62 (7); the whole ResNet-18 with
patterns 16.0-16.8 -> 12.5-13.1 ms (three processes each, in turns).
"""

from __future__ import annotations

import numpy as np
from xdsl.ir import SSAValue

from sparsec.dialects.sparse.encodings import PATTERN_SIZE, PatternAttr

from ...emitter import Index
from ...target import Target
from ..base import Kernel
from . import PackedConstant
from .core import Layout, Panels, Program, Sink, index_array, load_index, value_array, zeros

MAX_VECTORS = 8
"""Vectors of output columns per filter, at most: each is one accumulator register, and
its input address an offset from the panel's base (`_DirectConvView.choose_nv` makes a
panel whole output rows or a part of one, so that the offsets are constants)."""


def vectors_per_row(target: Target) -> int:
    """nv sums and the broadcast weight within the vector registers, at most
    MAX_VECTORS (the input vectors need no register: an FMA reads them from memory)."""
    return max(1, min(MAX_VECTORS, target.vector_registers - 1))


def _segments(ptr: np.ndarray) -> np.ndarray:
    return np.repeat(np.arange(len(ptr) - 1), np.diff(ptr))


class PatternProgram(Program):
    def __init__(self, k: Kernel, packed: PackedConstant, groups: int, layout: Layout):
        encoding = packed.encoding
        assert isinstance(encoding, PatternAttr)
        arrays = {name: np.asarray(a) for name, a in packed.arrays.items()}
        cout = packed.shape[0]
        self.patterns = encoding.patterns
        count = len(self.patterns)
        self.rows_per_group = cout // groups
        self.units = self.rows_per_group
        # filters in the format's reorder, stably split by group
        reorder = arrays["reorder"].astype(np.int64)
        order = reorder[np.argsort(reorder // self.rows_per_group, kind="stable")]
        position = np.empty(cout, np.int64)
        position[order] = np.arange(cout)
        # every stored kernel: its filter's position, pattern, channel, weights
        run = _segments(arrays["strides"].astype(np.int64))
        slot = _segments(arrays["offsets"].astype(np.int64))[run]
        where = position[reorder[slot]]
        pid = arrays["pattern_ids"].astype(np.int64)[run]
        channels = arrays["channels"].astype(np.int64)
        sort = np.lexsort((channels, pid, where))
        key = where[sort] * count + pid[sort]
        kptr = np.searchsorted(key, np.arange(cout * count + 1), side="left")
        self.used = sorted(set(pid.tolist()))
        self.order = self.store(k, index_array(order))
        self.kptr = self.store(k, index_array(kptr))
        self.channel = self.store(k, index_array(layout.offset(channels[sort] * 9)))
        self.taps = [[int(layout.offset(np.array([t]))[0]) for t in pattern]
                     for pattern in self.patterns]
        self.weights = self.store(k, value_array(
            np.asarray(arrays["weights"]).reshape(-1, PATTERN_SIZE)[sort]))

    def emit(self, k: Kernel, g: Index, u0: Index, u1: Index, panels: Panels, nv: int,
             sink: Sink) -> None:
        E, xp = k.E, panels.xp
        count = len(self.patterns)
        first = E.imul(g, self.rows_per_group)
        with E.loop(E.iadd(first, u0), E.iadd(first, u1)) as slot:
            bounds = {}
            for p in self.used:
                head = E.iadd(E.imul(slot.iv, count), p)
                bounds[p] = (load_index(E, self.kptr, head),
                             load_index(E, self.kptr, E.iadd(head, 1)))
            filt = load_index(E, self.order, slot.iv)
            with E.loop(0, panels.count) as panel:
                self._filter(k, bounds, panels.bases(E, panel.iv), xp, nv,
                             lambda acc, panel=panel.iv: sink(filt, acc, panel))

    def _filter(self, k: Kernel, bounds, bases: list[Index], xp: SSAValue, nv: int,
                done) -> None:
        """One filter's sums over one panel: a loop per pattern, then done(acc). Each
        vector's 4 taps accumulate into its own register, one chain per vector."""
        E, lanes = k.E, k.lanes
        acc = zeros(E, nv, lanes)
        for p in self.used:
            taps = self.taps[p]
            lo, hi = bounds[p]
            with E.loop(lo, hi, carried=acc) as kernel:
                base = load_index(E, self.channel, kernel.iv)
                w0 = E.imul(kernel.iv, PATTERN_SIZE)
                out = list(kernel.args)
                for t, tap in enumerate(taps):
                    weight = E.splat(E.load(self.weights, E.iadd(w0, t)), lanes)
                    for v in range(nv):
                        x = E.vload(xp, E.iadd(E.iadd(base, tap), bases[v]), lanes)
                        out[v] = E.fma(weight, x, out[v])
                kernel.next(*out)
            acc = kernel.results
        done(list(acc))
