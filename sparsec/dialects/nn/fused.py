"""`nn.fused`: one fusion group as a region, and its terminator `nn.yield`.

    %y = nn.fused %x, %w attributes {mapping = "many-to-many"} {
    ^bb0(%a: tensor<...>, %b: tensor<...>):
      ...
      nn.yield %r : tensor<...>
    } : (tensor<...>, tensor<...>) -> tensor<...>

The block arguments are the group's inputs in operand order; `nn.yield` returns the
group's outputs in result order. `mapping` is the fused mapping type (DNNFusion Table 3).
"""

from __future__ import annotations

from xdsl.dialects.builtin import StringAttr, TensorType
from xdsl.ir import Region
from xdsl.irdl import (
    IRDLOperation,
    ParsePropInAttrDict,
    irdl_op_definition,
    lazy_traits_def,
    prop_def,
    region_def,
    traits_def,
    var_operand_def,
    var_result_def,
)
from xdsl.traits import (
    HasParent,
    IsolatedFromAbove,
    IsTerminator,
    Pure,
    SingleBlockImplicitTerminator,
)
from xdsl.utils.exceptions import VerifyException

from .base import MappingType


@irdl_op_definition
class YieldOp(IRDLOperation):
    """Returns a fusion group's outputs."""

    name = "nn.yield"
    values = var_operand_def(TensorType)

    traits = lazy_traits_def(lambda: (IsTerminator(), Pure(), HasParent(FusedOp)))
    assembly_format = "($values^ `:` type($values))? attr-dict"

    def __init__(self, *values):
        super().__init__(operands=[list(values)])


@irdl_op_definition
class FusedOp(IRDLOperation):
    """A fusion group: inputs, one region computing the outputs, and its mapping type."""

    name = "nn.fused"
    inputs = var_operand_def(TensorType)
    outputs = var_result_def(TensorType)
    body = region_def("single_block")
    mapping = prop_def(StringAttr)

    traits = traits_def(Pure(), IsolatedFromAbove(), SingleBlockImplicitTerminator(YieldOp))
    assembly_format = ("$inputs attr-dict-with-keyword $body `:` "
                       "functional-type($inputs, $outputs)")
    irdl_options = (ParsePropInAttrDict(),)

    def __init__(self, inputs, output_types, body: Region, mapping: MappingType):
        super().__init__(operands=[list(inputs)], result_types=[list(output_types)],
                         regions=[body], properties={"mapping": StringAttr(mapping.value)})

    def mapping_type(self) -> MappingType:
        return MappingType(self.mapping.data)

    def verify_(self) -> None:
        try:
            MappingType(self.mapping.data)
        except ValueError:
            known = ", ".join(m.value for m in MappingType)
            raise VerifyException(f"nn.fused: unknown mapping type \"{self.mapping.data}\" "
                                  f"(known: {known})") from None
        block = self.body.block
        arg_types = tuple(a.type for a in block.args)
        input_types = tuple(v.type for v in self.inputs)
        if arg_types != input_types:
            raise VerifyException(f"nn.fused: block argument types {_types(arg_types)} must "
                                  f"equal the input types {_types(input_types)}")
        terminator = block.last_op
        if not isinstance(terminator, YieldOp):
            raise VerifyException("nn.fused: the body must end with nn.yield")
        yield_types = tuple(v.type for v in terminator.values)
        output_types = tuple(r.type for r in self.outputs)
        if yield_types != output_types:
            raise VerifyException(f"nn.fused: nn.yield types {_types(yield_types)} must equal "
                                  f"the result types {_types(output_types)}")


def _types(types) -> str:
    return "(" + ", ".join(str(t) for t in types) + ")"
