"""`convert-math-to-llvm`: math ops on f32 scalars and vectors become llvm ops.

exp, log, tanh and erf are expanded into polynomials (Cephes expf/logf, Eigen's rational
tanh and erf; a few ulp from the correctly rounded result over the whole f32 range), so a
`vector<8xf32>` exp stays eight lanes wide instead of becoming eight libm calls. sqrt,
abs, floor, fma and pow map to LLVM intrinsics. f64 uses the intrinsics (libm) for exp,
log and tanh.
"""

from __future__ import annotations

from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects import math
from xdsl.dialects.builtin import Float32Type, ModuleOp
from xdsl.ir import Operation, SSAValue
from xdsl.passes import ModulePass
from xdsl.pattern_rewriter import (
    PatternRewriter,
    PatternRewriteWalker,
    RewritePattern,
)
from xdsl.utils.exceptions import DiagnosticException

from .llvm_builder import LLVMBuilder, scalar_of

EXP_POLY = (1.9875691500e-4, 1.3981999507e-3, 8.3334519073e-3, 4.1665795894e-2,
            1.6666665459e-1, 5.0000001201e-1)
LOG_POLY = (7.0376836292e-2, -1.1514610310e-1, 1.1676998740e-1, -1.2420140846e-1,
            1.4249322787e-1, -1.6668057665e-1, 2.0000714765e-1, -2.4999993993e-1,
            3.3333331174e-1)
TANH_P = (-2.76076847742355e-16, 2.00018790482477e-13, -8.60467152213735e-11,
          5.12229709037114e-08, 1.48572235717979e-05, 6.37261928875436e-04,
          4.89352455891786e-03)
TANH_Q = (1.19825839466702e-06, 1.18534705686654e-04, 2.26843463243900e-03,
          4.89352518554385e-03)
ERF_P = (-2.72614225801306e-10, 2.77068142495902e-08, -2.10102402082508e-06,
         -5.69250639462346e-05, -7.34990630326855e-04, -2.95459980854025e-03,
         -1.60960333262415e-02)
ERF_Q = (-1.45660718464996e-05, -2.13374055278905e-04, -1.68282697438203e-03,
         -7.37332916720468e-03, -1.42647390514189e-02)


def horner(b: LLVMBuilder, x: SSAValue, coefficients) -> SSAValue:
    result = b.like(coefficients[0], x)
    for c in coefficients[1:]:
        result = b.fma(result, x, b.like(c, x))
    return result


def expf(b: LLVMBuilder, x: SSAValue) -> SSAValue:
    """exp(x) = 2^n * e^r, n = round(x / ln 2), r = x - n ln 2 (ln 2 split in two)."""
    x = b.fmin(b.fmax(x, b.like(-87.33654, x)), b.like(88.0, x))
    n = b.floor(b.fma(x, b.like(1.44269504088896341, x), b.like(0.5, x)))
    r = b.fma(n, b.like(-0.693359375, x), x)
    r = b.fma(n, b.like(2.12194440e-4, x), r)
    y = b.fma(horner(b, r, EXP_POLY), b.fmul(r, r), b.fadd(r, b.like(1.0, x)))
    # 2^n: n + 1.5 * 2^23 holds n in its low mantissa bits; shift it into the exponent.
    shifted = b.as_int(b.fadd(n, b.like(12582912.0 + 127.0, x)))
    biased = b.sub(shifted, b.like(0x4B400000, shifted))
    scale = b.bitcast(b.shl(biased, b.like(23, biased)), x.type)
    return b.fmul(y, scale)


