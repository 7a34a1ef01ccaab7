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

    acc0 = acc1 = acc2 = acc3 = 0
    for p, (t0, t1, t2, t3) in patterns:             # unrolled at compile time
        for kernel in run p of this filter:
            c = channel offset; w = its 4 weights
            acc0 += w0 * Xp[c + t0]; acc1 += w1 * Xp[c + t1]    # four chains: one FMA
            acc2 += w2 * Xp[c + t2]; acc3 += w3 * Xp[c + t3]    # each per kernel
    store(epilogue((acc0 + acc1) + (acc2 + acc3)))

A row has `nv` vectors of output columns (3 on AVX2: 4 x 3 sums and 4 broadcast weights
in 16 registers, the input vectors read by the FMAs' memory operands), so each pattern
loop's start and end are paid for nv vectors. One
chain per tap, not two: a kernel's iteration then waits for one FMA latency, not two
(ResNet-18's 512@7 layer: 1.34 -> 1.14 ms; the 64@56 and 256@14 layers unchanged).
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


def vectors_per_row(target: Target) -> int:
    """Vectors of output columns per filter: 4 sums (one per tap) each, plus the 4
    broadcast weights, within the vector registers (at most 4); the input vectors need
    no register (an FMA reads them from memory). On ResNet-18's 3x3 layers (fastest of
    400 runs, three runs each) nv = 3 against 2: 64@56 0.71-0.76 ms against 0.75-0.80,
    128@28 0.83-0.85 against 0.85-0.89, 256@14 and 512@7 the same."""
    return max(1, min(4, (target.vector_registers - PATTERN_SIZE) // PATTERN_SIZE))


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
        tap accumulates into its own set of registers (added at the end), so a kernel's
        four FMAs into one vector are four independent chains."""
        E, lanes = k.E, k.lanes
        acc = zeros(E, PATTERN_SIZE * nv, lanes)
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
                        slot = t * nv + v
                        out[slot] = E.fma(weight, x, out[slot])
                kernel.next(*out)
            acc = kernel.results
        done([E.fadd(E.fadd(acc[v], acc[nv + v]), E.fadd(acc[2 * nv + v], acc[3 * nv + v]))
              for v in range(nv)])
