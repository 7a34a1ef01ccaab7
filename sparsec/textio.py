"""Reading and writing sparsec modules as MLIR text, weights included.

`parse_module` gives every op a `file:line:column` location and moves `dense_resource`
blobs out of xDSL's process-wide blob storage into the IR (`ArrayResourceAttr`), so two
modules parsed in one process never see each other's weights. `print_module` prints the
module and then the `{-# dialect_resources #-}` trailer from the arrays, so
print(parse(text)) == text for anything sparsec printed.
"""

from __future__ import annotations

import io
from collections.abc import Iterator

from xdsl.context import Context
from xdsl.dialect_interfaces.op_asm import OpAsmDialectInterface
from xdsl.dialects.builtin import (
    Builtin,
    DenseResourceAttr,
    FileLineColLoc,
    IntAttr,
    ModuleOp,
    StringAttr,
    UnknownLoc,
)
from xdsl.ir import Block, Operation
from xdsl.parser import Parser
from xdsl.printer import Printer
from xdsl.utils.exceptions import DiagnosticException, ParseError, VerifyException
from xdsl.utils.mlir_lexer import MLIRTokenKind

from sparsec.dialects.resources import ArrayResourceAttr, decode_blob, encode_blob


class SparsecError(DiagnosticException):
    """An error in the user's input, already formatted as `file:line:col: error: ...`.

    A DiagnosticException, so xDSL's opt driver prints it under --verify-diagnostics and
    goes on with the next --split-input-file chunk."""


class LocatingParser(Parser):
    """xDSL's parser, plus a `file:line:col` location on every op without an explicit one.

    `line_offset` is the first line of this text in its file (--split-input-file chunks)."""

    def __init__(self, ctx: Context, text: str, name: str, line_offset: int = 0):
        super().__init__(ctx, text, name)
        self.line_offset = line_offset
        self._op_names: list[str] = []  # every op name looked up, in parse order

    def _parse_block(self) -> Block:
        label = self._current_token
        if label.kind == MLIRTokenKind.CARET_IDENT and not Block.is_valid_name(label.text[1:]):
            # MLIR accepts ^0; xDSL's Block names cannot start with a digit and would
            # raise a bare ValueError while parsing.
            self.raise_error(f"block label {label.text} is not supported: a block name "
                             "must not start with a digit (write ^bb0)", at_position=label.span)
        return super()._parse_block()

    def _get_op_by_name(self, name: str) -> type[Operation]:
        self._op_names.append(name)
        stack = self._parser_state.dialect_stack
        if self.ctx.get_optional_op(name, dialect_stack=stack) is None:
            # xDSL points past the name, at the next token; point at the name itself.
            end = self._current_token.span.start
            start = self.lexer.input.content.rfind(name, 0, end)
            if start >= 0:
                self.raise_error(f"Operation {name} is not registered", start,
                                 start + len(name))
        return super()._get_op_by_name(name)

    def parse_operation(self) -> Operation:
        span = self._current_token.span
        first_name = len(self._op_names)
        try:
            op = super().parse_operation()
        except VerifyException as e:
            # A custom format checks operand types while parsing (`%x : i32` given to an op
            # that takes tensors); report it like a verifier error, at this op.
            where = span.get_location()
            name = self._op_names[first_name] if len(self._op_names) > first_name else "op"
            raise SparsecError(f"{where.file}:{where.line + self.line_offset}:{where.col}: "
                               f"error: {_with_op_name(name, e)}") from None
        if isinstance(op.location, UnknownLoc):
            where = span.get_location()
            op.location = FileLineColLoc(StringAttr(where.file), IntAttr(where.line + self.line_offset),
                                         IntAttr(where.col))
        return op


def location_of(op: Operation) -> str:
    loc = op.location
    if isinstance(loc, FileLineColLoc):
        return f"{loc.filename.data}:{loc.line.data}:{loc.column.data}"
    return "<unknown>"


def _blob_storage() -> OpAsmDialectInterface:
    interface = Builtin.get_interface(OpAsmDialectInterface)
    assert interface is not None
    return interface


