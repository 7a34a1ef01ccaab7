"""`sparsec.compile`: a model or nn module -> a callable running JIT-compiled code.

    fn = sparsec.compile(torchvision.models.resnet18().eval(), (torch.randn(1, 3, 224, 224),))
    y = fn(x)        # torch in -> torch out, numpy in -> numpy out
    fn.report()      # time, FLOPs and bytes per kernel (fusion group), arena use

Stages, each cached on disk as a whole (see `cache`): the nn module -> (the named
pipeline `lower-to-llvm`, the same pass-spec string `sparsec opt` runs) -> llvm dialect
-> LLVM IR -> O3 object code for the target -> MCJIT in this process.

The weights live in one buffer that the compiled code reads (never copied per call);
intermediates live in an arena planned by liveness, one per calling thread, so calls from
several threads at once are safe.
"""

from __future__ import annotations

import ctypes
import statistics
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from xdsl.dialects.builtin import ModuleOp

from sparsec.lowering.pipelines import pipeline_spec
from sparsec.lowering.target import get_target, host_target

from . import cache
from .abi import TensorSpec, aligned_empty, check_inputs
from .jit import NativeModule

DEFAULT_PASSES = ""
"""Passes run on the nn module before lowering when `compile` is not given `passes`.

None by default: without `nn.fused` groups the code generator fuses greedily (a
contraction or element-wise op takes the chain of element-wise ops after it), and on the
benchmark models that is as fast as the plan-driven kernels of `passes="algebraic,fuse"`
(benchmarks/README.md, "Fusion"): DNNFusion's groups often start with the previous
layer's element-wise tail, which the generator must split off when that value is also
used outside the group (a residual), leaving the layer itself without an epilogue.
`passes="algebraic,fuse"` is the DNNFusion pipeline; `fusion=False` the unfused baseline."""


@dataclass
class Artifact:
    native: NativeModule
    abi: dict
    weights: np.ndarray
    from_cache: bool


def build(module: ModuleOp, *, threads: int, target: str, profile: bool = False,
          passes: str = "", use_cache: bool = True, fusion: bool = True) -> Artifact:
    """Lower a (cloned) nn module to machine code, or load it from the cache."""
    from sparsec.lowering.llvm_ir import lower_module

    machine = get_target(target)
    if machine.triple.split("-")[0] != host_target().triple.split("-")[0]:
        raise ValueError(f"target {target!r} ({machine.triple}) cannot run in this process; "
                         "compile for it ahead of time with .save(path, target=...)")
    spec = pipeline_spec("lower-to-llvm", threads, target, fusion)
    if profile:
        spec = spec.replace("convert-nn-to-loops{", "convert-nn-to-loops{profile=true ")
    if passes:
        spec = f"{passes},{spec}"
    key = cache.module_key(module, spec, machine.key()) if use_cache else ""
    if use_cache and (entry := cache.load(key)) is not None:
        native = NativeModule.from_object(entry.object_code, machine)
        return Artifact(native, entry.abi, entry.weights, True)
    ir, abi, weights = lower_module(module, spec, machine)
    native = NativeModule.from_ir(ir, machine)
    if use_cache:
        cache.store(key, cache.Entry(native.object_code or b"", abi, weights))
    return Artifact(native, abi, weights, False)


# --- profiling hook ---------------------------------------------------------------------

_PROFILE = threading.local()
_HOOK_TYPE = ctypes.CFUNCTYPE(None, ctypes.c_int64)


@_HOOK_TYPE
def _profile_hook(kernel: int) -> None:
    marks = getattr(_PROFILE, "marks", None)
    if marks is not None:
        marks.append((kernel, time.perf_counter_ns()))


def _register_profile_hook() -> None:
    import llvmlite.binding as llvm

    llvm.add_symbol("sparsec_profile", ctypes.cast(_profile_hook, ctypes.c_void_p).value)


# --- the callable -----------------------------------------------------------------------


