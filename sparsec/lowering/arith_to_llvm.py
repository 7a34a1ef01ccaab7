"""`convert-arith-to-llvm`: arith ops become llvm ops, and `index` becomes `i64` everywhere
(function signatures, block arguments, results).

    arith.addi %a, %b : index       -> llvm.add %a, %b : i64
    arith.addf %a, %b : vector<8xf32> -> llvm.fadd
    arith.maxnumf                   -> llvm.intr.maxnum
    arith.select %c (vector<8xi1>)  -> a bitwise blend (xDSL's llvm.select is scalar-only)
    arith.floordivsi                -> sdiv, corrected towards -inf
    arith.index_cast                -> nothing (index is i64), or sext / trunc

Runs after `convert-scf-to-cf`, `convert-vector-to-llvm` and `convert-memref-to-llvm`:
those ops require `index` operands, so none may remain.
"""

from __future__ import annotations

from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects import arith, func, llvm
from xdsl.dialects.builtin import (
    DenseIntOrFPElementsAttr,
    IndexType,
    IntegerAttr,
    ModuleOp,
    VectorType,
    i64,
)
from xdsl.ir import Attribute, Operation, SSAValue
from xdsl.passes import ModulePass
from xdsl.pattern_rewriter import (
    GreedyRewritePatternApplier,
    PatternRewriter,
    PatternRewriteWalker,
    RewritePattern,
)
from xdsl.utils.exceptions import DiagnosticException

from .llvm_builder import LLVMBuilder, intrinsic_suffix, llvm_type, scalar_of

_INT_BINARY = {
    arith.AddiOp: llvm.AddOp, arith.SubiOp: llvm.SubOp, arith.MuliOp: llvm.MulOp,
    arith.DivSIOp: llvm.SDivOp, arith.DivUIOp: llvm.UDivOp, arith.RemSIOp: llvm.SRemOp,
    arith.RemUIOp: llvm.URemOp, arith.AndIOp: llvm.AndOp, arith.OrIOp: llvm.OrOp,
    arith.XOrIOp: llvm.XOrOp, arith.ShLIOp: llvm.ShlOp, arith.ShRSIOp: llvm.AShrOp,
    arith.ShRUIOp: llvm.LShrOp,
}
_FLOAT_BINARY = {
    arith.AddfOp: llvm.FAddOp, arith.SubfOp: llvm.FSubOp, arith.MulfOp: llvm.FMulOp,
    arith.DivfOp: llvm.FDivOp,
}
_MIN_MAX = {arith.MinSIOp: "slt", arith.MaxSIOp: "sgt", arith.MinUIOp: "ult",
            arith.MaxUIOp: "ugt"}
_CMPI = ("eq", "ne", "slt", "sle", "sgt", "sge", "ult", "ule", "ugt", "uge")
_CMPF = ("false", "oeq", "ogt", "oge", "olt", "ole", "one", "ord", "ueq", "ugt", "uge",
         "ult", "ule", "une", "uno", "true")


def _converted_constant(value: Attribute, type: Attribute) -> Attribute:
    if isinstance(value, IntegerAttr) and isinstance(value.type, IndexType):
        return IntegerAttr(value.value.data, i64)
    if isinstance(value, DenseIntOrFPElementsAttr) and isinstance(type, VectorType):
        return DenseIntOrFPElementsAttr.from_list(type, list(value.get_values()))
    return value


def _width(type: Attribute) -> int:
    scalar = scalar_of(type)
    return 64 if isinstance(scalar, IndexType) else scalar.width.data


