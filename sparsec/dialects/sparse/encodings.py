"""Sparse encodings: attributes on a weight tensor's type, and THE definition of the arrays
each format stores (`fields`).

    tensor<64x576xf32, #sparse.bcr<block = [8, 4]>>         GRIM's block-based column-row
    tensor<64x64x3x3xf32, #sparse.pattern<patterns = [[0, 1, 3, 4], [1, 4, 5, 7], ...]>>
    tensor<1000x512xf32, #sparse.csr>                        unstructured baseline
    tensor<1000x512xf32, #sparse.bsr<block = [4, 4]>>        block baseline

The csr, bsr and bcr formats store a tensor through its *matrix view*: rows = dim 0,
columns = the product of the other dims (a conv weight [Cout, Cin, kh, kw] is the GEMM
matrix Cout x Cin*kh*kw, a linear weight [out, in] is itself). The pattern format stores
3x3 convolution kernels: positions 0..8 number a kernel's weights row-major, 4 is the
centre.

As in MLIR's SparseTensor (`foreachField`), one function, `fields`, says which arrays a
format has, their element types and their lengths; `sparse.assemble` verifies against it,
and pack, unpack, the interpreter and the kernels derive from it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from math import prod
from typing import Literal

from xdsl.dialects.builtin import ArrayAttr, IntAttr, TensorType, i32
from xdsl.ir import Attribute, ParametrizedAttribute
from xdsl.irdl import irdl_attr_definition
from xdsl.parser import AttrParser
from xdsl.printer import Printer
from xdsl.utils.exceptions import VerifyException

CENTRE = 4
"""Position of a 3x3 kernel's centre weight (positions are row-major, 0..8)."""

PATTERN_SIZE = 4
"""Weights a pattern keeps (PatDNN's best setting: the centre plus 3)."""

INDEX_TYPE = i32
"""Element type of every index array (positions, offsets, permutations)."""


class SparseEncodingAttr(ParametrizedAttribute):
    """Base of the `#sparse.*` encodings; `fields` defines each one's arrays."""

    def verify_shape(self, shape: Sequence[int]) -> None:
        """Raise VerifyException if a tensor of this shape cannot carry the encoding."""
        if len(shape) < 2:
            raise VerifyException(f"{self} needs a tensor of rank >= 2 (stored through its "
                                  f"matrix view), got shape {_shape_str(shape)}")


def matrix_view(shape: Sequence[int]) -> tuple[int, int]:
    """(rows, columns) of a tensor's matrix view: dim 0 by the product of the others."""
    return shape[0], prod(shape[1:])


def _shape_str(shape: Sequence[int]) -> str:
    return "x".join(map(str, shape)) or "scalar"


# --- block formats ------------------------------------------------------------------------


def _parse_block(parser: AttrParser, name: str) -> tuple[int, int]:
    parser.parse_punctuation("<")
    parser.parse_keyword("block", f" in #sparse.{name}")
    parser.parse_punctuation("=")
    start = parser.pos
    block = parser.parse_comma_separated_list(parser.Delimiter.SQUARE, parser.parse_integer)
    problem = _block_problem(block)
    if problem:
        parser.raise_error(f"#sparse.{name}: {problem}", start, parser.pos)
    parser.parse_punctuation(">")
    return block[0], block[1]


def _block_problem(block: Sequence[int]) -> str | None:
    if len(block) != 2 or min(block) < 1:
        return f"block must be two positive integers [rows, columns], got {list(block)}"
    return None


class _BlockEncoding(SparseEncodingAttr):
    block_rows: IntAttr
    block_cols: IntAttr

    def __init__(self, block: Sequence[int]):
        super().__init__(IntAttr(int(block[0])), IntAttr(int(block[1])))

    @property
    def block(self) -> tuple[int, int]:
        return self.block_rows.data, self.block_cols.data

    def verify(self) -> None:
        problem = _block_problem(self.block)
        if problem:
            raise VerifyException(f"#{self.name}: {problem}")

    def verify_shape(self, shape: Sequence[int]) -> None:
        super().verify_shape(shape)
        (m, k), (bm, bk) = matrix_view(shape), self.block
        if m % bm or k % bk:
            raise VerifyException(
                f"{self}: the {m}x{k} matrix view of a {_shape_str(shape)} tensor is not "
                f"divisible into {bm}x{bk} blocks ({m} % {bm} = {m % bm}, "
                f"{k} % {bk} = {k % bk})")

    @classmethod
    def parse_parameters(cls, parser: AttrParser) -> list[Attribute]:
        rows, cols = _parse_block(parser, cls.name.removeprefix("sparse."))
        return [IntAttr(rows), IntAttr(cols)]

    def print_parameters(self, printer: Printer) -> None:
        printer.print_string(f"<block = [{self.block_rows.data}, {self.block_cols.data}]>")


