"""Threads for compiled code: libgomp, the OpenMP runtime GCC-built libraries (and torch)
use. Compiled kernels call `GOMP_parallel` (see `convert-parallel-to-gomp`); this module
finds libgomp, loads it once per process, and tells the JIT linker where its symbols are.

Loading by soname means there is one libgomp in the process whichever of sparsec and
torch comes first: the dynamic loader reuses a library that is already loaded under the
same soname.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import importlib.util
from functools import cache
from pathlib import Path

SYMBOLS = ("GOMP_parallel", "omp_get_thread_num", "omp_get_num_threads")


def _candidates() -> list[str]:
    found = ["libgomp.so.1"]
    system = ctypes.util.find_library("gomp")
    if system:
        found.append(system)
    spec = importlib.util.find_spec("torch")
    if spec is not None and spec.origin is not None:
        found.extend(str(p) for p in sorted((Path(spec.origin).parent / "lib").glob("libgomp*.so*")))
    return found


@cache
def libgomp() -> ctypes.CDLL:
    errors = []
    for name in _candidates():
        try:
            return ctypes.CDLL(name, mode=ctypes.RTLD_GLOBAL)
        except OSError as e:
            errors.append(f"{name}: {e}")
    raise RuntimeError("sparsec needs libgomp for threads > 1 and could not load it:\n  "
                       + "\n  ".join(errors))


@cache
def register_symbols() -> None:
    """Make libgomp's entry points visible to code the JIT links."""
    import llvmlite.binding as llvm

    try:
        library = libgomp()
    except RuntimeError:
        return  # single-threaded code does not need it; multi-threaded code fails to link
    for name in SYMBOLS:
        llvm.add_symbol(name, ctypes.cast(getattr(library, name), ctypes.c_void_p).value)
