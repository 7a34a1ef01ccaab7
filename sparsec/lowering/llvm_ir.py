"""The last step of lowering: an llvm-dialect module -> LLVM IR text, through xDSL's
llvmlite translator (`xdsl.backend.llvm.convert`), for a given target triple.

The translator drops function attributes; `no_inline` is carried over here (the GEMM
micro-kernels are kept out of line: inlined into a kernel, LLVM's register allocator
rotated their accumulators through registers on every iteration).
"""

from __future__ import annotations

import json
import os

import numpy as np
from xdsl.backend.llvm.convert import convert_module
from xdsl.dialects import llvm
from xdsl.dialects.builtin import ModuleOp

from .target import Target


def to_llvm_ir(module: ModuleOp, target: Target) -> str:
    """LLVM IR text of an llvm-dialect module (what `llvmlite.binding.parse_assembly`
    reads)."""
    translated = convert_module(module, fallback_target_triple=target.triple)
    for op in module.ops:
        if isinstance(op, llvm.FuncOp) and op.no_inline is not None:
            translated.get_global(op.sym_name.data).attributes.add("noinline")
    return str(translated)


def lower_module(module: ModuleOp, spec: str, target: Target) -> tuple[str, dict, np.ndarray]:
    """Run the pass spec (an nn module down to the llvm dialect, `pipelines.py`) on a clone
    of `module`; its LLVM IR text, ABI (`sparsec.abi`: inputs, outputs, arena, kernels)
    and weights buffer (bytes), the three things a JIT or an object file needs."""
    from .nn_to_loops import ABI_ATTR, WEIGHTS_ATTR
    from .pipelines import run_spec

    lowered = module.clone()
    run_spec(lowered, spec)
    if os.environ.get("SPARSEC_VERIFY") == "1":  # the tests verify every lowered module
        lowered.verify()
    abi = json.loads(lowered.attributes[ABI_ATTR].data)  # type: ignore[attr-defined]
    weights = np.asarray(lowered.attributes[WEIGHTS_ATTR].array).view(np.uint8)  # type: ignore
    del lowered.attributes[WEIGHTS_ATTR]
    return to_llvm_ir(lowered, target), abi, weights
