"""Kernel emitters: one per kind of nn op, chosen by `emit_kernel`.

`plan_kernels` decides which ops share a kernel: a producer that can apply element-wise
ops while its result is in registers (GEMM-based contractions, element-wise ops, batch
norm, depthwise convolution) takes the chain of single-use element-wise ops after it.
When the module carries `nn.fused` groups (the `fuse` pass), the plan decides what may
share a kernel and the generator only how; with fusion off every op is a kernel.
Reshapes are not kernels: they alias their input's buffer.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

from xdsl.dialects.builtin import Float32Type
from xdsl.ir import Operation, SSAValue

from sparsec.dialects import nn

from .base import CopyPlan, Kernel, KernelPlan, LoweringError, shape
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
from .views import (
    Folding,
    concat_in_place,
    emit_view_copy,
    fold_views,
    linear_columns_in_place,
    linear_moves_in_place,
    transpose_in_place,
)


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
    table[nn.Conv2dOp] = lambda k, plan: _gemm().emit_conv2d(
        k, plan.op, plan.epilogue, plan.prologue, plan.plane_epilogue, plan.banded)
    table[nn.LinearOp] = lambda k, plan: _gemm().emit_linear(k, plan.op, plan.epilogue)
    table[nn.MatmulOp] = lambda k, plan: _gemm().emit_matmul(k, plan.op, plan.epilogue)
    for kind in (nn.MaxPool2dOp, nn.AvgPool2dOp, nn.AdaptiveAvgPool2dOp):
        table[kind] = lambda k, plan: _pooling().emit_pooling(k, plan.op, plan.prologue)
    for kind in (nn.ReduceSumOp, nn.ReduceMeanOp, nn.ReduceMaxOp):
        table[kind] = lambda k, plan: _reductions().emit_reduce(k, plan.op, plan.epilogue)
    table[nn.SoftmaxOp] = lambda k, plan: _reductions().emit_softmax(k, plan.op)
    table[nn.LayerNormOp] = lambda k, plan: _reductions().emit_layer_norm(k, plan.op,
                                                                          plan.prologue)
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
    view = k.copies.get(plan.op.results[0])
    if view is not None:  # data movement whose input is a folded view: one strided copy
        emit_view_copy(k, plan.op, view)
        return
    emitter = EMITTERS.get(type(plan.op))
    if emitter is None:
        raise k.fail("has no code generator")
    emitter(k, plan)


def _takes_epilogue(op: Operation, resolve, plan_mode: bool = False
                    ) -> Callable[[Operation, SSAValue], bool] | None:
    """For a producer that can apply element-wise ops in registers, the test of which
    consumers it can take; None for ops that cannot. Reductions take epilogues only when
    a fusion plan asks for them (`plan_mode`)."""
    if plan_mode and isinstance(op, nn.ReduceSumOp | nn.ReduceMeanOp | nn.ReduceMaxOp):
        return lambda consumer, chain: (can_extend(consumer, chain, resolve)
                                        and _reductions().epilogue_supported(consumer, chain,
                                                                             resolve))
    if is_elementwise(op):
        return lambda consumer, chain: can_extend(consumer, chain, resolve)
    if isinstance(op, nn.Conv2dOp | nn.LinearOp | nn.MatmulOp):
        return lambda consumer, chain: (can_extend(consumer, chain, resolve)
                                        and _gemm().epilogue_supported(op, consumer, chain,
                                                                       resolve))
    return None


def _has_convolution(graph, op: Operation) -> bool:
    """Is there a convolution in `op`'s group? (It takes a pooling as its pool epilogue,
    element-wise ops in between included, so the pooling takes no prologue.)"""
    group = graph.group.get(op)
    return group is not None and any(isinstance(o, nn.Conv2dOp) and graph.group.get(o) == group
                                     for o in graph.ops)


def _prologue(op: Operation, graph, uses: Counter[SSAValue],
              allowed: Callable[[Operation, Operation], bool]) -> list[Operation]:
    """The element-wise ops of `op`'s group that `op` applies to its input as it reads
    it: a convolution while packing its im2col panels (`gemm.prologue_supported`), a
    layer_norm in its row loops, a window pooling while copying its padded plane (when
    no convolution of its group takes it as a pool epilogue). A chain p1 -> ... -> pm
    -> op where each link's value has the input's shape, is used once, is no output, and
    its producer is an element-wise op of the same group whose operands the reading loop
    can index. From op's input the chain walks back through the first operand of each
    link that qualifies; p1 reads all of its operands."""
    from .sparse import is_sparse

    if is_sparse(op):  # the sparse kernels read their input as it is: no prologue
        return []
    if isinstance(op, nn.Conv2dOp) and _gemm().prologue_supported(op):
        supported = _gemm().prologue_operands_supported
    elif isinstance(op, nn.LayerNormOp):
        supported = _reductions().prologue_operands_supported
    elif isinstance(op, _pooling().POOLING_OPS) and _pooling().takes_prologue(op) and \
            not _has_convolution(graph, op):
        supported = _gemm().prologue_operands_supported  # read as the depthwise window does
    else:
        return []
    resolve = graph.resolve
    outputs = set(graph.outputs)
    dims = tuple(op.input.type.get_shape())

    def joins(value: SSAValue, consumer: Operation) -> bool:
        producer = value.owner
        return (isinstance(producer, Operation) and producer in graph.group
                and allowed(producer, op) and is_elementwise(producer)
                and uses[value] == 1 and value not in outputs
                and value not in graph.constants
                and tuple(value.type.get_shape()) == dims
                and (consumer is op or can_extend(consumer, value, resolve))
                and supported(producer, dims, resolve))

    chain: list[Operation] = []
    consumer, value = op, resolve(op.input)
    while joins(value, consumer):
        producer = value.owner
        assert isinstance(producer, Operation)
        chain.insert(0, producer)
        candidates = [resolve(v) for v in producer.operands]
        following = next((v for v in candidates if joins(v, producer)), None)
        if following is None:
            break
        consumer, value = producer, following
    return chain


def _plane_epilogue(op: Operation, chain: SSAValue, users: list[Operation], resolve,
                    absorbed: set[Operation], allowed: Callable[[Operation, Operation], bool],
                    ready: Callable[[SSAValue], bool]) -> Operation | None:
    """The op a convolution's kernel computes plane by plane after its epilogue
    (`KernelPlan.plane_epilogue`, `pooling.per_plane`), if its fusion group asks for one:
    a reader of the kernel's result `chain` in the same group that is
    - a max/avg/adaptive-average pooling of it, or
    - a binary op that broadcasts it, (N, C, 1, 1), over a value of shape (N, C, H, W)
      that exists when the kernel runs (`ready(value)`): squeeze-excite's x * s, whose s
      is a 1x1 convolution of the pooled x.
    Dense f32 convolutions only (GEMM or depthwise); the sparse kernels (BCR, pattern,
    CSR) tile their outputs their own way and take none, so such a group is split into
    two kernels. The result may have other users (squeeze-excite: the multiply reads
    the convolution's output too): it is then stored, and else kept in a ring of rows
    where the kernel can (`KernelPlan.banded`)."""
    from .sparse import is_sparse

    if not isinstance(op, nn.Conv2dOp) or is_sparse(op) or \
            not isinstance(op.input.type.get_element_type(), Float32Type):
        return None

    def broadcasts(user: Operation) -> bool:
        if not isinstance(user, nn.BINARY_OPS) or \
                not isinstance(user.results[0].type.get_element_type(), Float32Type):
            return False
        operands = [resolve(v) for v in user.operands]
        if operands.count(chain) != 1:
            return False
        dims, (other,) = shape(chain), [v for v in operands if v is not chain]
        return len(dims) == len(shape(other)) == 4 and dims[2:] == (1, 1) and \
            shape(other)[:2] == dims[:2] and shape(user.results[0]) == shape(other) and \
            ready(other)

    found = [u for u in users if u not in absorbed and allowed(op, u) and (
        isinstance(u, _pooling().POOLING_OPS) or broadcasts(u))]
    return found[0] if len(found) == 1 else None


def plan_kernels(graph, fusion: bool = True) -> tuple[list[KernelPlan], Folding]:
    """One KernelPlan per kernel, in execution order (reshapes excluded: they alias).

    A consumer joins its producer's kernel when it is the only user of the chain value,
    the value is not an output, and the consumer's other operands already exist when the
    producer runs (they are defined before it). Which producer/consumer pairs may join:
    - `fusion=False` (the paper's "OurB" baseline): none, one kernel per op;
    - the module had `nn.fused` groups (`graph.group` not empty): only pairs of the same
      group. An op outside every group is a kernel of its own, and a group the
      generator cannot emit as one loop nest becomes several kernels (the ABI's
      `fusion.groups[].kernels` lists them, the report shows the split);
    - no groups: any pair the generator can fuse (greedy epilogues).
    With groups, a group's data movement is then folded into its consumers' index maps
    (`views.fold_views`)."""
    resolve = graph.resolve
    position = {op.results[0]: i for i, op in enumerate(graph.ops)}
    uses: Counter[SSAValue] = Counter()
    users: dict[SSAValue, list[Operation]] = {}
    for op in graph.ops:
        for operand in op.operands:
            uses[resolve(operand)] += 1
            users.setdefault(resolve(operand), []).append(op)
    outputs = set(graph.outputs)
    group = graph.group

    def allowed(producer: Operation, consumer: Operation) -> bool:
        if not group:
            return True
        return group.get(producer) is not None and group.get(producer) == group.get(consumer)

    absorbed: set[Operation] = set()
    prologues: dict[Operation, list[Operation]] = {}
    if fusion and group:  # only a plan asks for prologues (greedy mode uses epilogues)
        for op in graph.ops:
            chain = _prologue(op, graph, uses, allowed)
            if chain:
                prologues[op] = chain
                absorbed.update(chain)
    plans = []
    for index, op in enumerate(graph.ops):
        if op in absorbed or isinstance(op, nn.ReshapeOp) or op.results[0] in graph.constants:
            continue
        plan = KernelPlan(op, prologue=prologues.get(op, []))
        accepts = _takes_epilogue(op, resolve, bool(group)) if fusion else None
        chain = op.results[0]
        while accepts is not None and uses[chain] == 1 and chain not in outputs:
            consumer = users[chain][0]
            others = [resolve(v) for v in consumer.operands if resolve(v) is not chain]
            ready = all(position.get(v, -1) < index for v in others)
            if not ready or consumer in absorbed or not allowed(op, consumer) \
                    or not accepts(consumer, chain):
                break
            plan.epilogue.append(consumer)
            absorbed.add(consumer)
            chain = consumer.results[0]
        if fusion and group:
            plan.plane_epilogue = _plane_epilogue(
                op, chain, users.get(chain, []), resolve, absorbed, allowed,
                lambda value, index=index: position.get(value, -1) < index)
            if plan.plane_epilogue is not None:
                absorbed.add(plan.plane_epilogue)
                # the pooling is the result's only reader: keep the result in a ring of
                # rows instead of a buffer of its own
                plan.banded = uses[chain] == 1 and chain not in outputs and \
                    _gemm().pool_ring(op, plan.plane_epilogue) is not None
        plans.append(plan)
    if fusion and group:
        plans, folding = fold_views(graph, plans)
        plans = concat_in_place(graph, plans, folding)
        plans = transpose_in_place(graph, plans, folding)
        plans = linear_moves_in_place(graph, plans, folding)
        return linear_columns_in_place(graph, plans, folding), folding
    return plans, Folding({}, {}, set())


__all__ = ["EMITTERS", "LoweringError", "emit_kernel", "plan_kernels"]