@irdl_attr_definition
class BCRAttr(_BlockEncoding):
    """GRIM's Block-based Column-Row format: the matrix view is cut into `block` tiles;
    in each tile whole rows and whole columns are pruned, so the kept weights of a tile
    are a small dense (kept rows) x (kept columns) matrix."""

    name = "sparse.bcr"


@irdl_attr_definition
class BSRAttr(_BlockEncoding):
    """Block sparse row: the matrix view's nonzero `block` tiles, stored densely."""

    name = "sparse.bsr"


@irdl_attr_definition
class CSRAttr(SparseEncodingAttr):
    """Compressed sparse row over the matrix view (the unstructured baseline)."""

    name = "sparse.csr"

    def __init__(self):
        super().__init__()

    @classmethod
    def parse_parameters(cls, parser: AttrParser) -> list[Attribute]:
        return []

    def print_parameters(self, printer: Printer) -> None:
        pass


# --- the pattern format -------------------------------------------------------------------


def pattern_set_problem(patterns: Sequence[Sequence[int]]) -> str | None:
    """Why `patterns` is not a valid PatDNN pattern set (None if it is): at least one
    pattern; each keeps 4 distinct positions of a 3x3 kernel, ascending, the centre (4)
    among them; no pattern twice."""
    if not patterns:
        return "the pattern set is empty"
    seen: dict[tuple[int, ...], int] = {}
    for index, pattern in enumerate(patterns):
        shown = f"pattern {index} {list(pattern)}"
        if len(pattern) != PATTERN_SIZE:
            return f"{shown} keeps {len(pattern)} weights; a pattern keeps {PATTERN_SIZE}"
        if any(not 0 <= p < 9 for p in pattern):
            return f"{shown} has a position outside 0..8 (a 3x3 kernel, row-major)"
        if any(a >= b for a, b in zip(pattern, pattern[1:], strict=False)):
            return f"{shown} must list distinct positions in ascending order"
        if CENTRE not in pattern:
            return f"{shown} does not keep the centre (position {CENTRE})"
        if tuple(pattern) in seen:
            return f"{shown} repeats pattern {seen[tuple(pattern)]}"
        seen[tuple(pattern)] = index
    return None


@irdl_attr_definition
class PatternAttr(SparseEncodingAttr):
    """PatDNN's kernel patterns: every kept 3x3 kernel keeps the 4 positions of one pattern
    of the set; a kernel not stored is pruned whole (connectivity pruning). Pattern ids in
    the arrays index this set."""

    name = "sparse.pattern"

    pattern_set: ArrayAttr[ArrayAttr[IntAttr]]

    def __init__(self, patterns: Sequence[Sequence[int]]):
        super().__init__(ArrayAttr([ArrayAttr([IntAttr(int(p)) for p in pattern])
                                    for pattern in patterns]))

    @property
    def patterns(self) -> tuple[tuple[int, ...], ...]:
        return tuple(tuple(p.data for p in pattern.data) for pattern in self.pattern_set.data)

    def verify(self) -> None:
        problem = pattern_set_problem(self.patterns)
        if problem:
            raise VerifyException(f"#sparse.pattern: {problem}")

    def verify_shape(self, shape: Sequence[int]) -> None:
        if len(shape) != 4 or tuple(shape[2:]) != (3, 3):
            raise VerifyException(f"#sparse.pattern needs a convolution weight with 3x3 "
                                  f"kernels [Cout, Cin, 3, 3], got shape {_shape_str(shape)}")

    @classmethod
    def parse_parameters(cls, parser: AttrParser) -> list[Attribute]:
        parser.parse_punctuation("<")
        parser.parse_keyword("patterns", " in #sparse.pattern")
        parser.parse_punctuation("=")
        start = parser.pos
        patterns = parser.parse_comma_separated_list(
            parser.Delimiter.SQUARE,
            lambda: parser.parse_comma_separated_list(parser.Delimiter.SQUARE,
                                                      parser.parse_integer))
        problem = pattern_set_problem(patterns)
        if problem:
            parser.raise_error(f"#sparse.pattern: {problem}", start, parser.pos)
        parser.parse_punctuation(">")
        return list(PatternAttr(patterns).parameters)

    def print_parameters(self, printer: Printer) -> None:
        shown = ", ".join("[" + ", ".join(map(str, p)) + "]" for p in self.patterns)
        printer.print_string(f"<patterns = [{shown}]>")


ENCODINGS = (BCRAttr, PatternAttr, CSRAttr, BSRAttr)


