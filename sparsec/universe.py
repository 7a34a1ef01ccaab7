"""The one registry of sparsec's dialects and passes.

The CLI (`sparsec opt`), the Python API and xDSL's own `xdsl-opt` (through the
`xdsl.universe` entry point) all read these tables. Entries are factories, so nothing is
imported until a dialect or pass is used.
"""

from __future__ import annotations

from collections.abc import Callable

from xdsl.context import Context
from xdsl.ir import Dialect
from xdsl.passes import ModulePass
from xdsl.universe import Universe


def _nn() -> Dialect:
    from sparsec.dialects.nn import NN

    return NN


def _classify() -> type[ModulePass]:
    from sparsec.transforms.classify import ClassifyPass

    return ClassifyPass


SPARSEC_DIALECTS: dict[str, Callable[[], Dialect]] = {
    "nn": _nn,
}

SPARSEC_PASSES: dict[str, Callable[[], type[ModulePass]]] = {
    "classify": _classify,
}

# xDSL passes that sparsec pipelines use, re-exported under their own names.
XDSL_PASSES = ("canonicalize", "cse", "dce")

# xDSL dialects a sparsec module may contain.
XDSL_DIALECTS = ("builtin", "func")

SPARSEC_UNIVERSE = Universe(all_dialects=SPARSEC_DIALECTS, all_passes=SPARSEC_PASSES)
"""Seen by `xdsl-opt` through the `xdsl.universe` entry point in pyproject.toml."""


def all_passes() -> dict[str, Callable[[], type[ModulePass]]]:
    """Every pass `sparsec opt` and `sparsec.compile` can run, by name."""
    from xdsl.transforms import get_all_passes

    xdsl_passes = get_all_passes()
    passes = {name: xdsl_passes[name] for name in XDSL_PASSES}
    passes.update(SPARSEC_PASSES)
    return passes


def all_dialects() -> dict[str, Callable[[], Dialect]]:
    from xdsl.dialects import get_all_dialects

    xdsl_dialects = get_all_dialects()
    dialects = {name: xdsl_dialects[name] for name in XDSL_DIALECTS}
    dialects.update(SPARSEC_DIALECTS)
    return dialects


def make_context() -> Context:
    """A Context that knows sparsec's dialects and the xDSL ones its modules use."""
    ctx = Context()
    for name, factory in all_dialects().items():
        if name not in ctx.registered_dialect_names:
            ctx.register_dialect(name, factory)
    return ctx
