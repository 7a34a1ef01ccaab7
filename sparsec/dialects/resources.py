"""Weights as numpy arrays inside the IR, printed as MLIR `dense_resource` blobs.

In text, a weight is `dense_resource<key> : tensor<...>` plus an entry in the
`{-# dialect_resources: { builtin: { key: "0x..." } } #-}` trailer, exactly as torch-mlir
prints it: a 4-byte little-endian alignment header, then the raw little-endian data.

In memory, xDSL keeps such blobs as hex strings in the builtin dialect's
`OpAsmDialectInterface`, one storage shared by every Context of the process. sparsec
does not: `ArrayResourceAttr` carries its numpy array (read-only) itself, so passes make
new weights without touching global state, and a module owns its weights. It prints
exactly like `dense_resource`, so the text form is unchanged; `sparsec.textio` moves blobs
between the two forms when parsing and printing.
"""

from __future__ import annotations

import re

import numpy as np
from xdsl.dialect_interfaces.op_asm import OpAsmDialectInterface
from xdsl.dialects.builtin import (
    Builtin,
    DenseIntOrFPElementsAttr,
    DenseResourceAttr,
    Float16Type,
    Float32Type,
    Float64Type,
    IntegerType,
    StringAttr,
    TensorType,
)
from xdsl.ir import Attribute, BuiltinAttribute, Data, TypedAttribute
from xdsl.irdl import irdl_attr_definition
from xdsl.parser import AttrParser
from xdsl.printer import Printer

# --- element types <-> numpy dtypes -----------------------------------------------------


def numpy_dtype(element_type: Attribute) -> np.dtype:
    """The numpy dtype of an MLIR element type (f16/f32/f64, i1/i8/i16/i32/i64)."""
    if isinstance(element_type, Float32Type):
        return np.dtype(np.float32)
    if isinstance(element_type, Float64Type):
        return np.dtype(np.float64)
    if isinstance(element_type, Float16Type):
        return np.dtype(np.float16)
    if isinstance(element_type, IntegerType):
        width = element_type.width.data
        if width == 1:
            return np.dtype(np.bool_)
        if width in (8, 16, 32, 64):
            return np.dtype(f"int{width}")
    raise ValueError(f"no numpy dtype for element type {element_type}")


def element_type_of(dtype: np.dtype) -> Attribute:
    """The MLIR element type of a numpy dtype (inverse of `numpy_dtype`)."""
    from xdsl.dialects.builtin import f16, f32, f64, i1

    dtype = np.dtype(dtype)
    if dtype == np.float32:
        return f32
    if dtype == np.float64:
        return f64
    if dtype == np.float16:
        return f16
    if dtype == np.bool_:
        return i1
    if dtype.kind == "i":
        return IntegerType(dtype.itemsize * 8)
    raise ValueError(f"no MLIR element type for numpy dtype {dtype}")


def tensor_type_of(array: np.ndarray) -> TensorType:
    return TensorType(element_type_of(array.dtype), array.shape)


# --- blob encoding (MLIR's resource blob format) ----------------------------------------


def encode_blob(array: np.ndarray) -> str:
    """`0x` + hex of (u32 little-endian alignment, then the little-endian data)."""
    data = np.ascontiguousarray(array)
    data = data.astype(data.dtype.newbyteorder("<"), copy=False)
    header = int(data.dtype.alignment).to_bytes(4, "little")
    return "0x" + (header + data.tobytes()).hex().upper()


def decode_blob(blob: str, type: TensorType) -> np.ndarray:
    """Inverse of `encode_blob`, checking the byte count against the tensor type."""
    if not blob.startswith("0x"):
        raise ValueError("a resource blob must be a hex string starting with 0x")
    raw = bytes.fromhex(blob[2:])
    dtype = numpy_dtype(type.get_element_type()).newbyteorder("<")
    shape = type.get_shape()
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(raw) != 4 + expected:
        raise ValueError(
            f"resource blob holds {len(raw) - 4} bytes of data after its 4-byte header, "
            f"but {type} needs {expected}"
        )
    array = np.frombuffer(raw, dtype=dtype, offset=4).reshape(shape)
    return array.astype(dtype.newbyteorder("="), copy=False)


