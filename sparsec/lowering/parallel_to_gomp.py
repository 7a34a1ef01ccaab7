"""`convert-parallel-to-gomp`: run marked kernel calls on an OpenMP team through libgomp.

A kernel whose last two parameters are a tile range [lo, hi) can be split across threads.
`convert-nn-to-loops` marks such calls with `sparsec.parallel = <threads>`; this pass
(on the llvm dialect, after `convert-func-to-llvm`) turns

    llvm.call @conv2d_3(%x, %w, %y, %lo, %hi) {sparsec.parallel = 2 : i64}

into what an OpenMP compiler emits for `#pragma omp parallel num_threads(2)`:

    %ctx = llvm.alloca 5 x i64            // the call's arguments, one 8-byte slot each
    llvm.store ... %ctx[0..4]
    llvm.call @GOMP_parallel(@conv2d_3_omp, %ctx, 2, 0)

with a trampoline `@conv2d_3_omp(%ctx)` that loads the arguments back and calls the kernel
on this thread's contiguous share of [lo, hi) (`omp_get_thread_num`/`omp_get_num_threads`).
The runtime resolves the three libgomp symbols when it JIT-links the module.
"""

from __future__ import annotations

from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects import llvm
from xdsl.dialects.builtin import IntegerAttr, IntegerType, ModuleOp, i32, i64
from xdsl.ir import Block, Region, SSAValue
from xdsl.passes import ModulePass
from xdsl.rewriter import InsertPoint, Rewriter
from xdsl.utils.exceptions import DiagnosticException

PTR = llvm.LLVMPointerType()
PARALLEL = "sparsec.parallel"
RUNTIME_FUNCTIONS = {
    "GOMP_parallel": llvm.LLVMFunctionType([PTR, PTR, i32, i32], llvm.LLVMVoidType()),
    "omp_get_thread_num": llvm.LLVMFunctionType([], i32),
    "omp_get_num_threads": llvm.LLVMFunctionType([], i32),
}


class _Ops:
    """Appends llvm ops to a list (they go into a new block or before a call)."""

    def __init__(self):
        self.ops = []

    def add(self, op) -> SSAValue:
        self.ops.append(op)
        return op.results[0] if op.results else None

    def i64(self, value: int) -> SSAValue:
        return self.add(llvm.ConstantOp(IntegerAttr(value, i64), i64))

    def i32(self, value: int) -> SSAValue:
        return self.add(llvm.ConstantOp(IntegerAttr(value, i32), i32))

    def slot(self, ctx: SSAValue, index: int) -> SSAValue:
        return self.add(llvm.GEPOp(ctx, [index], i64))

    def min(self, a: SSAValue, b: SSAValue) -> SSAValue:
        less = self.add(llvm.ICmpOp(a, b, IntegerAttr(2, i64)))  # slt
        return self.add(llvm.SelectOp(less, a, b))


def _trampoline(name: str, kernel: str, arg_types: list) -> llvm.FuncOp:
    """@name(%ctx): load the kernel's arguments, take this thread's share of [lo, hi)."""
    block = Block(arg_types=[PTR])
    ctx = block.args[0]
    b = _Ops()
    args = [b.add(llvm.LoadOp(b.slot(ctx, i), t)) for i, t in enumerate(arg_types)]
    lo, hi = args[-2], args[-1]
    thread = b.add(llvm.SExtOp(b.add(llvm.CallOp("omp_get_thread_num", return_type=i32)), i64))
    threads = b.add(llvm.SExtOp(b.add(llvm.CallOp("omp_get_num_threads", return_type=i32)),
                                i64))
    total = b.add(llvm.SubOp(hi, lo))
    chunk = b.add(llvm.SDivOp(b.add(llvm.AddOp(total, b.add(llvm.SubOp(threads, b.i64(1))))),
                              threads))
    start = b.min(b.add(llvm.MulOp(thread, chunk)), total)
    end = b.min(b.add(llvm.AddOp(start, chunk)), total)
    b.add(llvm.CallOp(kernel, *args[:-2], b.add(llvm.AddOp(lo, start)),
                      b.add(llvm.AddOp(lo, end))))
    b.add(llvm.ReturnOp())
    block.add_ops(b.ops)
    return llvm.FuncOp(name, llvm.LLVMFunctionType([PTR], llvm.LLVMVoidType()),
                       llvm.LinkageAttr("internal"), body=Region(block))


def _check_parallel_call(call: llvm.CallOp) -> int:
    threads = call.attributes[PARALLEL]
    if not isinstance(threads, IntegerAttr) or threads.value.data < 1:
        raise DiagnosticException(f"{PARALLEL} must be a positive integer, got {threads}")
    args = list(call.args)
    if len(args) < 2 or any(not isinstance(a.type, IntegerType) for a in args[-2:]):
        raise DiagnosticException(f"a {PARALLEL} call needs a trailing i64 tile range "
                                  "[lo, hi)")
    if call.returned is not None:
        raise DiagnosticException(f"a {PARALLEL} call cannot return a value")
    for a in args:
        if a.type != PTR and a.type != i64:
            raise DiagnosticException(f"a {PARALLEL} call passes only !llvm.ptr and i64, "
                                      f"got {a.type}")
    return threads.value.data


@dataclass(frozen=True)
class ConvertParallelToGompPass(ModulePass):
    name = "convert-parallel-to-gomp"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        calls = [c for c in op.walk() if isinstance(c, llvm.CallOp) and PARALLEL in c.attributes]
        if not calls:
            return
        existing = {f.sym_name.data for f in op.ops if isinstance(f, llvm.FuncOp)}
        for name, type in RUNTIME_FUNCTIONS.items():
            if name not in existing:
                op.body.block.add_op(llvm.FuncOp(name, type, llvm.LinkageAttr("external")))
        trampolines: dict[str, str] = {}
        for call in calls:
            threads = _check_parallel_call(call)
            kernel = call.callee.string_value()
            args = list(call.args)
            if kernel not in trampolines:
                trampolines[kernel] = f"{kernel}_omp"
                op.body.block.add_op(_trampoline(trampolines[kernel], kernel,
                                                 [a.type for a in args]))
            b = _Ops()
            slots = b.add(llvm.AllocaOp(b.i64(len(args)), i64, alignment=8))
            # an opaque pointer (llvmlite types an alloca as i64*, which refuses to store
            # a ptr); instcombine folds the round trip
            context = b.add(llvm.IntToPtrOp(b.add(llvm.PtrToIntOp(slots, i64))))
            for index, arg in enumerate(args):
                b.add(llvm.StoreOp(arg, b.slot(context, index), alignment=8))
            function = b.add(llvm.AddressOfOp(trampolines[kernel], PTR))
            b.add(llvm.CallOp("GOMP_parallel", function, context, b.i32(threads), b.i32(0)))
            Rewriter.insert_op(b.ops, InsertPoint.before(call))
            Rewriter.erase_op(call)
