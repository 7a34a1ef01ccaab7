"""Reading torch-mlir's in-memory IR (its MLIR Python bindings): op names, types,
constant attributes and locations, as plain Python values.

The frontend never prints torch-mlir IR to text and parses it back: it walks the
bindings' objects directly, whichever way the module was made (FX import, a parsed
.mlir file, the ONNX importer).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

# torch-mlir element type -> numpy dtype (bf16 and complex have no numpy dtype here).
_DTYPES = {
    "f32": np.float32, "f64": np.float64, "f16": np.float16,
    "si64": np.int64, "si32": np.int32, "si16": np.int16, "si8": np.int8, "ui8": np.uint8,
    "i64": np.int64, "i32": np.int32, "i1": np.bool_,
}

# torch's ScalarType codes (the ints torch-mlir uses for `dtype` arguments).
SCALAR_TYPES = {
    0: np.uint8, 1: np.int8, 2: np.int16, 3: np.int32, 4: np.int64, 5: np.float16,
    6: np.float32, 7: np.float64, 11: np.bool_,
}


@dataclass(frozen=True)
class TorchType:
    """A torch-dialect type: `kind` is vtensor, int, float, bool, none, str, list, ...;
    tensors have a static `shape` (None when unranked or dynamic) and a numpy `dtype`
    (None when numpy has none)."""

    text: str
    kind: str
    shape: tuple[int, ...] | None = None
    dtype: np.dtype | None = None

    @property
    def is_tensor(self) -> bool:
        return self.kind == "vtensor"

    @property
    def is_static_tensor(self) -> bool:
        return self.kind == "vtensor" and self.shape is not None and self.dtype is not None

    def __str__(self) -> str:
        return self.text


_VTENSOR = re.compile(r"!torch\.vtensor<\[([^\]]*)\],([^>]+)>$")


@lru_cache(maxsize=4096)
def parse_type(text: str) -> TorchType:
    if text.startswith("!torch.vtensor"):
        match = _VTENSOR.match(text)
        if match is None:
            return TorchType(text, "vtensor")
        dims, element = match.groups()
        sizes = dims.split(",") if dims else []
        shape = None if "?" in sizes else tuple(int(d) for d in sizes)
        dtype = _DTYPES.get(element)
        return TorchType(text, "vtensor", shape, None if dtype is None else np.dtype(dtype))
    if text.startswith("!torch.list"):
        return TorchType(text, "list")
    if text.startswith("!torch."):
        return TorchType(text, text[len("!torch."):].split("<")[0].lower())
    if text.startswith(("tensor<", "f", "i", "si")):
        return TorchType(text, "builtin")
    return TorchType(text, "other")


def type_of(value) -> TorchType:
    return parse_type(str(value.type))


def op_name(op) -> str:
    """The operator's name; `torch.operator "torch.aten.foo"` (an op the torch dialect does
    not define) is named by its `name` attribute."""
    name = op.operation.name
    if name == "torch.operator":
        return op.operation.attributes["name"].value
    return name


def short_name(name: str) -> str:
    """torch.aten.add.Tensor -> aten.add.Tensor; torch.aten.relu -> aten.relu.default."""
    parts = name.split(".")[1:] if name.startswith("torch.") else name.split(".")
    if len(parts) == 2:
        parts.append("default")
    return ".".join(parts)


def attribute(op, name: str):
    """A constant op's attribute as a Python value (int, float, bool, str)."""
    return op.operation.attributes[name].value


_FILE_LOC = re.compile(r'"([^"]*)":(\d+):(\d+)')


def location(op, filename: str | None = None) -> tuple[str, int, int] | None:
    """(file, line, column) of an op: for a call stack (FX import), the innermost frame
    outside PyTorch's own sources; files parsed from text ("-") are named `filename`."""
    frames = _FILE_LOC.findall(str(op.operation.location))
    if not frames:
        return None
    user = [f for f in frames if "/site-packages/torch/" not in f[0]]
    file, line, col = (user or frames)[0]
    if file == "-" and filename is not None:
        file = filename
    return file, int(line), int(col)


_NAME_LOC = re.compile(r'^loc\("([^"]*)"\)$')


def node_name(op) -> str | None:
    """The name of a `loc("name")` location (the ONNX importer names ops after nodes)."""
    match = _NAME_LOC.match(str(op.operation.location))
    return None if match is None else match.group(1)


def describe_location(op, filename: str | None = None) -> str:
    """`file:line:col`, or `file (node NAME)` for ONNX ops, for messages."""
    loc = location(op, filename)
    if loc is not None:
        return f"{loc[0]}:{loc[1]}:{loc[2]}"
    name = node_name(op)
    if name is not None:
        return f"{filename or '<input>'} (node {name})"
    return filename or "<unknown>"


_RESOURCE = re.compile(r"dense_resource<([^>]+)>")


def literal_value(attr, type: TorchType, resources) -> tuple[np.ndarray, str | None]:
    """The array of a `torch.vtensor.literal` of type `type`, and its resource key if it
    has one: inline `dense<...>` data is read from the attribute, `dense_resource<key>`
    data from `resources.get(key, shape, dtype)` (the bindings cannot read blobs)."""
    from torch_mlir import ir

    if isinstance(attr, ir.DenseElementsAttr):
        if attr.is_splat:
            array = np.full(type.shape, _scalar(attr.get_splat_value()), dtype=type.dtype)
        else:
            array = np.array(attr).reshape(type.shape).astype(type.dtype, copy=False)
        return array, None
    match = _RESOURCE.match(str(attr))
    if match is None:
        raise ValueError(f"unsupported literal {attr}")
    key = match.group(1).strip('"')
    return resources.get(key, type.shape, type.dtype), key


def _scalar(attr):
    from torch_mlir import ir

    if isinstance(attr, ir.BoolAttr):
        return bool(attr.value)
    if isinstance(attr, ir.IntegerAttr):
        return int(attr.value)
    if isinstance(attr, ir.FloatAttr):
        return float(attr.value)
    raise ValueError(f"unsupported splat element {attr}")
