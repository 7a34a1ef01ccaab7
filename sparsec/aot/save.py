"""The ahead-of-time stages, in order: nn module -> `lower-to-llvm{threads= target=}` (the
JIT's pipeline, with the target's vector width) -> LLVM IR -> + C API -> object file; plus
the header and the weights file.

    result = save(module, "build/resnet18", target="aarch64-linux-gnu", cpu="cortex-a76")
    result.object_path, result.header_path, result.weights_path

The model id written into both the object and the weights file is the first 8 bytes of
the SHA-256 of the model's LLVM IR: the IR fixes where every weight sits in the buffer, so
weights are interchangeable exactly between objects compiled from the same IR.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from xdsl.dialects.builtin import ModuleOp

from sparsec.lowering.llvm_ir import lower_module
from sparsec.lowering.pipelines import pipeline_spec
from sparsec.lowering.target import Target, aot_target

from .capi import ModelFacts, capi_ir
from .header import model_header
from .objects import emit_object, link
from .weights_file import write_weights

OBJECT, HEADER, WEIGHTS = "model.o", "model.h", "model.weights"


@dataclass(frozen=True)
class AotResult:
    directory: Path
    target: Target
    threads: int
    facts: ModelFacts

    @property
    def object_path(self) -> Path:
        return self.directory / OBJECT

    @property
    def header_path(self) -> Path:
        return self.directory / HEADER

    @property
    def weights_path(self) -> Path:
        return self.directory / WEIGHTS

    @property
    def libraries(self) -> list[str]:
        """What to add to the link line after model.o."""
        return link_libraries(self.threads)


def link_libraries(threads: int) -> list[str]:
    """-lm: LLVM may turn a math intrinsic it cannot expand inline into a libm call;
    -fopenmp: the kernels of a multi-threaded model call libgomp."""
    return (["-fopenmp"] if threads > 1 else []) + ["-lm"]


def lower(module: ModuleOp, target: Target, threads: int, passes: str = "",
          fusion: bool = True) -> tuple[str, dict, np.ndarray]:
    """The model's LLVM IR for `target`, its ABI and its weights buffer."""
    spec = pipeline_spec("lower-to-llvm", threads, target.name, fusion)
    return lower_module(module, f"{passes},{spec}" if passes else spec, target)


def model_id(ir: str) -> int:
    return int.from_bytes(hashlib.sha256(ir.encode()).digest()[:8], "little")


def save(module: ModuleOp, directory: str | Path, *, target: str = "aarch64-linux-gnu",
         cpu: str | None = None, threads: int = 1, passes: str = "",
         source: str = "", fusion: bool = True) -> AotResult:
    """Compile `module` for `target` (a triple, see `sparsec.lowering.target.aot_target`)
    and write model.o, model.h and model.weights into `directory` (created if needed).
    Raises ValueError for an unknown target or CPU, or threads < 1."""
    machine = aot_target(target, cpu)
    if threads < 1:
        raise ValueError(f"threads must be >= 1, got {threads}")
    ir, abi, weights = lower(module, machine, threads, passes, fusion)
    facts = ModelFacts.from_abi(abi, int(weights.size), model_id(ir))
    data = emit_object(link(ir, capi_ir(facts)), machine)
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    (out / OBJECT).write_bytes(data)
    write_weights(out / WEIGHTS, weights, facts.model_id)
    (out / HEADER).write_text(model_header(facts, target=target, cpu=machine.cpu,
                                           threads=threads, libraries=link_libraries(threads),
                                           source=source))
    return AotResult(out, machine, threads, facts)
