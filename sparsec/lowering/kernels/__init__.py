"""Kernel emitters: one per kind of nn op, chosen by `emit_kernel`.

`plan_kernels` decides which ops share a kernel: a producer that can apply element-wise
ops while its result is in registers (GEMM-based contractions, element-wise ops, batch
norm, depthwise convolution) takes the chain of single-use element-wise ops after it.
Reshapes are not kernels: they alias their input's buffer.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

from xdsl.ir import Operation, SSAValue

from sparsec.dialects import nn

from .base import CopyPlan, Kernel, KernelPlan, LoweringError
from .elementwise import (
    emit_concat,
    emit_copy_plan,
    emit_elementwise,
    emit_expand,
    emit_gather,
    emit_pad,
    emit_slice,
    emit_transpose,
    emit_upsample_nearest,
)
from .epilogue import can_extend, is_elementwise


def _gemm():
    from . import gemm

    return gemm


def _pooling():
    from . import pooling

    return pooling


def _reductions():
    from . import reductions

    return reductions


def _on_op(fn: Callable[[Kernel, Operation], None]) -> Callable[[Kernel, KernelPlan], None]:
    """An emitter of a single op (no epilogue)."""
    return lambda k, plan: fn(k, plan.op)


def _emitters() -> dict[type[Operation], Callable[[Kernel, KernelPlan], None]]:
    simple = {
        nn.ExpandOp: emit_expand, nn.TransposeOp: emit_transpose, nn.SliceOp: emit_slice,
        nn.ConcatOp: emit_concat, nn.PadOp: emit_pad, nn.GatherOp: emit_gather,
        nn.UpsampleNearestOp: emit_upsample_nearest,
    }
    table: dict[type[Operation], Callable[[Kernel, KernelPlan], None]] = {
        kind: _on_op(fn) for kind, fn in simple.items()
    }
    for kind in (*nn.UNARY_OPS, *nn.BINARY_OPS, nn.BatchNormOp):
        table[kind] = lambda k, plan: emit_elementwise(k, plan.op, plan.epilogue)
    table[nn.Conv2dOp] = lambda k, plan: _gemm().emit_conv2d(k, plan.op, plan.epilogue)
    table[nn.LinearOp] = lambda k, plan: _gemm().emit_linear(k, plan.op, plan.epilogue)
    table[nn.MatmulOp] = lambda k, plan: _gemm().emit_matmul(k, plan.op, plan.epilogue)
    for kind in (nn.MaxPool2dOp, nn.AvgPool2dOp, nn.AdaptiveAvgPool2dOp):
        table[kind] = lambda k, plan: _pooling().emit_pooling(k, plan.op)
    for kind in (nn.ReduceSumOp, nn.ReduceMeanOp, nn.ReduceMaxOp):
        table[kind] = lambda k, plan: _reductions().emit_reduce(k, plan.op)
    table[nn.SoftmaxOp] = lambda k, plan: _reductions().emit_softmax(k, plan.op)
    table[nn.LayerNormOp] = lambda k, plan: _reductions().emit_layer_norm(k, plan.op)
    return table


EMITTERS = _emitters()


def emit_kernel(k: Kernel, plan: KernelPlan | CopyPlan) -> None:
    if isinstance(plan, CopyPlan):
        emit_copy_plan(k, plan.value, plan.index)
        return
    from .sparse import emit_sparse, is_sparse

    if is_sparse(plan.op):  # a weight with a #sparse encoding: the format's kernel
        emit_sparse(k, plan)
        return
    emitter = EMITTERS.get(type(plan.op))
    if emitter is None:
        raise k.fail("has no code generator")
    emitter(k, plan)


def _takes_epilogue(op: Operation, resolve) -> Callable[[Operation, SSAValue], bool] | None:
    """For a producer that can apply element-wise ops in registers, the test of which
    consumers it can take; None for ops that cannot."""
    if is_elementwise(op):
        return lambda consumer, chain: can_extend(consumer, chain, resolve)
    if isinstance(op, nn.Conv2dOp | nn.LinearOp | nn.MatmulOp):
        return lambda consumer, chain: (can_extend(consumer, chain, resolve)
                                        and _gemm().epilogue_supported(op, consumer, chain,
                                                                       resolve))
    return None


def plan_kernels(graph) -> list[KernelPlan]:
    """One KernelPlan per kernel, in execution order (reshapes excluded: they alias).

    A consumer joins its producer's kernel when it is the only user of the chain value,
    the value is not an output, and the consumer's other operands already exist when the
    producer runs (they are defined before it)."""
    resolve = graph.resolve
    position = {op.results[0]: i for i, op in enumerate(graph.ops)}
    uses: Counter[SSAValue] = Counter()
    users: dict[SSAValue, list[Operation]] = {}
    for op in graph.ops:
        for operand in op.operands:
            uses[resolve(operand)] += 1
            users.setdefault(resolve(operand), []).append(op)
    outputs = set(graph.outputs)
    absorbed: set[Operation] = set()
    plans = []
    for index, op in enumerate(graph.ops):
        if op in absorbed or isinstance(op, nn.ReshapeOp) or op.results[0] in graph.constants:
            continue
        plan = KernelPlan(op)
        accepts = _takes_epilogue(op, resolve)
        chain = op.results[0]
        while accepts is not None and uses[chain] == 1 and chain not in outputs:
            consumer = users[chain][0]
            others = [resolve(v) for v in consumer.operands if resolve(v) is not chain]
            ready = all(position.get(v, -1) < index for v in others)
            if not ready or not accepts(consumer, chain):
                break
            plan.epilogue.append(consumer)
            absorbed.add(consumer)
            chain = consumer.results[0]
        plans.append(plan)
    return plans


__all__ = ["EMITTERS", "LoweringError", "emit_kernel", "plan_kernels"]
