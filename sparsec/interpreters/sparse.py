"""Reference semantics of the sparse dialect: a packed weight is its dense array.

`sparse.assemble` unpacks its arrays (`sparsec.dialects.sparse.unpack`, which checks them
against the format first), so the nn op that takes the weight runs its dense reference
implementation: interpreting a module with packed weights gives exactly what the module
with the dense, masked weights gives, which makes the interpreter the oracle for the
sparse kernels.
"""

from __future__ import annotations

from xdsl.interpreter import Interpreter, InterpreterFunctions, PythonValues, impl, register_impls

from sparsec.dialects.resources import numpy_dtype
from sparsec.dialects.sparse import AssembleOp, unpack
from sparsec.interpreters.nn import NNRuntimeError
from sparsec.textio import location_of


@register_impls
class SparseFunctions(InterpreterFunctions):
    """`@impl` of the sparse dialect's ops."""

    @impl(AssembleOp)
    def run_assemble(self, interpreter: Interpreter, op: AssembleOp, args: PythonValues):
        type = op.result.type
        arrays = dict(zip(op.named_arrays(), args, strict=True))
        try:
            dense = unpack(op.encoding, type.get_shape(), arrays,
                           numpy_dtype(type.get_element_type()))
        except ValueError as e:
            raise NNRuntimeError(f"{location_of(op)}: sparse.assemble: {e}") from None
        return (dense,)
