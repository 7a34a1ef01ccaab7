"""`classify`: annotate every nn operator with DNNFusion's extended-graph facts (§3, ECG).

Each operator gets discardable attributes:
  nn.mapping   its mapping type (Table 2), e.g. "one-to-many" for a broadcasting add;
  nn.ir_bytes  the size of its intermediate result in bytes (Listing 1's IRS_size);
  nn.flops     its FLOP count (a multiply-add counts 2);
  nn.algebra   its algebraic properties, when it has any (e.g. ["commutative", "associative"]).
The pass is pure annotation: rerunning it gives the same attributes, and it never
changes an operation.
"""

from __future__ import annotations

from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects.builtin import ArrayAttr, IntegerAttr, ModuleOp, StringAttr, TensorType, i64
from xdsl.passes import ModulePass

from sparsec.dialects.nn import Algebra, NNOperation
from sparsec.dialects.resources import numpy_dtype


def result_bytes(type: TensorType) -> int:
    count = 1
    for dim in type.get_shape():
        count *= dim
    return count * numpy_dtype(type.get_element_type()).itemsize


def algebra_names(algebra: Algebra) -> list[str]:
    return [flag.name.lower() for flag in Algebra if flag and flag in algebra]


@dataclass(frozen=True)
class ClassifyPass(ModulePass):
    """Annotate nn ops with mapping type, intermediate-result bytes, FLOPs and algebra."""

    name = "classify"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        for inner in op.walk():
            if not isinstance(inner, NNOperation):
                continue
            mapping = inner.mapping_type()
            if mapping is None:  # constants are weights, not operators
                continue
            inner.attributes["nn.mapping"] = StringAttr(mapping.value)
            inner.attributes["nn.ir_bytes"] = IntegerAttr(result_bytes(inner.results[0].type), i64)
            inner.attributes["nn.flops"] = IntegerAttr(inner.flops(), i64)
            names = algebra_names(inner.ALGEBRA)
            if names:
                inner.attributes["nn.algebra"] = ArrayAttr([StringAttr(n) for n in names])