class CompiledModel:
    """A compiled nn module. Call it with the inputs of `@main`."""

    def __init__(self, module: ModuleOp, artifact: Artifact, *, threads: int, target: str,
                 passes: str, fusion: bool = True):
        self.module = module
        self.threads = threads
        self.target = target
        self.passes = passes
        self.fusion = fusion
        self._artifact = artifact
        self._profiled: Artifact | None = None
        abi = artifact.abi
        self.inputs = [TensorSpec.from_json(e) for e in abi["inputs"]]
        self.outputs = [TensorSpec.from_json(e) for e in abi["outputs"]]
        self.index_bounds = {int(k): v for k, v in abi.get("index_bounds", {}).items()}
        self._entry = self._function(artifact)
        self._local = threading.local()

    @property
    def from_cache(self) -> bool:
        return self._artifact.from_cache

    @property
    def arena(self) -> dict:
        """Arena bytes planned, the floor (most bytes alive at once), the sum of all
        intermediates."""
        return dict(self._artifact.abi["arena"])

    @property
    def kernels(self) -> list[dict]:
        return list(self._artifact.abi["kernels"])

    @property
    def fusion_summary(self) -> dict:
        """The fusion the kernels realise: mode, groups (ops, mapping type, kernels) and
        layers and intermediate bytes before/after (`nn_to_loops.fusion_summary`)."""
        return dict(self._artifact.abi.get("fusion", {}))

    def _function(self, artifact: Artifact):
        count = len(self.inputs) + len(self.outputs) + 2
        prototype = ctypes.CFUNCTYPE(None, *([ctypes.c_void_p] * count))
        return prototype(artifact.native.address("main"))

    def _arena(self) -> np.ndarray:
        arena = getattr(self._local, "arena", None)
        if arena is None:
            arena = aligned_empty(max(64, self._artifact.abi["arena"]["bytes"]))
            self._local.arena = arena
        return arena

    def _run(self, entry, artifact: Artifact, arrays: Sequence[np.ndarray]) -> list[np.ndarray]:
        outputs = [np.empty(spec.shape, spec.dtype) for spec in self.outputs]
        pointers = [a.ctypes.data for a in arrays] + [o.ctypes.data for o in outputs]
        pointers += [artifact.weights.ctypes.data, self._arena().ctypes.data]
        entry(*pointers)
        return outputs

    def __call__(self, *inputs: Any):
        arrays, torch_in = check_inputs(inputs, self.inputs, self.index_bounds)
        outputs = self._run(self._entry, self._artifact, arrays)
        if torch_in:
            import torch

            outputs = [torch.from_numpy(o) for o in outputs]
        return outputs[0] if len(outputs) == 1 else tuple(outputs)

    def save(self, path: Any, target: str = "aarch64-linux-gnu", cpu: str | None = None,
             threads: int | None = None):
        """Compile this model ahead of time for `target` (`aarch64-linux-gnu`,
        `x86_64-linux-gnu`; `cpu` as `sparsec compile --cpu`) and write model.o, model.h
        and model.weights into the directory `path`, with the passes, the fusion mode and
        (by default) the threads of this model. Returns a `sparsec.aot.AotResult`."""
        from sparsec.aot import save

        return save(self.module, path, target=target, cpu=cpu,
                    threads=self.threads if threads is None else threads, passes=self.passes,
                    fusion=self.fusion)

    # --- report ---

    def profile(self, *inputs: Any, runs: int = 10) -> list[dict]:
        """Per-kernel median time (ms) over `runs` calls of a build that marks the end of
        every kernel; FLOPs and bytes per kernel from the compiler."""
        if self._profiled is None:
            _register_profile_hook()
            self._profiled = build(self.module, threads=self.threads, target=self.target,
                                   profile=True, passes=self.passes, fusion=self.fusion)
        entry = self._function(self._profiled)
        if not inputs:
            inputs = tuple(_example(spec) for spec in self.inputs)
        arrays, _ = check_inputs(inputs, self.inputs, self.index_bounds)
        self._run(entry, self._profiled, arrays)  # warm-up
        samples: list[list[float]] = [[] for _ in self.kernels]
        for _ in range(runs):
            _PROFILE.marks = []
            start = time.perf_counter_ns()
            self._run(entry, self._profiled, arrays)
            marks, _PROFILE.marks = _PROFILE.marks, None
            previous = start
            for kernel, stamp in marks:
                samples[kernel].append((stamp - previous) / 1e6)
                previous = stamp
        rows = []
        for kernel, times in zip(self.kernels, samples, strict=True):
            rows.append({**kernel, "ms": statistics.median(times) if times else 0.0})
        return rows

    def report(self, *inputs: Any, runs: int = 10, file=None) -> list[dict]:
        """Print (and return) time, FLOPs and bytes per kernel group, and the total."""
        rows = self.profile(*inputs, runs=runs)
        total_ms = sum(r["ms"] for r in rows) or 1e-9
        lines = [f"{'kernel':<40} {'ms':>8} {'%':>5} {'GFLOP':>8} {'GFLOP/s':>8} "
                 f"{'MB':>8} {'GB/s':>7}"]
        for r in rows:
            seconds = max(r["ms"], 1e-6) / 1e3
            lines.append(f"{r['name'][:40]:<40} {r['ms']:8.3f} {100 * r['ms'] / total_ms:5.1f} "
                         f"{r['flops'] / 1e9:8.3f} {r['flops'] / 1e9 / seconds:8.1f} "
                         f"{r['bytes'] / 1e6:8.2f} {r['bytes'] / 1e9 / seconds:7.1f}")
        flops = sum(r["flops"] for r in rows)
        lines.append(f"{'total':<40} {total_ms:8.3f} {100.0:5.1f} {flops / 1e9:8.3f} "
                     f"{flops / 1e9 / (total_ms / 1e3):8.1f}")
        arena = self.arena
        lines.append(f"arena {arena['bytes'] / 1e6:.2f} MB (floor {arena['floor'] / 1e6:.2f} MB,"
                     f" sum of intermediates {arena['total'] / 1e6:.2f} MB); weights "
                     f"{self._artifact.weights.nbytes / 1e6:.2f} MB; threads {self.threads}")
        lines += fusion_lines(self.fusion_summary)
        print("\n".join(lines), file=file)
        return rows


