"""numpy (and torch) <-> the compiled `@main`: its calling convention and input checks.

`@main(inputs..., outputs..., weights, arena)` takes one pointer per buffer. Every input
is checked here, in Python, before native code runs: count, kind, shape, dtype,
contiguity, and the range of integer inputs used as gather indices. A wrong input raises
`InputError` naming the argument; it never reaches the compiled code.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np


class InputError(ValueError):
    """An argument the compiled model cannot take (message names the argument)."""


@dataclass(frozen=True)
class TensorSpec:
    name: str
    shape: tuple[int, ...]
    dtype: np.dtype

    @staticmethod
    def from_json(entry: dict) -> TensorSpec:
        return TensorSpec(entry["name"], tuple(entry["shape"]), np.dtype(entry["dtype"]))

    def describe(self) -> str:
        return f"{self.dtype.name}{list(self.shape)}"


def _is_torch(value: Any) -> bool:
    return type(value).__module__.startswith("torch") and hasattr(value, "numpy")


def as_array(value: Any, spec: TensorSpec, position: int) -> tuple[np.ndarray, bool]:
    """The input as a numpy array sharing its memory, and whether it was a torch tensor."""
    label = f"argument {position} ({spec.name!r})"
    if _is_torch(value):
        if value.device.type != "cpu":
            raise InputError(f"{label}: expected a CPU tensor, got one on {value.device}")
        if value.requires_grad:
            value = value.detach()
        if not value.is_contiguous():
            raise InputError(f"{label}: the tensor is not contiguous; pass .contiguous()")
        array = value.numpy()
        torch_in = True
    elif isinstance(value, np.ndarray | np.generic):
        array, torch_in = np.asarray(value), False
    else:
        raise InputError(f"{label}: expected a numpy array or a torch tensor of "
                         f"{spec.describe()}, got {type(value).__name__}")
    if array.shape != spec.shape:
        raise InputError(f"{label}: expected shape {spec.shape}, got {array.shape}")
    if array.dtype != spec.dtype:
        raise InputError(f"{label}: expected dtype {spec.dtype.name}, got {array.dtype.name}")
    if not array.flags.c_contiguous:
        raise InputError(f"{label}: the array is not C-contiguous; pass "
                         "np.ascontiguousarray(...)")
    if not array.flags.aligned:
        raise InputError(f"{label}: the array's data is not aligned to its dtype")
    return array, torch_in


def check_index_range(array: np.ndarray, bound: int, spec: TensorSpec, position: int) -> None:
    if array.size and (array.min() < 0 or array.max() >= bound):
        raise InputError(f"argument {position} ({spec.name!r}): gather indices must be in "
                         f"[0, {bound}), got values in [{array.min()}, {array.max()}]")


def check_inputs(inputs: tuple, specs: list[TensorSpec],
                 index_bounds: dict[int, int]) -> tuple[list[np.ndarray], bool]:
    """Validated numpy views of the inputs, and whether any input was a torch tensor."""
    if len(inputs) != len(specs):
        expected = ", ".join(f"{s.name}: {s.describe()}" for s in specs)
        raise InputError(f"expected {len(specs)} input(s) ({expected}), got {len(inputs)}")
    arrays, any_torch = [], False
    for position, (value, spec) in enumerate(zip(inputs, specs, strict=True)):
        array, torch_in = as_array(value, spec, position)
        if position in index_bounds:
            check_index_range(array, index_bounds[position], spec, position)
        arrays.append(array)
        any_torch |= torch_in
    return arrays, any_torch


def aligned_empty(nbytes: int, alignment: int = 64) -> np.ndarray:
    """An uninitialised byte buffer whose data pointer is `alignment`-aligned."""
    raw = np.empty(nbytes + alignment, np.uint8)
    shift = (-raw.ctypes.data) % alignment
    return raw[shift:shift + nbytes]
