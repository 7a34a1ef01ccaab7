"""The last step of lowering: an llvm-dialect module -> LLVM IR text, through xDSL's
llvmlite translator (`xdsl.backend.llvm.convert`), for a given target triple."""

from __future__ import annotations

from xdsl.backend.llvm.convert import convert_module
from xdsl.dialects.builtin import ModuleOp

from .target import Target


def to_llvm_ir(module: ModuleOp, target: Target) -> str:
    """LLVM IR text of an llvm-dialect module (what `llvmlite.binding.parse_assembly`
    reads)."""
    return str(convert_module(module, fallback_target_triple=target.triple))