class ArithToLLVM(RewritePattern):
    def match_and_rewrite(self, op: Operation, rewriter: PatternRewriter, /):
        if op.dialect_name() != "arith":
            return
        b = LLVMBuilder(rewriter)
        operands = list(op.operands)
        result_type = llvm_type(op.results[0].type)
        result: SSAValue
        match op:
            case arith.ConstantOp():
                result = b.emit(llvm.ConstantOp(_converted_constant(op.value, result_type),
                                                result_type))
            case _ if type(op) in _INT_BINARY:
                result = b.emit(_INT_BINARY[type(op)](*operands))
            case _ if type(op) in _FLOAT_BINARY:
                result = b.emit(_FLOAT_BINARY[type(op)](*operands))
            case arith.NegfOp():
                result = b.emit(llvm.FNegOp(operands[0]))
            case arith.MaxnumfOp():
                result = b.fmax(*operands)
            case arith.MinnumfOp():
                result = b.fmin(*operands)
            case arith.MaximumfOp() | arith.MinimumfOp():
                name = "maximum" if isinstance(op, arith.MaximumfOp) else "minimum"
                result = b.intrinsic(name, operands, result_type)
            case _ if type(op) in _MIN_MAX:
                result = b.select(b.icmp(_MIN_MAX[type(op)], *operands), *operands)
            case arith.FloorDivSIOp():
                result = self.floordiv(b, *operands)
            case arith.CmpiOp():
                result = b.icmp(_CMPI[op.predicate.value.data], *operands)
            case arith.CmpfOp():
                if isinstance(operands[0].type, VectorType):
                    raise DiagnosticException("convert-arith-to-llvm: vector arith.cmpf has "
                                              "no llvm-dialect form in xDSL 0.74")
                predicate = IntegerAttr(op.predicate.value.data, i64)
                result = b.emit(llvm.FCmpOp(operands[0], operands[1], predicate))
            case arith.SelectOp():
                result = b.select(*operands)
            case arith.IndexCastOp() | arith.ExtSIOp() | arith.TruncIOp() | arith.ExtUIOp():
                result = self.int_cast(b, op, operands[0], result_type)
            case arith.BitcastOp():
                result = b.bitcast(operands[0], result_type)
            case arith.SIToFPOp():
                result = b.sitofp(operands[0], result_type)
            case arith.FPToSIOp():
                name = f"llvm.fptosi.sat.{intrinsic_suffix(result_type)}." \
                       f"{intrinsic_suffix(operands[0].type)}"
                result = b.emit(llvm.CallIntrinsicOp(name, operands, [result_type]))
            case arith.ExtFOp():
                result = b.emit(llvm.FPExtOp(operands[0], result_type))
            case arith.TruncFOp():
                result = b.emit(llvm.FPTruncOp(operands[0], result_type))
            case _:
                raise DiagnosticException(f"convert-arith-to-llvm: {op.name} is not supported")
        rewriter.replace(op, [], [result])

    @staticmethod
    def floordiv(b: LLVMBuilder, lhs: SSAValue, rhs: SSAValue) -> SSAValue:
        """floor(lhs / rhs): sdiv rounds towards zero, so subtract one when the remainder is
        non-zero and its sign differs from the divisor's."""
        quotient = b.emit(llvm.SDivOp(lhs, rhs))
        remainder = b.emit(llvm.SRemOp(lhs, rhs))
        zero = b.like(0, lhs)
        inexact = b.icmp("ne", remainder, zero)
        signs_differ = b.icmp("ne", b.icmp("slt", remainder, zero), b.icmp("slt", rhs, zero))
        adjust = b.and_(inexact, signs_differ)
        return b.sub(quotient, b.select(adjust, b.like(1, lhs), zero))

    @staticmethod
    def int_cast(b: LLVMBuilder, op: Operation, value: SSAValue,
                 result_type: Attribute) -> SSAValue:
        source, target = _width(op.operands[0].type), _width(op.results[0].type)
        if source == target:
            return value
        if target < source:
            return b.emit(llvm.TruncOp(value, result_type))
        if isinstance(op, arith.ExtUIOp):
            return b.emit(llvm.ZExtOp(value, result_type))
        return b.sext(value, result_type)


class IndexToI64(RewritePattern):
    """index -> i64 in function signatures, block arguments and results of other ops."""

    def match_and_rewrite(self, op: Operation, rewriter: PatternRewriter, /):
        if isinstance(op, func.FuncOp):
            function_type = op.function_type
            inputs = [llvm_type(t) for t in function_type.inputs]
            outputs = [llvm_type(t) for t in function_type.outputs]
            if inputs != list(function_type.inputs) or outputs != list(function_type.outputs):
                op.properties["function_type"] = func.FunctionType.from_lists(inputs, outputs)
                rewriter.handle_operation_modification(op)
        for region in op.regions:
            for block in region.blocks:
                for arg in block.args:
                    if llvm_type(arg.type) != arg.type:
                        rewriter.replace_value_with_new_type(arg, llvm_type(arg.type))
        for result in op.results:
            if llvm_type(result.type) != result.type:
                rewriter.replace_value_with_new_type(result, llvm_type(result.type))


@dataclass(frozen=True)
class ConvertArithToLLVMPass(ModulePass):
    name = "convert-arith-to-llvm"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        for inner in op.walk():
            if inner.dialect_name() in ("scf", "memref", "vector"):
                raise DiagnosticException(
                    f"convert-arith-to-llvm: {inner.name} needs index operands; run "
                    "convert-scf-to-cf, convert-vector-to-llvm and convert-memref-to-llvm "
                    "first")
        PatternRewriteWalker(GreedyRewritePatternApplier([ArithToLLVM()]),
                             apply_recursively=False).rewrite_module(op)
        PatternRewriteWalker(IndexToI64(), apply_recursively=False).rewrite_module(op)
