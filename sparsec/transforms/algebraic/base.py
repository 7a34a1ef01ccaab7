"""What every algebraic rule shares: the rule base class and the small matchers rules read.

A rule is an ordinary xDSL `RewritePattern` whose `match_and_rewrite` is decorated with
`@op_type_rewrite_pattern`, starts with guard clauses and ends in exactly one
`rewriter.replace(op, new_ops, [value])`. That one call is what lets the greedy driver
(`greedy.py`) price a rewrite before doing it: it runs the rule against a rewriter that
records the replacement instead of performing it.
"""

from __future__ import annotations

import re
from typing import ClassVar, TypeVar

import numpy as np
from xdsl.dialects.builtin import TensorType
from xdsl.ir import Operation, OpResult, SSAValue
from xdsl.pattern_rewriter import RewritePattern
from xdsl.traits import is_side_effect_free

from sparsec.dialects import nn
from sparsec.dialects.nn.constant import INLINE_LIMIT
from sparsec.dialects.resources import ArrayResourceAttr, numpy_dtype
from sparsec.textio import unique_key


class AlgebraicRule(RewritePattern):
    """One algebraic identity, stated in the first line of the subclass's docstring.

    `EXACT` rules give results equal to the original's for every input, as floating-point
    values element by element (what `np.array_equal(..., equal_nan=True)` checks: -0 and
    +0 compare equal, NaN payloads are not compared). The others change rounding (or,
    for a few, overflow) and only run under `algebraic{reassociate=true}`.
    """

    EXACT: ClassVar[bool]

    @classmethod
    def identity(cls) -> str:
        return (cls.__doc__ or "").strip().splitlines()[0]


# --- reading values ---------------------------------------------------------------------


OpT = TypeVar("OpT", bound=Operation)


def defining(value: SSAValue, kind: type[OpT]) -> OpT | None:
    """The op of type `kind` that defines `value`, if that is what defines it."""
    if isinstance(value, OpResult) and isinstance(value.op, kind):
        return value.op
    return None


def constant_of(value: SSAValue) -> np.ndarray | None:
    constant = defining(value, nn.ConstantOp)
    return None if constant is None else constant.array


def splat_of(value: SSAValue) -> float | None:
    """The single value every element of a constant holds (None if not a constant, empty,
    or not all equal)."""
    array = constant_of(value)
    if array is None or array.size == 0 or array.dtype.kind != "f":
        return None
    first = array.reshape(-1)[0]
    if not np.all(array == first):
        return None
    return float(first)


def shape(value: SSAValue) -> tuple[int, ...]:
    assert isinstance(value.type, TensorType)
    return tuple(value.type.get_shape())


def dtype(value: SSAValue) -> np.dtype:
    assert isinstance(value.type, TensorType)
    return numpy_dtype(value.type.get_element_type())


def is_float(value: SSAValue) -> bool:
    return dtype(value).kind == "f"


def broadcasts_to(target: SSAValue, *values: SSAValue) -> bool:
    """Do `values` broadcast together to exactly `target`'s shape? Rules check this
    before building ops that regroup them (every pair then broadcasts too)."""
    try:
        return np.broadcast_shapes(*(shape(v) for v in values)) == shape(target)
    except ValueError:
        return False


def commuted(op: Operation) -> tuple[tuple[SSAValue, SSAValue], ...]:
    """Both operand orders of a commutative binary op: rules match every commutative
    variant of their pattern this way (DNNFusion's A⊙B -> B⊙A, which saves nothing by
    itself, is never a rewrite of its own)."""
    lhs, rhs = op.operands
    return ((lhs, rhs), (rhs, lhs))


def same_value(a: SSAValue, b: SSAValue) -> bool:
    """a and b are the same value, or results of two side-effect-free ops of the same kind
    on the same operands with the same properties (one step of CSE). DNNFusion's Table 4
    writes `ReduceSum(B)` or `A+B` twice; this is how such duplicates match."""
    if a is b:
        return True
    if not (isinstance(a, OpResult) and isinstance(b, OpResult)):
        return False
    x, y = a.op, b.op
    return (x.name == y.name and a.index == b.index and not x.regions and not y.regions
            and is_side_effect_free(x) and tuple(x.operands) == tuple(y.operands)
            and x.properties == y.properties
            and [r.type for r in x.results] == [r.type for r in y.results])


# Ops whose every result is >= 0 or NaN, whatever their input.
_NON_NEGATIVE_OPS = (nn.ReluOp, nn.AbsOp, nn.ExpOp, nn.SqrtOp, nn.SigmoidOp)


def non_negative(value: SSAValue) -> bool:
    """A cheap proof that every element of `value` is >= 0 or NaN (never < 0)."""
    if (array := constant_of(value)) is not None:
        return array.dtype.kind == "f" and not np.any(array < 0)
    if isinstance(value, OpResult) and isinstance(value.op, _NON_NEGATIVE_OPS):
        return True
    if (clamp := defining(value, nn.ClampOp)) is not None:
        return clamp.min.value.data >= 0
    if (square := defining(value, nn.MulOp)) is not None:
        return same_value(square.lhs, square.rhs)
    return False


def single_use(op: Operation) -> bool:
    return len(op.results) == 1 and op.results[0].has_one_use()


# --- making values ----------------------------------------------------------------------


def resource_key_of(value: SSAValue) -> str | None:
    constant = defining(value, nn.ConstantOp)
    if constant is not None and isinstance(constant.value, ArrayResourceAttr):
        return constant.value.resource_handle.data
    return None


def new_constant(anchor: Operation, array: np.ndarray, base: str) -> nn.ConstantOp:
    """A constant holding `array`, named after `base`: inline when small, else a resource
    whose key starts with `base` and is not used by any weight of `anchor`'s module."""
    array = np.array(array, order="C")  # a copy that keeps 0-d arrays 0-d
    if array.size <= INLINE_LIMIT:
        constant = nn.ConstantOp.from_array(array, base)
    else:
        module = anchor.get_toplevel_object()
        keys = {a.resource_handle.data for op in module.walk()
                for a in op.properties.values() if isinstance(a, ArrayResourceAttr)}
        constant = nn.ConstantOp.from_array(array, unique_key(keys, base))
    constant.result.name_hint = re.sub(r"\W", "_", base)
    return constant


def scalar_constant(value: float, like: SSAValue, name: str) -> nn.ConstantOp:
    """A rank-0 constant of `like`'s element type."""
    constant = nn.ConstantOp.from_array(np.array(value, dtype=dtype(like)), name)
    constant.result.name_hint = name
    return constant

