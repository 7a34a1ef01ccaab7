"""The sparse dialect: weight sparsity as an encoding on the weight tensor's type.

    %w = sparse.assemble %reorder, %row_ptr, ... : (...) -> tensor<64x576xf32, #sparse.bcr<block = [8, 4]>>
    %y = nn.conv2d %x, %w : (tensor<1x64x56x56xf32>, tensor<64x64x3x3xf32, #sparse.bcr<...>>) -> ...

nn.conv2d / nn.linear / nn.matmul take an encoded weight unchanged (their verifiers read
only its shape); the interpreter runs it as unpack + the dense op; lowering picks the
kernel from the encoding. `fields` is the one definition of each format's arrays,
`formats.pack` / `formats.unpack` its executable meaning.
"""

from xdsl.ir import Dialect

from .encodings import (
    CENTRE,
    ENCODINGS,
    PATTERN_SIZE,
    BCRAttr,
    BSRAttr,
    CSRAttr,
    Extent,
    Field,
    PatternAttr,
    SparseEncodingAttr,
    encoding_of,
    field_shapes,
    fields,
    matrix_view,
    pattern_set_problem,
)
from .formats import check, pack, unpack
from .ops import AssembleOp

Sparse = Dialect("sparse", [AssembleOp], list(ENCODINGS))

__all__ = [
    "Sparse", "AssembleOp", "SparseEncodingAttr", "BCRAttr", "PatternAttr", "CSRAttr",
    "BSRAttr", "ENCODINGS", "CENTRE", "PATTERN_SIZE", "Extent", "Field", "fields",
    "field_shapes", "encoding_of", "matrix_view", "pattern_set_problem", "pack", "unpack",
    "check",
]
