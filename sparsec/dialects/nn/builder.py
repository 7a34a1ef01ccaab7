"""Building a `func.func @main` of nn ops one op at a time (tests, examples, benchmarks):

    f = FunctionBuilder((1, 4, 8, 8))                 # one f32 argument per shape
    (x,) = f.args
    w = f.const((4, 4, 3, 3), 0.05)                   # nn.constant filled with 0.05
    y = f(nn.ReluOp(f(nn.Conv2dOp(x, w, padding=(1, 1)))))
    module = f.module(y)                              # builtin.module { func.func @main }

Constants get distinct resource keys (w1, w2, ...), so a module never holds two weights
of the same name.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from xdsl.dialects.builtin import ModuleOp, TensorType, f32
from xdsl.dialects.func import FuncOp, ReturnOp
from xdsl.ir import Block, Operation, Region, SSAValue

from .constant import ConstantOp


class FunctionBuilder:
    """`@main` under construction: its block, arguments and constants."""

    def __init__(self, *shapes: Sequence[int], seed: int = 0):
        self.block = Block(arg_types=[TensorType(f32, s) for s in shapes])
        self.rng = np.random.default_rng(seed)
        self.keys = 0

    @property
    def args(self) -> tuple[SSAValue, ...]:
        return tuple(self.block.args)

    def __call__(self, op: Operation) -> SSAValue:
        """Append `op`; its (first) result."""
        self.block.add_op(op)
        return op.results[0]

    def array(self, array: np.ndarray) -> SSAValue:
        """An nn.constant holding `array`."""
        self.keys += 1
        return self(ConstantOp.from_array(array, f"w{self.keys}"))

    def const(self, shape: Sequence[int], value: float = 0.5) -> SSAValue:
        """An f32 nn.constant of `shape` filled with `value`."""
        return self.array(np.full(shape, value, np.float32))

    def uniform(self, shape: Sequence[int], low: float = -1.0, high: float = 1.0) -> SSAValue:
        """An f32 nn.constant of `shape`, uniform in [low, high) (the builder's seed)."""
        return self.array(self.rng.uniform(low, high, shape).astype(np.float32))

    def module(self, *outputs: SSAValue) -> ModuleOp:
        """Return `outputs` from @main and wrap it in a module."""
        self.block.add_op(ReturnOp(*outputs))
        signature = ([a.type for a in self.block.args], [o.type for o in outputs])
        return ModuleOp([FuncOp("main", signature, Region(self.block))])