def fusion_lines(summary: dict) -> list[str]:
    """The fusion part of the report: each group with its mapping type, ops and kernels
    (a group the generator split into several kernels says so), and the totals."""
    if not summary:
        return []
    lines = [f"fusion: {summary['mode']}"]
    for group in summary["groups"]:
        kernels = group["kernels"]
        split = f"; split into {len(kernels)} kernels" if len(kernels) > 1 else ""
        lines.append(f"  {group['name']} ({group['mapping']}{split}): "
                     f"{', '.join(op.removeprefix('nn.') for op in group['ops'])}")
    before, after = summary["bytes_before"], summary["bytes_after"]
    lines.append(f"layers: {summary['layers_before']} -> {summary['layers_after']}; "
                 f"intermediate bytes: {before} -> {after}")
    return lines


def _example(spec: TensorSpec) -> np.ndarray:
    rng = np.random.default_rng(0)
    if spec.dtype.kind == "f":
        return rng.standard_normal(spec.shape).astype(spec.dtype)
    return np.zeros(spec.shape, spec.dtype)


def compile(model_or_module: Any, example_inputs: Sequence[Any] | None = None, *,
            passes: str | None = None, threads: int | None = None,
            target: str = "host", fusion: bool = True, sparsity: Any = None) -> CompiledModel:
    """Compile an nn module (or a torch.nn.Module, imported with `example_inputs`) for the
    host CPU. `passes`: a pass spec run on the nn module first (default: none, see
    DEFAULT_PASSES; `"algebraic,fuse"` makes DNNFusion's plan drive the kernels);
    `threads`: OpenMP threads the kernels use (default 1); `fusion=False`: one kernel
    per nn op (`convert-nn-to-loops{fusion=false}`), the baseline to measure fusion by;
    `sparsity`: a scheme (`sparsec.BCR(...)`, `sparsec.Pattern(...)`) the weights are
    pruned to and packed in (the `sparsify` pass, after `passes`), so the sparse kernels
    run them."""
    if isinstance(model_or_module, ModuleOp):
        module = model_or_module
    else:
        from sparsec.frontend import import_model

        if example_inputs is None:
            raise ValueError("compiling a torch model needs example_inputs")
        module = import_model(model_or_module, tuple(example_inputs))
    threads = 1 if threads is None else int(threads)
    if threads < 1:
        raise ValueError(f"threads must be >= 1, got {threads}")
    passes = DEFAULT_PASSES if passes is None else passes
    if sparsity is not None:
        passes = ",".join(p for p in (passes, _sparsify_spec(sparsity)) if p)
    artifact = build(module, threads=threads, target=target, passes=passes, fusion=fusion)
    return CompiledModel(module, artifact, threads=threads, target=target, passes=passes,
                         fusion=fusion)


def _sparsify_spec(scheme: Any) -> str:
    from sparsec.transforms.sparsity.sparsify import SparsifyPass

    return SparsifyPass.from_scheme(scheme).spec()
