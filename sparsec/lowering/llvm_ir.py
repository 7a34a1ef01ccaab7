"""The last step of lowering: an llvm-dialect module -> LLVM IR text, through xDSL's
llvmlite translator (`xdsl.backend.llvm.convert`), for a given target triple.

The translator drops function attributes; `no_inline` is carried over here (the GEMM
micro-kernels are kept out of line: inlined into a kernel, LLVM's register allocator
rotated their accumulators through registers on every iteration).
"""

from __future__ import annotations

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
