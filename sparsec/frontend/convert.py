"""torch dialect -> nn dialect: the walk over torch-mlir's IR.

One pass over `func.func @main`, in order. Each torch value becomes one of:
- an xDSL `SSAValue` (a tensor computed at run time, or a materialised constant);
- a `Const` (a tensor known at import time: weights, and anything computed from weights
  and scalars alone, which is folded by running the aten op in PyTorch itself);
- a Python value (int, float, bool, None, str, list) for the scalar and list operands.

Aten ops on run-time tensors go through `torch_to_nn.CONVERSIONS` (one function per op).
Constants become `nn.constant` at their first use, so folded intermediates and unused
weights never reach the module. Every op that cannot be converted is recorded and the
walk goes on; at the end, one `UnsupportedOpsError` lists them all.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
from xdsl.dialects import func
from xdsl.dialects.builtin import FileLineColLoc, IntAttr, ModuleOp, StringAttr, TensorType
from xdsl.ir import Block, Operation, Region, SSAValue
from xdsl.utils.exceptions import VerifyException

from sparsec.dialects import nn
from sparsec.dialects.resources import element_type_of

from . import torch_ir
from .errors import FrontendError, UnsupportedOp, UnsupportedOpsError
from .folding import FOLD_DENYLIST, fold
from .torch_ir import TorchType
from .weights import Resources


class Unsupported(Exception):
    """Raised by a conversion: this use of the op has no nn equivalent (the message says
    why)."""


@dataclass(eq=False)
class Const:
    """A tensor known at import time. `key` is the resource it was read from (literals
    with one key are one weight); a folded tensor has none, only a `name` for its
    resource."""

    array: np.ndarray
    key: str | None = None
    name: str | None = None
    ssa: SSAValue | None = None


@dataclass(frozen=True)
class Poison:
    """The result of an op that failed to convert: its users are skipped silently."""


POISON = Poison()


@dataclass(frozen=True)
class Missing:
    """A result a conversion does not compute (e.g. max.dim's indices): using it is an
    unsupported use of the op that made it."""

    reason: str


class Builder:
    """What a conversion function sees: emit nn ops, make constants, ask about values.

    `results` are the torch types of the op being converted (`result` is the first)."""

    def __init__(self, block: Block):
        self.block = block
        self.known: dict[SSAValue, np.ndarray] = {}
        self.key_of: dict[SSAValue, str] = {}
        self.by_key: dict[str, SSAValue] = {}
        self.keys: set[str] = set()
        self.results: list[TorchType] = []
        self.location = None

    @property
    def result(self) -> TorchType:
        return self.results[0]

    def emit(self, op: Operation) -> SSAValue:
        if self.location is not None:
            op.location = self.location
        self.block.add_op(op)
        return op.results[0]

    def constant(self, array, like: SSAValue | np.dtype | None = None,
                 name: str = "constant") -> SSAValue:
        """An nn.constant holding `array`, with the element type of `like` (a value or a
        dtype) when given."""
        array = np.asarray(array)
        if like is not None:
            array = array.astype(self.dtype(like) if isinstance(like, SSAValue) else like)
        return self.materialize(Const(array), name)

    def materialize(self, const: Const, name: str = "constant") -> SSAValue:
        if const.ssa is not None:
            return const.ssa
        if const.key is not None and const.key in self.by_key:
            const.ssa = self.by_key[const.key]
            return const.ssa
        try:
            element_type_of(const.array.dtype)
        except ValueError as e:
            raise Unsupported(str(e)) from None
        key = self.unique_key(const.key or const.name or name)
        const.ssa = self.emit(nn.ConstantOp.from_array(const.array, key))
        self.known[const.ssa] = const.array
        self.key_of[const.ssa] = key
        if const.key is not None:
            self.by_key[const.key] = const.ssa
        return const.ssa

    def unique_key(self, base: str) -> str:
        """A resource key no other constant has, spelled as an MLIR bare identifier
        (`0.weight` of an nn.Sequential becomes `_0.weight`)."""
        base = re.sub(r"[^A-Za-z0-9_$.]", "_", base)
        if not re.match(r"[A-Za-z_]", base):
            base = "_" + base
        key, n = base, 0
        while key in self.keys:
            key, n = f"{base}_{n}", n + 1
        self.keys.add(key)
        return key

    def derived(self, value: SSAValue, array: np.ndarray, what: str) -> SSAValue:
        """A constant computed from the constant `value` (named after it)."""
        return self.constant(array, name=f"{self.key_of.get(value, 'constant')}.{what}")

    def value_of(self, value: SSAValue) -> np.ndarray | None:
        """The array of a constant, None for a value computed at run time."""
        return self.known.get(value)

    @staticmethod
    def shape(value: SSAValue) -> tuple[int, ...]:
        return tuple(value.type.get_shape())

    @staticmethod
    def dtype(value: SSAValue) -> np.dtype:
        from sparsec.dialects.resources import numpy_dtype

        return numpy_dtype(value.type.get_element_type())

    def cast(self, value: SSAValue, dtype: np.dtype) -> SSAValue:
        """`value` with element type `dtype`: only constants can change type (nn has no
        cast operator)."""
        if self.dtype(value) == dtype:
            return value
        array = self.value_of(value)
        if array is None:
            raise Unsupported(f"needs a conversion of a run-time {value.type} to {dtype} "
                              "(nn has no cast operator)")
        return self.constant(array.astype(dtype))


class TorchToNN:
    """Converts one torch-mlir `func.func @main` into an nn module."""

    def __init__(self, resources: Resources, filename: str | None = None):
        self.resources = resources
        self.filename = filename
        self.env: dict = {}
        self.failures: list[UnsupportedOp] = []

    def convert(self, torch_module) -> ModuleOp:
        torch_func = _main_function(torch_module)
        torch_block = torch_func.regions[0].blocks[0]
        arg_types = [self.input_type(i, arg) for i, arg in enumerate(torch_block.arguments)]
        block = Block(arg_types=arg_types)
        self.builder = Builder(block)
        for arg, value in zip(torch_block.arguments, block.args, strict=True):
            self.env[arg] = value
        outputs = None
        for op in torch_block.operations:
            if op.operation.name == "func.return":
                outputs = self.outputs(op)
            else:
                self.convert_op(op)
        if self.failures:
            raise UnsupportedOpsError(self.failures)
        block.add_op(func.ReturnOp(*outputs))
        _erase_dead_ops(block)
        main = func.FuncOp("main", (arg_types, [v.type for v in outputs]), Region(block))
        module = ModuleOp([main])
        module.verify()
        return module

    def input_type(self, index: int, arg) -> TensorType:
        type = torch_ir.type_of(arg)
        if not type.is_static_tensor:
            raise FrontendError(f"error: input {index} of @main has type {type}: sparsec needs "
                                "tensors of static shape (give --input-shape)")
        return _tensor_type(type)

    def outputs(self, op) -> list[SSAValue]:
        values = []
        for index, operand in enumerate(op.operands):
            value = self.env.get(operand, POISON)
            if isinstance(value, Const):
                value = self.builder.materialize(value, "output")
            if not isinstance(value, SSAValue | Poison):
                self.fail(op, "func.return", f"output {index} is not a tensor ({value!r})")
            values.append(value)
        return values

    # --- one op -------------------------------------------------------------------------

    def convert_op(self, op) -> None:
        name = torch_ir.op_name(op)
        inputs = [self.env.get(v, POISON) for v in op.operands]
        results = op.results
        if any(_poisoned(v) for v in inputs):
            # Skipped, but an op with no conversion at all is still worth listing.
            if not _has_conversion(name):
                self.fail(op, name, "no conversion to nn")
            self.bind(results, [POISON] * len(results))
            return
        missing = next((v for v in inputs if isinstance(v, Missing)), None)
        if missing is not None:
            self.fail(op, name, missing.reason)
            self.bind(results, [POISON] * len(results))
            return
        self.builder.results = [torch_ir.type_of(r) for r in results]
        self.builder.location = self.xdsl_location(op)
        try:
            _check_in_place(op, name)
            values = self.convert_one(op, name, inputs)
            self.check(name, values)
        except Unsupported as e:
            self.fail(op, name, str(e))
            values = [POISON] * len(results)
        except VerifyException as e:  # an nn builder refused what a conversion made
            self.fail(op, name, f"internal error: {e}")
            values = [POISON] * len(results)
        self.bind(results, values)

    def convert_one(self, op, name: str, inputs: list) -> list:
        from .torch_to_nn import CONVERSIONS, STRUCTURAL

        structural = STRUCTURAL.get(name)
        if structural is not None:
            return _as_list(structural(self, op, inputs), len(op.results))
        conversion = CONVERSIONS.get(torch_ir.short_name(name))
        if _foldable(name, inputs):
            return self.fold(name, inputs)
        if conversion is None:
            raise Unsupported("no conversion to nn")
        args = [self.argument(v) for v in inputs]
        return _as_list(conversion(self.builder, *args), len(op.results))

    def fold(self, name: str, inputs: list) -> list:
        try:
            values = fold(name, [_unwrap_const(v) for v in inputs])
        except Exception as e:  # whatever torch raises for this op and these arguments
            raise Unsupported(f"could not be evaluated on constants: {e}") from None
        values = _as_list(values, len(self.builder.results))
        source = next((v.key or v.name for v in inputs if isinstance(v, Const)), None)
        label = None if source is None else f"{source}.{torch_ir.short_name(name).split('.')[1]}"
        out = []
        for value, type in zip(values, self.builder.results, strict=True):
            if type.is_tensor and type.dtype is not None and isinstance(value, np.ndarray):
                value = value.astype(type.dtype, copy=False)
            out.append(_wrap_arrays(value, label))
        return out

    def argument(self, value):
        """Operands as conversions see them: constants materialised as SSA values."""
        if isinstance(value, Const):
            return self.builder.materialize(value)
        if isinstance(value, list):
            return [self.argument(v) for v in value]
        return value

    def check(self, name: str, values: list) -> None:
        """Every tensor result must have the type torch-mlir gave it: a mismatch is a
        sparsec bug, caught here rather than as wrong numbers later."""
        for value, type in zip(values, self.builder.results, strict=True):
            if isinstance(value, Const) and value.array.shape != type.shape:
                raise Unsupported(f"internal error: the conversion made a constant of shape "
                                  f"{value.array.shape}, torch-mlir expects {type}")
            if not isinstance(value, SSAValue) or not type.is_static_tensor:
                continue
            if value.type != _tensor_type(type):
                raise Unsupported(f"internal error: the conversion produced {value.type}, "
                                  f"torch-mlir expects {type}")

    def bind(self, results, values) -> None:
        for result, value in zip(results, values, strict=True):
            self.env[result] = value

    def fail(self, op, name: str, reason: str) -> None:
        where = torch_ir.describe_location(op, self.filename)
        self.failures.append(UnsupportedOp(name, where, reason))

    def xdsl_location(self, op):
        loc = torch_ir.location(op, self.filename)
        if loc is None:
            return None
        return FileLineColLoc(StringAttr(loc[0]), IntAttr(loc[1]), IntAttr(loc[2]))


def convert_module(torch_module, resources: Resources, filename: str | None = None) -> ModuleOp:
    """A torch-mlir module (func.func @main in the torch dialect) -> an nn module."""
    return TorchToNN(resources, filename).convert(torch_module)


# --- helpers ----------------------------------------------------------------------------


def _main_function(torch_module):
    functions = [op for op in torch_module.body.operations
                 if op.operation.name == "func.func"]
    for op in functions:
        if op.operation.attributes["sym_name"].value == "main":
            return op
    if len(functions) == 1:
        return functions[0]
    raise FrontendError("error: the torch-dialect module has no func.func @main")


def _tensor_type(type: TorchType) -> TensorType:
    try:
        return TensorType(element_type_of(type.dtype), type.shape)
    except (ValueError, TypeError):
        raise Unsupported(f"unsupported tensor type {type}") from None


def _has_conversion(name: str) -> bool:
    from .torch_to_nn import CONVERSIONS, STRUCTURAL

    return name in STRUCTURAL or torch_ir.short_name(name) in CONVERSIONS


def _poisoned(value) -> bool:
    if isinstance(value, Poison):
        return True
    return isinstance(value, list) and any(_poisoned(v) for v in value)


def _runtime(value) -> bool:
    if isinstance(value, SSAValue):
        return True
    return isinstance(value, list) and any(_runtime(v) for v in value)


def _foldable(name: str, inputs: list) -> bool:
    short = torch_ir.short_name(name)
    if not short.startswith(("aten.", "prims.")) or short in FOLD_DENYLIST:
        return False
    return not any(_runtime(v) for v in inputs)


def _wrap_arrays(value, name: str | None):
    """Folded results: arrays (also inside lists) become `Const`s."""
    if isinstance(value, np.ndarray):
        return Const(value, name=name)
    if isinstance(value, list):
        return [_wrap_arrays(v, name) for v in value]
    return value


def _unwrap_const(value):
    if isinstance(value, Const):
        return value.array
    if isinstance(value, list):
        return [_unwrap_const(v) for v in value]
    return value


def _as_list(values, count: int) -> list:
    if count == 1:
        return [values]
    if not isinstance(values, tuple | list) or len(values) != count:
        raise Unsupported(f"internal error: expected {count} results, got {values!r}")
    return list(values)


def _check_in_place(op, name: str) -> None:
    """In-place ops (relu_, add_.Tensor) are converted as their value-semantics twins,
    which is right only if nothing reads the overwritten operand afterwards."""
    if not torch_ir.short_name(name).split(".")[1].endswith("_") or not op.operands:
        return
    for use in op.operands[0].uses:
        user = use.owner
        if user != op.operation and op.operation.is_before_in_block(user):
            raise Unsupported("its operand is read again after being updated in place")


def _erase_dead_ops(block: Block) -> None:
    """Drop ops whose results nobody uses (all nn ops are pure): unused outputs of
    multi-result torch ops, constants materialised for them."""
    for op in reversed(list(block.ops)):
        if op.results and all(not r.uses for r in op.results):
            op.detach()
            op.erase()
