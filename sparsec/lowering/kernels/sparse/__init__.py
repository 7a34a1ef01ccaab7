"""Kernels for contractions whose weight has a sparse encoding (`#sparse.bcr`,
`#sparse.pattern`, `#sparse.csr`): nn.conv2d, nn.linear, and nn.matmul with a constant
2-D right operand.

All three share one structure (`core`: a view of the contraction and a row program):
the contraction's GEMM view Y[M][N] = W[M][K] . X[K][N] (conv2d: W is Cout x Cin*kh*kw
per group and X the im2col columns of one image; linear: W is out x in and X the
transposed input rows), N cut into panels of `nr = nv * lanes` columns. A tile packs its
chunk of X once into a stack buffer (im2col / x^T panels, or for a convolution a
zero-padded band of input rows read in place, split into column phases when strided) and
runs the format's row program over a range of W's rows, accumulating `nv` vectors per
output row with vector FMAs; each finished row goes through the same One-to-One epilogue
(bias, batch norm, residual add, activations) as the dense kernels before its single
store.

    bcr.py      GRIM: per tile, the kept columns of X loaded once and used by all the
                tile's kept rows (a block row's sums in registers, or only the kept
                rows' sums updated in memory), one branch-free body per tile shape
    pattern.py  PatDNN: FKW storage, filters in kernel-reorder order, one branch-free
                body per pattern (4 taps)
    csr.py      the unstructured baseline

Lowering reads a packed weight through `PackedConstant` (the format's arrays, checked
against `encodings.fields` by `formats.check`) and re-packs them at compile time into
the kernels' layouts; the arithmetic is exactly that of `formats.unpack`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from xdsl.ir import Operation

from sparsec.dialects import nn
from sparsec.dialects.sparse.encodings import (
    BCRAttr,
    CSRAttr,
    PatternAttr,
    SparseEncodingAttr,
    encoding_of,
)

from ..base import Kernel, KernelPlan


@dataclass(frozen=True)
class PackedConstant:
    """A constant weight in a sparse encoding: the value of a `sparse.assemble` of
    constant arrays (field name -> array, in `fields` order)."""

    encoding: SparseEncodingAttr
    shape: tuple[int, ...]
    arrays: Mapping[str, np.ndarray]

    def dense(self) -> np.ndarray:
        from sparsec.dialects.sparse.formats import unpack

        return unpack(self.encoding, self.shape, self.arrays)


KERNEL_FORMATS = (BCRAttr, PatternAttr, CSRAttr)
"""The encodings the code generator has kernels for."""


def sparse_operand(op: Operation):
    """The weight operand of a contraction that may carry an encoding, else None."""
    if isinstance(op, nn.Conv2dOp | nn.LinearOp):
        return op.weight
    if isinstance(op, nn.MatmulOp):
        return op.rhs
    return None


def is_sparse(op: Operation) -> bool:
    """Whether the op's weight operand has a sparse encoding."""
    operand = sparse_operand(op)
    return operand is not None and encoding_of(operand.type) is not None


def emit_sparse(k: Kernel, plan: KernelPlan) -> None:
    """The kernel of a contraction with a packed weight, with its fused epilogue."""
    from .core import emit

    emit(k, plan.op, plan.epilogue)


__all__ = ["KERNEL_FORMATS", "PackedConstant", "emit_sparse", "is_sparse", "sparse_operand"]