# --- the attribute ----------------------------------------------------------------------


_BARE_ID = re.compile(r"[A-Za-z_][A-Za-z0-9_$.]*")


class Blob:
    """A read-only numpy array compared by identity (hashing megabytes is not free)."""

    __slots__ = ("array",)

    def __init__(self, array: np.ndarray):
        array = np.ascontiguousarray(array)
        array.flags.writeable = False
        self.array = array


@irdl_attr_definition
class BlobData(Data[Blob]):
    """The payload of an `ArrayResourceAttr`; never printed on its own."""

    name = "sparsec.blob"

    @classmethod
    def parse_parameter(cls, parser: AttrParser) -> Blob:
        raise NotImplementedError("blobs are parsed from the dialect_resources trailer")

    def print_parameter(self, printer: Printer) -> None:
        raise NotImplementedError("blobs are printed in the dialect_resources trailer")


@irdl_attr_definition
class ArrayResourceAttr(BuiltinAttribute, TypedAttribute):
    """`dense_resource<key> : tensor<...>` whose data is a numpy array held in the IR.

    Prints exactly as MLIR's `dense_resource`; the key names the trailer entry, so keys
    must be unique per module (`unique_resource_key` makes them so).
    """

    name = "sparsec.dense_resource"

    resource_handle: StringAttr
    type: TensorType
    blob: BlobData

    @staticmethod
    def from_array(key: str, array: np.ndarray) -> ArrayResourceAttr:
        array = np.asarray(array)
        return ArrayResourceAttr(StringAttr(key), tensor_type_of(array), BlobData(Blob(array)))

    @property
    def array(self) -> np.ndarray:
        return self.blob.data.array

    def get_type(self) -> TensorType:
        return self.type

    def verify(self) -> None:
        key = self.resource_handle.data
        if not _BARE_ID.fullmatch(key):
            # The printer writes keys unquoted, so anything else would not parse back.
            raise ValueError(f"resource key {key!r} is not an MLIR bare identifier "
                             "([A-Za-z_][A-Za-z0-9_$.]*)")
        shape = tuple(self.type.get_shape())
        if self.array.shape != shape:
            raise ValueError(f"resource {self.resource_handle.data}: array shape "
                             f"{self.array.shape} does not match {self.type}")

    def print_without_type(self, printer: Printer) -> None:
        printer.print_string("dense_resource")
        with printer.in_angle_brackets():
            printer.print_resource_handle("builtin", self.resource_handle.data)

    def print_builtin(self, printer: Printer) -> None:
        self.print_without_type(printer)
        printer.print_string(" : ")
        printer.print_attribute(self.type)


# --- getting an array out of any constant attribute -------------------------------------


def _builtin_blob_storage() -> OpAsmDialectInterface:
    interface = Builtin.get_interface(OpAsmDialectInterface)
    assert interface is not None, "the builtin dialect always has OpAsmDialectInterface"
    return interface


def array_of(attr: Attribute) -> np.ndarray:
    """The numpy value of a constant attribute: our resources, `dense<...>` or a plain
    `dense_resource` still in xDSL's builtin blob storage (a module parsed by plain
    xdsl-opt)."""
    if isinstance(attr, ArrayResourceAttr):
        return attr.array
    if isinstance(attr, DenseIntOrFPElementsAttr):
        type = attr.get_type()
        dtype = numpy_dtype(type.get_element_type())
        shape = type.get_shape()
        values = np.array(attr.get_values(), dtype=dtype)
        return values.reshape(shape) if values.size else np.zeros(shape, dtype)
    if isinstance(attr, DenseResourceAttr):
        blob = _builtin_blob_storage().lookup(attr.resource_handle.data)
        if not blob:
            raise ValueError(f"dense_resource<{attr.resource_handle.data}> has no data in "
                             "the dialect_resources trailer")
        return decode_blob(blob, attr.type)
    raise ValueError(f"not a constant tensor attribute: {attr}")


def dense_elements_of(array: np.ndarray) -> DenseIntOrFPElementsAttr:
    """An inline `dense<...>` attribute (for small constants)."""
    type = tensor_type_of(array)
    flat = np.asarray(array).reshape(-1).tolist()
    return DenseIntOrFPElementsAttr.from_list(type, flat)
