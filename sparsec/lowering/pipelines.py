"""Named pipelines: pass-spec strings, kept in this one place.

`sparsec opt -p lower-to-llvm` and `sparsec.compile` run the very same strings. Each named
pipeline is also registered as a pass (`PipelinePass`), so it can stand anywhere in a
`-p` list and take the options of the passes it forwards them to:

    sparsec opt -p 'lower-to-llvm{threads=2}' model.mlir
    sparsec opt -p convert-nn-to-loops model.mlir             # any prefix, one pass at a time
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp
from xdsl.passes import ModulePass, PassPipeline

LOOPS_TO_LLVM = ",".join([
    "convert-scf-to-cf",
    "convert-vector-to-llvm",
    "convert-memref-to-llvm",
    "convert-math-to-llvm",
    "convert-arith-to-llvm",
    "convert-cf-to-llvm",
    "convert-func-to-llvm",
    "convert-parallel-to-gomp",
    "reconcile-unrealized-casts",
])

PIPELINES: dict[str, str] = {
    "lower-to-loops": "convert-nn-to-loops{threads=%(threads)s target=%(target)s "
                      "fusion=%(fusion)s}",
    "loops-to-llvm": LOOPS_TO_LLVM,
    "lower-to-llvm": "convert-nn-to-loops{threads=%(threads)s target=%(target)s "
                     "fusion=%(fusion)s}," + LOOPS_TO_LLVM,
}
"""name -> pass spec; `%(threads)s`, `%(target)s` and `%(fusion)s` are the pipeline's
options (`lower-to-llvm{fusion=false}`: one kernel per nn op, the unfused baseline)."""


def pipeline_spec(name: str, threads: int = 1, target: str = "host", fusion: bool = True) -> str:
    """The pass spec of a named pipeline. A target with characters the pass-spec syntax
    does not take bare (`aarch64-linux-gnu:cortex-a76`) is quoted."""
    if name not in PIPELINES:
        raise ValueError(f"unknown pipeline {name!r} (known: {', '.join(PIPELINES)})")
    if not re.fullmatch(r"[A-Za-z0-9_-]+", target):
        target = '"' + target.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return PIPELINES[name] % {"threads": threads, "target": target,
                              "fusion": "true" if fusion else "false"}


def run_spec(module: ModuleOp, spec: str, ctx: Context | None = None) -> None:
    """Apply a pass-spec string, resolving names through sparsec's registry."""
    from sparsec.universe import all_passes, make_context

    available = all_passes()
    pipeline = PassPipeline.parse_spec(available, spec)
    pipeline.apply(ctx or make_context(), module)


@dataclass(frozen=True)
class PipelinePass(ModulePass):
    """Base of the passes that run a named pipeline."""

    threads: int = 1
    target: str = "host"
    fusion: bool = True

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        run_spec(op, pipeline_spec(self.name, self.threads, self.target, self.fusion), ctx)


def pipeline_pass(name: str) -> type[ModulePass]:
    """A ModulePass class named `name` that runs PIPELINES[name]."""
    return dataclass(frozen=True)(type(name.title().replace("-", "") + "Pipeline",
                                       (PipelinePass,), {"name": name}))
