"""The weights file of an ahead-of-time model (`model.weights`): a 64-byte header, then
the weights buffer the compiled code reads, byte for byte.

    offset  size  field
         0     8  magic  b"SPARSECW"
         8     4  version          (1)
        12     4  header bytes     (64: the payload starts 64-byte aligned in the file)
        16     8  payload bytes    (must equal the model's weights buffer size)
        24     8  model id         (hash of the model's LLVM IR: which code the layout is for)
        32     4  CRC-32 of the payload (zlib's: reflected polynomial 0xEDB88320, init and
                  final xor 0xFFFFFFFF)
        36    28  zero (checked: a later version may use them)

Integers are little-endian (both AArch64 Linux and x86-64 are). CRC-32 rather than a
multiply-based hash: Python computes it at C speed (`zlib.crc32`), and the C API computes
it with a 256-entry table, one load, shift and xor per byte.

`write_weights` / `read_weights` are the Python side; the C API (`capi.py`) checks the same
fields in the same order and returns the same `Status` codes.
"""

from __future__ import annotations

import enum
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

MAGIC = b"SPARSECW"
VERSION = 1
HEADER_BYTES = 64
_LAYOUT = struct.Struct("<8sIIQQI28x")
assert _LAYOUT.size == HEADER_BYTES


class Status(enum.IntEnum):
    """Status codes of the C API (`SC_OK`, `SC_ERR_...` in model.h), in checking order."""

    OK = 0
    NULL_ARGUMENT = 1
    OPEN = 2
    TRUNCATED = 3
    BAD_MAGIC = 4
    BAD_VERSION = 5
    SIZE_MISMATCH = 6
    MODEL_MISMATCH = 7
    TRAILING_DATA = 8
    CHECKSUM = 9
    OUT_OF_MEMORY = 10
    INPUT_RANGE = 11


MESSAGES = {
    Status.OK: "success",
    Status.NULL_ARGUMENT: "a required pointer argument is NULL",
    Status.OPEN: "cannot open the weights file",
    Status.TRUNCATED: "the weights data is shorter than its header says",
    Status.BAD_MAGIC: "not a sparsec weights file (bad magic)",
    Status.BAD_VERSION: "unsupported weights file version or header layout",
    Status.SIZE_MISMATCH: "the weights byte count differs from what the model expects",
    Status.MODEL_MISMATCH: "the weights were written for another compiled model",
    Status.TRAILING_DATA: "unexpected bytes after the weights payload",
    Status.CHECKSUM: "weights checksum mismatch (corrupted data)",
    Status.OUT_OF_MEMORY: "out of memory",
    Status.INPUT_RANGE: "an integer (index) input is out of range",
}


class WeightsFileError(ValueError):
    def __init__(self, status: Status):
        super().__init__(f"{MESSAGES[status]} ({status.name})")
        self.status = status


@dataclass(frozen=True)
class Header:
    payload_bytes: int
    model_id: int
    crc32: int
    version: int = VERSION


def crc32(payload: bytes | np.ndarray) -> int:
    return zlib.crc32(memoryview(np.ascontiguousarray(payload)).cast("B")) & 0xFFFFFFFF


def encode(payload: np.ndarray | bytes, model_id: int) -> bytes:
    """Header + payload."""
    data = np.ascontiguousarray(payload).view(np.uint8).reshape(-1)
    header = _LAYOUT.pack(MAGIC, VERSION, HEADER_BYTES, data.size, model_id, crc32(data))
    return header + data.tobytes()


def write_weights(path: str | Path, payload: np.ndarray | bytes, model_id: int) -> None:
    Path(path).write_bytes(encode(payload, model_id))


def decode(data: bytes, expected_bytes: int | None = None,
           model_id: int | None = None) -> tuple[Header, bytes]:
    """Check a weights file's bytes as the C API does; raise WeightsFileError with the same
    status, or return the header and the payload."""
    if len(data) < HEADER_BYTES:
        raise WeightsFileError(Status.TRUNCATED)
    magic, version, header_bytes, size, stored_id, checksum = _LAYOUT.unpack_from(data)
    if magic != MAGIC:
        raise WeightsFileError(Status.BAD_MAGIC)
    reserved = data[_LAYOUT.size - 28:_LAYOUT.size]
    if version != VERSION or header_bytes != HEADER_BYTES or any(reserved):
        raise WeightsFileError(Status.BAD_VERSION)
    if expected_bytes is not None and size != expected_bytes:
        raise WeightsFileError(Status.SIZE_MISMATCH)
    if model_id is not None and stored_id != model_id:
        raise WeightsFileError(Status.MODEL_MISMATCH)
    if len(data) < HEADER_BYTES + size:
        raise WeightsFileError(Status.TRUNCATED)
    if len(data) > HEADER_BYTES + size:
        raise WeightsFileError(Status.TRAILING_DATA)
    payload = data[HEADER_BYTES:]
    if crc32(np.frombuffer(payload, np.uint8)) != checksum:
        raise WeightsFileError(Status.CHECKSUM)
    return Header(size, stored_id, checksum, version), payload


def read_weights(path: str | Path, expected_bytes: int | None = None,
                 model_id: int | None = None) -> tuple[Header, bytes]:
    return decode(Path(path).read_bytes(), expected_bytes, model_id)
