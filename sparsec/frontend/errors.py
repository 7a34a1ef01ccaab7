"""What the frontend raises: user errors the CLI prints as one message, never a traceback."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from importlib import import_module
from types import ModuleType

from sparsec.textio import SparsecError

INSTALL_HINT = "pip install 'sparsec[torch]'"


class FrontendError(SparsecError):
    """A model, file or spec the frontend cannot import."""


class TorchNotInstalledError(FrontendError, ImportError):
    """torch, torchvision or torch-mlir is missing."""


def require(module: str) -> ModuleType:
    """Import one of the optional dependencies, or say how to install it."""
    try:
        return import_module(module)
    except ImportError as e:
        raise TorchNotInstalledError(
            f"error: importing PyTorch models needs {module.split('.')[0]} ({e}); "
            f"install the frontend's dependencies with `{INSTALL_HINT}`") from None


@dataclass(frozen=True)
class UnsupportedOp:
    """One use of an operator that has no conversion to nn (or an unsupported variant)."""

    name: str
    location: str
    reason: str


class UnsupportedOpsError(FrontendError):
    """Every operator of a model that could not be converted, raised once for the whole
    model (no partial module is ever returned).

    `ops` lists each use with its location and reason; `counts` maps names to uses."""

    MAX_LOCATIONS = 5

    def __init__(self, ops: list[UnsupportedOp]):
        self.ops = list(ops)
        self.counts = Counter(op.name for op in self.ops)
        super().__init__(self._message())

    def _message(self) -> str:
        uses = len(self.ops)
        lines = [f"error: {len(self.counts)} unsupported operator"
                 f"{'s' if len(self.counts) != 1 else ''} ({uses} use{'s' if uses != 1 else ''}); "
                 "no module was produced"]
        for name, count in self.counts.most_common():
            mine = [op for op in self.ops if op.name == name]
            reasons = sorted({op.reason for op in mine})
            lines.append(f"  {name}: {count} use{'s' if count != 1 else ''}: {'; '.join(reasons)}")
            for op in mine[:self.MAX_LOCATIONS]:
                lines.append(f"    at {op.location}")
            if count > self.MAX_LOCATIONS:
                lines.append(f"    ... and {count - self.MAX_LOCATIONS} more")
        return "\n".join(lines)
