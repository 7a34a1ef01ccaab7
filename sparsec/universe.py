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


def _sparse() -> Dialect:
    from sparsec.dialects.sparse import Sparse

    return Sparse


def _classify() -> type[ModulePass]:
    from sparsec.transforms.classify import ClassifyPass

    return ClassifyPass


def _fuse() -> type[ModulePass]:
    """`fuse` with the runtime's JIT cost oracle for `fuse{profile=true}` (transforms
    never import the runtime; the registry, above both, connects them)."""
    from sparsec.runtime.profile import ProfilingFusePass

    return ProfilingFusePass


def _sparsify() -> type[ModulePass]:
    from sparsec.transforms.sparsity.sparsify import SparsifyPass

    return SparsifyPass


def _lowering(module: str, cls: str) -> Callable[[], type[ModulePass]]:
    """A lazy factory for the pass class `cls` of sparsec.lowering.<module>."""

    def factory() -> type[ModulePass]:
        from importlib import import_module

        return getattr(import_module(f"sparsec.lowering.{module}"), cls)

    return factory


def _pipeline(name: str) -> Callable[[], type[ModulePass]]:
    """A named pipeline of sparsec.lowering.pipelines, runnable as a pass."""

    def factory() -> type[ModulePass]:
        from sparsec.lowering.pipelines import pipeline_pass

        return pipeline_pass(name)

    return factory


def _algebraic() -> type[ModulePass]:
    from sparsec.transforms.algebraic import AlgebraicPass

    return AlgebraicPass


SPARSEC_DIALECTS: dict[str, Callable[[], Dialect]] = {
    "nn": _nn,
    "sparse": _sparse,
}

SPARSEC_PASSES: dict[str, Callable[[], type[ModulePass]]] = {
    "classify": _classify,
    "algebraic": _algebraic,
    "fuse": _fuse,
    "sparsify": _sparsify,
    "convert-nn-to-loops": _lowering("nn_to_loops", "ConvertNNToLoopsPass"),
    "convert-vector-to-llvm": _lowering("vector_to_llvm", "ConvertVectorToLLVMPass"),
    "convert-memref-to-llvm": _lowering("memref_to_llvm", "ConvertMemRefToLLVMPass"),
    "convert-math-to-llvm": _lowering("math_to_llvm", "ConvertMathToLLVMPass"),
    "convert-arith-to-llvm": _lowering("arith_to_llvm", "ConvertArithToLLVMPass"),
    "convert-cf-to-llvm": _lowering("cf_to_llvm", "ConvertCfToLLVMPass"),
    "convert-func-to-llvm": _lowering("func_to_llvm", "ConvertFuncToLLVMPass"),
    "convert-parallel-to-gomp": _lowering("parallel_to_gomp", "ConvertParallelToGompPass"),
    "lower-to-loops": _pipeline("lower-to-loops"),
    "loops-to-llvm": _pipeline("loops-to-llvm"),
    "lower-to-llvm": _pipeline("lower-to-llvm"),
}

# xDSL passes that sparsec pipelines use, re-exported under their own names.
XDSL_PASSES = ("canonicalize", "cse", "dce", "convert-scf-to-cf", "reconcile-unrealized-casts")

# xDSL dialects a sparsec module may contain (lowered modules use all but the first two).
XDSL_DIALECTS = ("builtin", "func", "arith", "math", "scf", "cf", "memref", "vector", "llvm")

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
