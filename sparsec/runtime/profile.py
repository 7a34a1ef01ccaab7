"""Yellow cells by measurement: DNNFusion's profiling database (§4.3, Listing 1 Step 2.3).

    oracle = JitOracle()                        # target "host", 1 thread
    fuse(module, oracle=oracle)                 # or: sparsec opt -p 'fuse{profile=true}'
    oracle.measurements                         # how many latencies were timed, not looked up

For a yellow cell the planner asks `latency(group + candidate)` and `latency(group)`,
`latency(candidate)`. Each is answered by building the operators as a standalone module
with their real shapes and weights (`outline.extract_group`: one `nn.fused`, so the code
generator emits it as the plan would), compiling it with the JIT for this machine and
timing it (`JitOracle.measure`: the native entry point called in batches of about
`BATCH_MS`, the median per call over `RUNS` batches). Outcomes go to an on-disk
`ProfileDatabase`, so the next plan of the same operators is a lookup. On a busy
machine a decision can go either way between runs; the database makes it stick.

The key of an entry (`latency_key`) is what decides the latency and nothing else: the
operator kinds in order, how their operands connect (inside the group, an input, a
weight), every operand's and result's type, every property but weight values, and the
target, thread count and code version (`cache.code_version`: editing the code generator
starts a fresh database). Timings of this machine are only valid on it: the target
`host` resolves to the CPU's name in the key.
"""

from __future__ import annotations

import hashlib
import json
import os
import statistics
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import reduce
from pathlib import Path

import numpy as np
from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp
from xdsl.ir import Operation

from sparsec.dialects.resources import ArrayResourceAttr
from sparsec.lowering.target import get_target
from sparsec.transforms.fusion.fuse import FusePass, fuse
from sparsec.transforms.fusion.graph import fusion_mapping, is_weight
from sparsec.transforms.fusion.outline import extract_group
from sparsec.transforms.fusion.plan import DEFAULT_BUDGET
from sparsec.transforms.fusion.table import fused_max

from . import cache

WARMUP = 2
RUNS = 7
BATCH_MS = 2.0
"""A measurement: WARMUP batches (which size the batch to about BATCH_MS), then the
median over RUNS batches of the time per call (the machine may be busy)."""


def profile_dir() -> Path:
    """$SPARSEC_PROFILE_DIR, else ~/.cache/sparsec/profile."""
    root = os.environ.get("SPARSEC_PROFILE_DIR")
    return Path(root) if root else Path.home() / ".cache" / "sparsec" / "profile"


class ProfileDatabase:
    """Measured latencies on disk: one JSON file per key (`<key>.json`: the latency in ms
    and, to read it, the operators and shapes). Written under a temporary name and
    renamed into place, so concurrent planners never read half an entry; a corrupt or
    unreadable entry counts as missing."""

    def __init__(self, root: Path | None = None):
        self.root = profile_dir() if root is None else Path(root)

    def get(self, key: str) -> float | None:
        try:
            return float(json.loads((self.root / f"{key}.json").read_text())["ms"])
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def put(self, key: str, ms: float, about: dict) -> None:
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            fd, staged = tempfile.mkstemp(dir=self.root, prefix=".tmp-", suffix=".json")
            with os.fdopen(fd, "w") as file:
                json.dump({"ms": ms, **about}, file)
            os.replace(staged, self.root / f"{key}.json")
        except OSError:
            pass  # a read-only or full disk only costs the next plan a measurement

    def __len__(self) -> int:
        return len(list(self.root.glob("*.json"))) if self.root.is_dir() else 0


def describe(ops: Sequence[Operation]) -> list[list]:
    """The operators as the key sees them: name, operands (("op", i, r): result r of the
    i-th operator; ("weight", type); ("input", type)), result types, properties (weight
    values left out: they do not change the latency)."""
    index = {op: i for i, op in enumerate(ops)}
    items = []
    for op in ops:
        operands = []
        for value in op.operands:
            if value.owner in index:
                operands.append(["op", index[value.owner], value.index])  # type: ignore
            else:
                operands.append(["weight" if is_weight(value) else "input", str(value.type)])
        properties = sorted((k, str(v)) for k, v in op.properties.items()
                            if not isinstance(v, ArrayResourceAttr))
        items.append([op.name, operands, [str(r.type) for r in op.results], properties])
    return items


def latency_key(ops: Sequence[Operation], target: str, threads: int) -> str:
    text = json.dumps([describe(ops), get_target(target).key(), threads,
                       cache.code_version()])
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass
class JitOracle:
    """A `CostOracle` that times JIT-compiled code, backed by a `ProfileDatabase`."""

    target: str = "host"
    threads: int = 1
    database: ProfileDatabase | None = None
    measurements: int = 0
    """Latencies timed by this oracle (the others were found in the database)."""

    def __post_init__(self) -> None:
        if self.database is None:
            self.database = ProfileDatabase()

    def latency(self, ops: Sequence[Operation]) -> float:
        assert self.database is not None
        key = latency_key(ops, self.target, self.threads)
        known = self.database.get(key)
        if known is not None:
            return known
        ms = self.measure(ops)
        self.measurements += 1
        self.database.put(key, ms, {"ops": [op.name for op in ops],
                                    "results": [str(op.results[0].type) for op in ops],
                                    "target": get_target(self.target).key()})
        return ms

    def measure(self, ops: Sequence[Operation]) -> float:
        """Median ms of one call of `ops` compiled as one fused group. The native entry
        is called directly on buffers allocated once, in batches long enough for the
        clock (`BATCH_MS`), so Python's per-call cost (input checks, output allocation)
        is not charged once per kernel to the unfused alternative."""
        from .abi import aligned_empty
        from .compiled import CompiledModel, build

        mapping = reduce(fused_max, (fusion_mapping(op) for op in ops))
        module = extract_group(ops, mapping)
        artifact = build(module, threads=self.threads, target=self.target)
        model = CompiledModel(module, artifact, threads=self.threads, target=self.target,
                              passes="")
        rng = np.random.default_rng(0)
        buffers = [rng.standard_normal(spec.shape).astype(spec.dtype) if spec.dtype.kind == "f"
                   else np.zeros(spec.shape, spec.dtype) for spec in model.inputs]
        buffers += [np.empty(spec.shape, spec.dtype) for spec in model.outputs]
        arena = aligned_empty(max(64, artifact.abi["arena"]["bytes"]))
        pointers = [b.ctypes.data for b in buffers]
        pointers += [artifact.weights.ctypes.data, arena.ctypes.data]
        entry = model._entry

        def batch(calls: int) -> float:
            start = time.perf_counter_ns()
            for _ in range(calls):
                entry(*pointers)
            return (time.perf_counter_ns() - start) / 1e6

        calls = 1
        for _ in range(WARMUP):
            elapsed = batch(calls)
            calls = max(calls, min(10_000, int(calls * BATCH_MS / max(elapsed, 1e-3))))
        return statistics.median(batch(calls) / calls for _ in range(RUNS))


@dataclass(frozen=True)
class ProfilingFusePass(FusePass):
    """Group nn operators into `nn.fused` regions (DNNFusion Listing 1, Table 3); with
    `profile=true`, yellow cells are decided by timing both alternatives with the JIT on
    this machine, cached in the profile database ($SPARSEC_PROFILE_DIR, else
    ~/.cache/sparsec/profile)."""

    name = "fuse"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        if not self.profile or self.max_ops < 1:  # the base pass, or its option error
            super().apply(ctx, op)
            return
        fuse(op, budget=replace(DEFAULT_BUDGET, max_ops=self.max_ops), oracle=JitOracle())
