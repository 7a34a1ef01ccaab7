"""The on-disk compile cache: object code, ABI and packed weights, keyed by a content
hash of the module (IR text and weight bytes), the pass pipeline, the target, and the
versions of sparsec's code generator and passes, xDSL and LLVM.

Location: $SPARSEC_CACHE_DIR, else ~/.cache/sparsec/jit: one folder per key (object
code, ABI, the name of its weights file) and weights/<sha256>.npy, shared. Entries are
written under a temporary name and renamed into place, so concurrent compiles never see
half an entry. Nothing is evicted: delete the folder to reclaim the space.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
from xdsl.dialects.builtin import ModuleOp
from xdsl.printer import Printer

from sparsec.dialects.resources import ArrayResourceAttr


def cache_dir() -> Path:
    root = os.environ.get("SPARSEC_CACHE_DIR")
    return Path(root) if root else Path.home() / ".cache" / "sparsec" / "jit"


@cache
def code_version() -> str:
    """Versions of everything that shapes the machine code, plus a hash of sparsec's own
    lowering, runtime, dialect and transform sources (so editing the code generator, or
    a pass that `compile(passes=...)` runs, such as the fusion planner, invalidates
    entries)."""
    import llvmlite
    import xdsl

    import sparsec

    digest = hashlib.sha256()
    package = Path(sparsec.__file__).parent
    for folder in ("lowering", "runtime", "dialects", "transforms"):
        for path in sorted((package / folder).rglob("*.py")):
            digest.update(path.read_bytes())
    return f"sparsec {sparsec.__version__} xdsl {xdsl.__version__} " \
           f"llvmlite {llvmlite.__version__} src {digest.hexdigest()[:16]}"


def module_key(module: ModuleOp, *parts: str) -> str:
    """sha256 of the module's text (weights appear by name) and of its weights' bytes."""
    import io

    digest = hashlib.sha256()
    text = io.StringIO()
    Printer(stream=text, print_generic_format=True).print_op(module)
    digest.update(text.getvalue().encode())
    seen: set[int] = set()
    for op in module.walk():
        for attr in op.properties.values():
            if isinstance(attr, ArrayResourceAttr) and id(attr.array) not in seen:
                seen.add(id(attr.array))
                digest.update(attr.resource_handle.data.encode())
                digest.update(np.ascontiguousarray(attr.array).view(np.uint8).data)
    for part in (*parts, code_version()):
        digest.update(b"\0" + part.encode())
    return digest.hexdigest()


@dataclass
class Entry:
    object_code: bytes
    abi: dict
    weights: np.ndarray


def load(key: str) -> Entry | None:
    folder = cache_dir() / key
    try:
        object_code = (folder / "module.o").read_bytes()
        abi = json.loads((folder / "abi.json").read_text())
        weights_file = (folder / "weights").read_text().strip()
        weights = np.load(cache_dir() / "weights" / weights_file, mmap_mode="r")
    except (OSError, ValueError):
        return None
    return Entry(object_code, abi, weights)


def store(key: str, entry: Entry) -> None:
    """Store an entry; the weights go to weights/<content hash>.npy, shared by the entries
    that differ only in what does not change the packing (thread counts)."""
    root = cache_dir()
    try:
        (root / "weights").mkdir(parents=True, exist_ok=True)
        weights = np.ascontiguousarray(entry.weights)
        weights_file = hashlib.sha256(weights.view(np.uint8).data).hexdigest() + ".npy"
        if not (root / "weights" / weights_file).exists():
            staged = root / "weights" / f".tmp-{os.getpid()}-{weights_file}"
            np.save(staged, weights)
            staged.rename(root / "weights" / weights_file)
        staging = Path(tempfile.mkdtemp(dir=root, prefix=".tmp-"))
        (staging / "module.o").write_bytes(entry.object_code)
        (staging / "abi.json").write_text(json.dumps(entry.abi))
        (staging / "weights").write_text(weights_file)
        try:
            staging.rename(root / key)
        except OSError:  # another process stored the same entry first
            shutil.rmtree(staging, ignore_errors=True)
    except OSError:
        pass  # a read-only or full disk only costs the next compile its speed