def logf(b: LLVMBuilder, x: SSAValue) -> SSAValue:
    """ln(x) = e ln 2 + ln(m), m in [sqrt(1/2), sqrt(2)); 0 -> -inf, x < 0 -> nan."""
    bits = b.as_int(x)
    exponent = b.sub(b.ashr(bits, b.like(23, bits)), b.like(126, bits))
    mantissa_bits = b.or_(b.and_(bits, b.like(0x007FFFFF, bits)), b.like(0x3F000000, bits))
    m = b.bitcast(mantissa_bits, x.type)
    small = b.icmp("slt", mantissa_bits, b.like(0x3F3504F3, bits))  # m < sqrt(1/2)
    e = b.fsub(b.sitofp(exponent, x.type), b.select(small, b.like(1.0, x), b.like(0.0, x)))
    t = b.fadd(b.fsub(m, b.like(1.0, x)), b.select(small, m, b.like(0.0, x)))
    z = b.fmul(t, t)
    y = b.fmul(b.fmul(horner(b, t, LOG_POLY), t), z)
    y = b.fma(e, b.like(-2.12194440e-4, x), y)
    y = b.fma(z, b.like(-0.5, x), y)
    result = b.fma(e, b.like(0.693359375, x), b.fadd(t, y))
    result = b.select(b.icmp("eq", b.and_(bits, b.like(0x7FFFFFFF, bits)), b.like(0, bits)),
                      b.like(float("-inf"), x), result)
    result = b.select(b.icmp("slt", bits, b.like(0, bits)), b.like(float("nan"), x), result)
    return b.select(b.icmp("sge", bits, b.like(0x7F800000, bits)), x, result)


def tanhf(b: LLVMBuilder, x: SSAValue) -> SSAValue:
    clamped = b.fmin(b.fmax(x, b.like(-7.90531110763549805, x)), b.like(7.90531110763549805, x))
    x2 = b.fmul(clamped, clamped)
    p = b.fmul(horner(b, x2, TANH_P), clamped)
    q = horner(b, x2, TANH_Q)
    tiny = b.icmp("slt", b.as_int(b.fabs(x)), b.as_int(b.like(0.0004, x)))
    return b.select(tiny, x, b.fdiv(p, q))


def erff(b: LLVMBuilder, x: SSAValue) -> SSAValue:
    clamped = b.fmin(b.fmax(x, b.like(-4.0, x)), b.like(4.0, x))
    x2 = b.fmul(clamped, clamped)
    return b.fdiv(b.fmul(horner(b, x2, ERF_P), clamped), horner(b, x2, ERF_Q))


EXPANSIONS = {math.ExpOp: expf, math.LogOp: logf, math.TanhOp: tanhf, math.ErfOp: erff}
F64_INTRINSICS = {math.ExpOp: "exp", math.LogOp: "log", math.TanhOp: "tanh"}


class MathToLLVM(RewritePattern):
    def match_and_rewrite(self, op: Operation, rewriter: PatternRewriter, /):
        if op.dialect_name() != "math":
            return
        b = LLVMBuilder(rewriter)
        operands = list(op.operands)
        result_type = op.results[0].type
        is_f32 = isinstance(scalar_of(result_type), Float32Type)
        match op:
            case math.ExpOp() | math.LogOp() | math.TanhOp() | math.ErfOp() if is_f32:
                result = EXPANSIONS[type(op)](b, operands[0])
            case math.ExpOp() | math.LogOp() | math.TanhOp():
                result = b.intrinsic(F64_INTRINSICS[type(op)], operands, result_type)
            case math.SqrtOp():
                result = b.sqrt(operands[0])
            case math.RsqrtOp():
                root = b.sqrt(operands[0])
                result = b.fdiv(b.like(1.0, root), root)
            case math.AbsFOp():
                result = b.fabs(operands[0])
            case math.FloorOp():
                result = b.floor(operands[0])
            case math.FmaOp():
                result = b.fma(*operands)
            case math.PowFOp():
                result = b.intrinsic("pow", operands, result_type)
            case _:
                raise DiagnosticException(f"convert-math-to-llvm: {op.name} on {type} is not "
                                          "supported")
        rewriter.replace(op, [], [result])


@dataclass(frozen=True)
class ConvertMathToLLVMPass(ModulePass):
    name = "convert-math-to-llvm"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        PatternRewriteWalker(MathToLLVM(), apply_recursively=False).rewrite_module(op)
