"""`sparse.assemble`: a packed weight, built from its arrays.

    %reorder = nn.constant dense_resource<fc.weight.reorder> : tensor<64xi32>
    ...
    %values = nn.constant dense_resource<fc.weight.values> : tensor<2048xf32>
    %w = sparse.assemble %reorder, %row_ptr, %rows, %col_ptr, %cols, %val_ptr, %values
         : (tensor<64xi32>, ...) -> tensor<64x256xf32, #sparse.bcr<block = [8, 4]>>
    %y = nn.linear %x, %w : (tensor<1x256xf32>, tensor<64x256xf32, #sparse.bcr<...>>) -> ...

As MLIR's `sparse_tensor.assemble`: the operands are the format's arrays in the order
`fields` lists them, the result is the tensor with the encoding on its type. Every array
is an ordinary constant, so weights print as plain `dense_resource` blobs in the trailer
and the data-dependent lengths (stored entries, kept rows, pattern runs) are visible in
the operand types.
"""

from __future__ import annotations

from xdsl.dialects.builtin import TensorType
from xdsl.ir import SSAValue
from xdsl.irdl import IRDLOperation, irdl_op_definition, result_def, traits_def, var_operand_def
from xdsl.traits import Pure
from xdsl.utils.exceptions import VerifyException

from .encodings import Field, SparseEncodingAttr, encoding_of, fields


@irdl_op_definition
class AssembleOp(IRDLOperation):
    """A tensor with a sparse encoding, from the arrays its format stores."""

    name = "sparse.assemble"

    arrays = var_operand_def(TensorType)
    result = result_def(TensorType)

    traits = traits_def(Pure())
    assembly_format = "$arrays attr-dict `:` functional-type($arrays, $result)"

    def __init__(self, arrays: list[SSAValue], result_type: TensorType):
        super().__init__(operands=[arrays], result_types=[result_type])

    @property
    def encoding(self) -> SparseEncodingAttr:
        encoding = encoding_of(self.result.type)
        assert encoding is not None, "verified"
        return encoding

    def named_arrays(self) -> dict[str, SSAValue]:
        """The operands by field name."""
        names = [f.name for f in fields(self.encoding, self.result.type.get_shape())]
        return dict(zip(names, self.arrays, strict=True))

    def verify_(self) -> None:
        type = self.result.type
        encoding = encoding_of(type)
        if encoding is None:
            raise VerifyException(f"sparse.assemble: the result type {type} has no #sparse "
                                  "encoding")
        shape = type.get_shape()
        try:
            encoding.verify_shape(shape)
        except VerifyException as e:
            raise VerifyException(f"sparse.assemble: {e}") from None
        specs = fields(encoding, shape)
        if len(self.arrays) != len(specs):
            names = ", ".join(f.name for f in specs)
            raise VerifyException(f"sparse.assemble: {encoding} stores {len(specs)} arrays "
                                  f"({names}), got {len(self.arrays)}")
        extents: dict[str, int] = {}
        for spec, array in zip(specs, self.arrays, strict=True):
            self._verify_array(spec, array.type, type, extents)

    def _verify_array(self, spec: Field, array_type: TensorType, type: TensorType,
                      extents: dict[str, int]) -> None:
        expected_element = spec.element_type(type)
        shown = f"shape [{', '.join(map(str, spec.shape))}] of {expected_element}"
        where = f"sparse.assemble: array '{spec.name}'"
        if array_type.get_element_type() != expected_element:
            raise VerifyException(f"{where} must have {shown}, got {array_type}")
        actual = array_type.get_shape()
        if len(actual) != len(spec.shape):
            raise VerifyException(f"{where} must have {shown}, got {array_type}")
        for dim, size in zip(spec.shape, actual, strict=True):
            if isinstance(dim, int):
                if size != dim:
                    raise VerifyException(f"{where} must have {shown}, got {array_type}")
                continue
            count = size - dim.plus
            known = extents.setdefault(dim.name, count)
            if count < 0 or known != count:
                raise VerifyException(f"{where} has {size} entries where {dim} is expected, "
                                      f"but an earlier array makes {dim.name} = {known}")