def encoding_of(type: Attribute) -> SparseEncodingAttr | None:
    """The sparse encoding of a tensor type, or None for a dense tensor."""
    if isinstance(type, TensorType) and isinstance(type.encoding, SparseEncodingAttr):
        return type.encoding
    return None


# --- THE definition of each format's arrays -----------------------------------------------


@dataclass(frozen=True)
class Extent:
    """A data-dependent length: the number of stored entries of some kind (+ `plus`).
    Every field using the same name must agree on it."""

    name: str
    plus: int = 0

    def __str__(self) -> str:
        return self.name + (f"+{self.plus}" if self.plus else "")


Dim = int | Extent


@dataclass(frozen=True)
class Field:
    """One array of a packed weight: `index` arrays are i32, `value` arrays have the
    tensor's element type."""

    name: str
    kind: Literal["index", "value"]
    shape: tuple[Dim, ...]
    doc: str

    def element_type(self, tensor: TensorType) -> Attribute:
        return INDEX_TYPE if self.kind == "index" else tensor.get_element_type()


def fields(encoding: SparseEncodingAttr, shape: Sequence[int]) -> tuple[Field, ...]:
    """The arrays that store a tensor of `shape` in `encoding`, in operand order.

    All formats list their arrays in a canonical order that `pack` produces; `unpack`
    accepts only arrays of this layout (see sparsec.dialects.sparse.formats)."""
    m, k = matrix_view(shape)
    match encoding:
        case CSRAttr():
            nnz = Extent("nnz")
            return (
                Field("indptr", "index", (m + 1,), "row r's entries are indptr[r]:indptr[r+1]"),
                Field("indices", "index", (nnz,), "column of each entry, ascending in a row"),
                Field("values", "value", (nnz,), "the entries"),
            )
        case BSRAttr(block=(bm, bk)):
            blocks = Extent("blocks")
            return (
                Field("indptr", "index", (m // bm + 1,),
                      "block row i's blocks are indptr[i]:indptr[i+1]"),
                Field("indices", "index", (blocks,),
                      "block column of each block, ascending in a block row"),
                Field("blocks", "value", (blocks, bm, bk), "each nonzero block, dense"),
            )
        case BCRAttr(block=(bm, bk)):
            nblocks = (m // bm) * (k // bk)
            return (
                Field("reorder", "index", (m,),
                      "GRIM's matrix reorder: the rows grouped by identical kept-column "
                      "sets, the groups with most weights first (a permutation of 0..M-1)"),
                Field("row_ptr", "index", (nblocks + 1,),
                      "tile b's kept rows are rows[row_ptr[b]:row_ptr[b+1]] (tiles in "
                      "row-major order of the block grid)"),
                Field("rows", "index", (Extent("kept_rows"),),
                      "kept rows of each tile: matrix row indices, ascending"),
                Field("col_ptr", "index", (nblocks + 1,),
                      "tile b's kept columns are cols[col_ptr[b]:col_ptr[b+1]]"),
                Field("cols", "index", (Extent("kept_cols"),),
                      "kept columns of each tile: matrix column indices, ascending"),
                Field("val_ptr", "index", (nblocks + 1,),
                      "tile b's weights are values[val_ptr[b]:val_ptr[b+1]]"),
                Field("values", "value", (Extent("weights"),),
                      "each tile's (kept rows) x (kept columns) matrix, row-major"),
            )
        case PatternAttr():
            cout = shape[0]
            runs, kernels = Extent("runs"), Extent("kernels")
            return (
                Field("reorder", "index", (cout,),
                      "filter kernel reorder: slot f holds filter reorder[f]; filters with "
                      "more kept kernels first (a permutation of 0..Cout-1)"),
                Field("offsets", "index", (cout + 1,),
                      "slot f's pattern runs are offsets[f]:offsets[f+1]"),
                Field("strides", "index", (Extent("runs", 1),),
                      "run r's kernels are strides[r]:strides[r+1]"),
                Field("pattern_ids", "index", (runs,),
                      "pattern of each run, ascending within a filter"),
                Field("channels", "index", (kernels,),
                      "input channel of each kept kernel, ascending within a run"),
                Field("weights", "value", (kernels, PATTERN_SIZE),
                      "each kept kernel's 4 weights, in its pattern's position order"),
            )
    raise ValueError(f"not a sparse encoding: {encoding}")


def field_shapes(encoding: SparseEncodingAttr, shape: Sequence[int],
                 extents: dict[str, int]) -> dict[str, tuple[int, ...]]:
    """The concrete shape of every field, given the values of the data-dependent extents."""
    return {f.name: tuple(d if isinstance(d, int) else extents[d.name] + d.plus
                          for d in f.shape)
            for f in fields(encoding, shape)}
