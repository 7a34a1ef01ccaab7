"""sparsec: a compiler toolkit for deep-learning inference on xDSL.

The public surface is small and flat (DESIGN.md §1):

    sparsec.import_model(model, example_inputs) -> ModuleOp     # PyTorch -> nn dialect
    sparsec.interpret(module, *inputs) -> tuple[np.ndarray, ...]  # numpy reference semantics
    sparsec.parse_module(text) / sparsec.print_module(module)   # MLIR text, weights included
    sparsec.BCR(block=(8, 4), rate=0.8), sparsec.Pattern(patterns=8, connectivity=3.6)
    sparsec.prune(model, scheme) -> Pruning                    # torch-side masks, .apply()
    sparsec.compile(model_or_module, example_inputs) -> CompiledModel  # JIT for the host CPU

Names are resolved lazily, so `import sparsec` loads neither torch nor the compiler.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

__version__ = "0.1.0"

_EXPORTS = {
    "compile": "sparsec.runtime.compiled",
    "import_model": "sparsec.frontend",
    "interpret": "sparsec.interpreters",
    "parse_module": "sparsec.textio",
    "print_module": "sparsec.textio",
    "SparsecError": "sparsec.textio",
    "BCR": "sparsec.transforms.sparsity.schemes",
    "Pattern": "sparsec.transforms.sparsity.schemes",
    "prune": "sparsec.api_sparsity",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'sparsec' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])
