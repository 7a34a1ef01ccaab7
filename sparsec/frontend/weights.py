"""Weights on their way in: numpy arrays keyed by resource name, never through text.

torch-mlir's own literal import converts every weight with `tensor.tolist()` (about 85%
of its import time). Here the FX importer's `resolve_literal` hook takes each tensor's
memory as a numpy array instead, and hands torch-mlir a `dense_resource` attribute over
that same buffer; the conversion to nn then looks the arrays up by key in `Resources`.
Files (.mlir with a dialect_resources trailer, .onnx initializers) fill the same table.
"""

from __future__ import annotations

import re

import numpy as np


class Resources:
    """Resource key -> weight. Arrays come whole (FX import, ONNX) or as raw blobs
    (a .mlir trailer) that are decoded once their tensor type is known."""

    def __init__(self):
        self.arrays: dict[str, np.ndarray] = {}
        self.blobs: dict[str, bytes] = {}

    def __contains__(self, key: str) -> bool:
        return key in self.arrays or key in self.blobs

    def add_array(self, key: str, array: np.ndarray) -> None:
        self.arrays[key] = array

    def add_blob(self, key: str, blob: bytes) -> None:
        """`blob` is MLIR's resource encoding: a u32 alignment, then little-endian data."""
        self.blobs[key] = blob

    def get(self, key: str, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
        if key in self.arrays:
            array = self.arrays[key]
        elif key in self.blobs:
            data = np.frombuffer(self.blobs[key], dtype=np.dtype(dtype).newbyteorder("<"),
                                 offset=4)
            if data.size != int(np.prod(shape, dtype=np.int64)):
                raise ValueError(f"resource {key} holds {data.size} elements of {dtype}, "
                                 f"but its type needs shape {shape}")
            array = data.reshape(shape).astype(dtype, copy=False)
            self.arrays[key] = array
        else:
            raise KeyError(f"dense_resource<{key}> has no data in the dialect_resources trailer")
        if array.shape != tuple(shape):
            raise ValueError(f"resource {key} has shape {array.shape}, its use needs {shape}")
        return array.astype(dtype, copy=False)


# --- FX import: tensors straight from the exported program ------------------------------


def make_weight_hooks(names: dict[int, str], resources: Resources):
    """An `FxImporterHooks` that imports every tensor literal as a `dense_resource` over a
    numpy copy of its memory, named after its state-dict entry (`names`: id -> name), and
    records the array in `resources`. A tensor used many times gets one resource."""
    import torch
    from torch_mlir import ir
    from torch_mlir.extras.fx_importer import FxImporterHooks, create_mlir_tensor_type

    class WeightHooks(FxImporterHooks):
        def __init__(self):
            # id -> (tensor, attribute); holding the tensor keeps its id from being reused
            self.seen: dict[int, tuple[torch.Tensor, ir.Attribute]] = {}

        def resolve_literal(self, gni, literal, info):
            if not isinstance(literal, torch.Tensor):
                return None
            entry = self.seen.get(id(literal))
            if entry is None:
                try:
                    array = literal.detach().cpu().numpy().copy()
                except (TypeError, RuntimeError):
                    return None  # e.g. bfloat16: torch-mlir's default path decides
                attr = ir.DenseResourceElementsAttr.get_from_buffer(
                    array, names.get(id(literal), "constant"), create_mlir_tensor_type(literal))
                resources.add_array(resource_key(attr), array)
                entry = self.seen[id(literal)] = (literal, attr)
            vtensor_type = gni._cc.tensor_to_vtensor_type(literal)
            op = ir.Operation.create(name="torch.vtensor.literal", results=[vtensor_type],
                                     attributes={"value": entry[1]})
            return op.result

    return WeightHooks()


_KEY = re.compile(r'dense_resource<("[^"]*"|[^>]*)>')


def resource_key(attr) -> str:
    """The key MLIR gave a resource attribute (it renames on collisions)."""
    return _KEY.match(str(attr)).group(1).strip('"')


# --- .mlir files: the dialect_resources trailer -----------------------------------------

_TRAILER_ENTRY = re.compile(r'\s*([\w.$\-]+|"[^"]*")\s*:\s*"0x([0-9A-Fa-f]*)",?\s*$')


def split_resources(text: str) -> tuple[str, Resources]:
    """Split MLIR text into the IR and its `{-# dialect_resources #-}` blobs (one
    `key: "0x..."` entry per line, as MLIR prints them), so the possibly huge hex never
    goes through the MLIR parser."""
    resources = Resources()
    start = text.rfind("{-#")
    if start < 0 or "dialect_resources" not in text[start:start + 200]:
        return text, resources
    for line in text[start:].splitlines():
        match = _TRAILER_ENTRY.match(line)
        if match is not None:
            resources.add_blob(match.group(1).strip('"'), bytes.fromhex(match.group(2)))
    return text[:start], resources