def take_resources(module: ModuleOp, keys: set[str]) -> None:
    """Replace every `dense_resource` property by an `ArrayResourceAttr` holding its data,
    and forget the parsed blobs from xDSL's process-wide storage."""
    storage = _blob_storage()
    try:
        for op in module.walk():
            for name, attr in list(op.properties.items()):
                if isinstance(attr, DenseResourceAttr):
                    key = attr.resource_handle.data
                    blob = storage.lookup(key)
                    if not blob:
                        raise SparsecError(f"{location_of(op)}: error: dense_resource<{key}> "
                                           "has no data in the dialect_resources trailer")
                    try:
                        array = decode_blob(blob, attr.type)
                    except ValueError as e:
                        raise SparsecError(f"{location_of(op)}: error: {key}: {e}") from None
                    op.properties[name] = ArrayResourceAttr.from_array(key, array)
    finally:
        for key in keys:
            storage._blob_storage.pop(key, None)  # the interface has no public remove


def parse_module(text: str, filename: str = "<input>", ctx: Context | None = None,
                 verify: bool = True) -> ModuleOp:
    """Parse MLIR text into a module whose weights are numpy arrays; raises `SparsecError`
    with `file:line:col` for malformed text and for verifier errors."""
    if ctx is None:
        from sparsec.universe import make_context

        ctx = make_context()
    parser = LocatingParser(ctx, text, filename)
    try:
        module = parser.parse_module()
    except ParseError as e:
        raise SparsecError(format_parse_error(e)) from None
    finally:
        keys = {key for dialect, key in parser.dialect_resources if dialect == "builtin"}
    take_resources(module, keys)
    if verify:
        verify_module(module)
    return module


def format_parse_error(e: ParseError) -> str:
    """`file:line:col: error: message`, then the source line with the span underlined."""
    context = str(e).split("\n", 1)[1] if "\n" in str(e) else ""
    return f"{e.span.get_location()}: error: {e.msg}\n{context}".rstrip()


def verify_module(module: ModuleOp) -> None:
    """Verify every op, reporting the first failure at the failing op's location."""
    for op in module.walk():
        try:
            op.verify(verify_nested_ops=False)
        except (DiagnosticException, ValueError) as e:
            raise SparsecError(f"{location_of(op)}: error: {_with_op_name(op.name, e)}") from None
    try:
        module.verify()
    except (DiagnosticException, ValueError) as e:
        raise SparsecError(f"{location_of(module)}: error: {_with_op_name(module.name, e)}") from None


def _with_op_name(name: str, e: BaseException) -> str:
    """The error's message on one line, starting with the op's name. (xDSL attaches its
    printout of the module as a note, not to the message, and its constraint errors do
    not always name the op: "operand 'input' at position 0 does not verify: i32 should
    be of base attribute tensor".)"""
    message = " ".join(line.strip() for line in str(e).splitlines() if line.strip())
    if message.startswith(f"{name}:"):
        return message
    return f"{name}: {message}"


def _resources(module: ModuleOp) -> Iterator[ArrayResourceAttr]:
    for op in module.walk():
        for attr in op.properties.values():
            if isinstance(attr, ArrayResourceAttr):
                yield attr


def resource_trailer(module: ModuleOp) -> str:
    """The `{-# dialect_resources #-}` block for the module's weights ('' if none), in the
    layout MLIR and xDSL print: keys sorted, one per line."""
    blobs: dict[str, ArrayResourceAttr] = {}
    for attr in _resources(module):
        key = attr.resource_handle.data
        other = blobs.setdefault(key, attr)
        if other.blob is not attr.blob and not _same_array(other, attr):
            raise ValueError(f"two different weights share the resource key {key!r}")
    if not blobs:
        return ""
    lines = [f'      {key}: "{encode_blob(blobs[key].array)}"' for key in sorted(blobs)]
    body = ",\n".join(lines)
    return ("\n\n{-#\n  dialect_resources: {\n    builtin: {\n" + body +
            "\n    }\n  }\n#-}")


def _same_array(a: ArrayResourceAttr, b: ArrayResourceAttr) -> bool:
    import numpy as np

    return a.type == b.type and np.array_equal(a.array, b.array)


def print_module(module: ModuleOp, generic: bool = False, debuginfo: bool = False) -> str:
    """MLIR text of the module, with the dialect_resources trailer for its weights."""
    out = io.StringIO()
    Printer(stream=out, print_generic_format=generic, print_debuginfo=debuginfo).print_op(module)
    out.write(resource_trailer(module))
    out.write("\n")
    return out.getvalue()


def unique_key(module_or_keys: ModuleOp | set[str], base: str) -> str:
    """A resource key starting with `base` that no weight of the module uses yet."""
    used = (module_or_keys if isinstance(module_or_keys, set)
            else {a.resource_handle.data for a in _resources(module_or_keys)})
    key, n = base, 0
    while key in used:
        key, n = f"{base}_{n}", n + 1
    return key

