"""Element-wise ops applied to a value while it is still in registers.

A chain like conv2d -> batch_norm -> add(residual) -> relu becomes one kernel: the conv
computes a tile, then each `Step` transforms it (reading its other operands at the same
indices) before the single store. An element-wise kernel is the same chain without a
producer: its first step reads all of its operands.

    steps = chain_steps(k, [bn, add, relu], first_input=conv.result)
    y = step.apply(E, y, [values of step.operands at this index])
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from xdsl.dialects import math as xmath
from xdsl.dialects.builtin import AnyFloat
from xdsl.ir import Operation, SSAValue

from sparsec.dialects import nn

from ..emitter import Emitter
from .base import Kernel, LoweringError, shape
from .elementwise import Access, binary_fn, broadcast_strides, operand_access, unary_fn
from .elementwise import is_float as _is_float

UNARY = tuple(nn.UNARY_OPS)
BINARY = tuple(nn.BINARY_OPS)


@dataclass
class Operand:
    """An input of a step other than the chain value: an nn value, or an array prepared
    at compile time (batch norm's per-channel alpha and beta). `dims` is its shape,
    broadcast against the chain's shape."""

    dims: tuple[int, ...]
    value: SSAValue | None = None
    array: np.ndarray | None = None

    def access(self, k: Kernel, result_dims: Sequence[int]) -> Access:
        if self.value is not None:
            access = operand_access(k, self.value, result_dims)
            if access.buffer is not None and tuple(self.dims) != shape(self.value):
                # read as `dims` (a bias [C] as [C, 1, 1])
                access.strides = broadcast_strides(self.dims, result_dims)
            return access
        assert self.array is not None
        if self.array.size == 1:
            return Access(None, (0,) * len(result_dims), 0, float(self.array.reshape(-1)[0]))
        return Access(k.weight(self.array), broadcast_strides(self.dims, result_dims))

@dataclass
class Step:
    op: Operation
    operands: list[Operand]
    chain_index: int | None
    """Where the chain value goes among the op's inputs (None: the step reads them all)."""
    fn: Callable[[Emitter, list[SSAValue]], SSAValue]

    def apply(self, E: Emitter, current: SSAValue | None, values: list[SSAValue]) -> SSAValue:
        args = list(values)
        if self.chain_index is not None:
            assert current is not None
            args.insert(self.chain_index, current)
        return self.fn(E, args)


def batch_norm_constants(k: Kernel, op: nn.BatchNormOp) -> tuple[np.ndarray, np.ndarray] | None:
    """alpha, beta of PyTorch's inference kernel when the statistics are constants."""
    arrays = [k.constant(v) for v in (op.scale, op.bias, op.mean, op.var)]
    if any(a is None for a in arrays):
        return None
    scale, bias, mean, var = arrays  # type: ignore[misc]
    dtype = scale.dtype
    invstd = 1 / np.sqrt(var + dtype.type(op.epsilon.value.data))
    alpha = (invstd * scale).astype(dtype)
    beta = (bias - mean * alpha).astype(dtype)
    return alpha, beta


def _step(k: Kernel, op: Operation, chain: SSAValue | None) -> Step:
    result = op.results[0]
    is_float = _is_float(result)
    inputs = list(op.operands)
    chain_index = None
    if chain is not None:
        resolved = [k.resolve(v) for v in inputs]
        chain_index = resolved.index(k.resolve(chain))
        del inputs[chain_index]
    if isinstance(op, UNARY):
        fn = unary_fn(op, is_float)
        return Step(op, [Operand(shape(v), v) for v in inputs], chain_index,
                    lambda E, a: fn(E, a[0]))
    if isinstance(op, BINARY):
        fn2 = binary_fn(op, is_float)
        return Step(op, [Operand(shape(v), v) for v in inputs], chain_index,
                    lambda E, a: fn2(E, a[0], a[1]))
    if isinstance(op, nn.BatchNormOp):
        return _batch_norm_step(k, op, chain is not None)
    raise LoweringError(f"{op.name} cannot be an element-wise step")


def _batch_norm_step(k: Kernel, op: nn.BatchNormOp, chained: bool) -> Step:
    if not _is_float(op.result):
        raise k.fail("needs floating-point operands")
    dims = shape(op.input)
    channel = (dims[1],) + (1,) * (len(dims) - 2)
    head = [] if chained else [Operand(dims, op.input)]
    folded = batch_norm_constants(k, op)
    if folded is not None:
        alpha, beta = folded
        operands = [*head, Operand(channel, array=alpha.reshape(channel)),
                    Operand(channel, array=beta.reshape(channel))]
        return Step(op, operands, 0 if chained else None,
                    lambda E, a: E.fadd(E.fmul(a[0], a[1]), a[2]))
    epsilon = op.epsilon.value.data
    operands = [*head, *(Operand(channel, v) for v in (op.scale, op.bias, op.mean, op.var))]

    def fn(E: Emitter, a: list[SSAValue]) -> SSAValue:
        x, scale, bias, mean, var = a
        invstd = E.fdiv(E.like(1.0, x), E.math(xmath.SqrtOp, E.fadd(var, E.like(epsilon, x))))
        alpha = E.fmul(invstd, scale)
        beta = E.fsub(bias, E.fmul(mean, alpha))
        return E.fadd(E.fmul(x, alpha), beta)
    return Step(op, operands, 0 if chained else None, fn)


def chain_steps(k: Kernel, ops: Sequence[Operation], first_input: SSAValue | None) -> list[Step]:
    """Steps for `ops` applied in order; `first_input` is the value entering the chain
    (a producer's result) or None when the first op reads all its operands."""
    steps = []
    chain = first_input
    for op in ops:
        steps.append(_step(k, op, chain))
        chain = op.results[0]
    return steps


def is_elementwise(op: Operation) -> bool:
    return isinstance(op, UNARY + BINARY + (nn.BatchNormOp,))


def can_extend(op: Operation, chain: SSAValue, resolve) -> bool:
    """May `op` consume the chain value in registers? It must be element-wise, read the
    chain value once, and produce the chain's shape (other operands broadcast)."""
    if not is_elementwise(op):
        return False
    operands = [resolve(v) for v in op.operands]
    if operands.count(resolve(chain)) != 1:
        return False
    if isinstance(op, nn.BatchNormOp) and operands[0] is not resolve(chain):
        return False
    if shape(op.results[0]) != shape(chain):
        return False
    return isinstance(op.results[0].type.get_element_type(), AnyFloat) or \
        not isinstance(op, nn.BatchNormOp)
