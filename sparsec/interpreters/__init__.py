"""Running an nn module on numpy arrays with the reference semantics.

    outputs = sparsec.interpret(module, x)        # tuple of numpy arrays, one per result

`interpret` checks the inputs against `@main`'s signature before running, and every
op's results against its declared result type while running (so a reference
implementation that disagrees with a shape rule is caught where it happens). The
interpreter is the oracle for the compiler: it imports nothing from sparsec's lowering,
runtime or frontend.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from xdsl.dialects import func
from xdsl.dialects.builtin import ModuleOp, TensorType
from xdsl.interpreter import Interpreter
from xdsl.interpreters.func import FuncFunctions
from xdsl.ir import Attribute, Operation

from sparsec.dialects.nn import OPERATORS, ConstantOp, FusedOp, YieldOp
from sparsec.dialects.resources import numpy_dtype
from sparsec.dialects.sparse import AssembleOp
from sparsec.interpreters.nn import NNFunctions, NNRuntimeError
from sparsec.interpreters.sparse import SparseFunctions
from sparsec.textio import location_of, verify_module

__all__ = ["interpret", "make_interpreter", "NNFunctions", "NNRuntimeError", "SUPPORTED_OPS"]


def interpret(module: ModuleOp, *inputs: Any, entry: str = "main") -> tuple[np.ndarray, ...]:
    """Run `func.func @<entry>` of the module on `inputs` and return its results.

    Inputs are numpy arrays or anything `np.asarray` accepts (CPU torch tensors too).
    Arrays (anything with a dtype) must match the signature's shapes and element types
    exactly; plain Python numbers and lists are converted to the declared dtype. A
    mismatch raises `ValueError` naming the argument. Floating-point overflow and invalid
    operations give inf and nan silently, as in PyTorch. The results never alias the
    inputs or the module's weights.
    """
    function = _entry_function(module, entry)
    verify_module(module)
    _check_supported(module)
    arrays = _check_inputs(function, inputs)
    interpreter = make_interpreter(module)
    try:
        with np.errstate(all="ignore"):
            results = interpreter.call_op(function, arrays)
    except NNRuntimeError as e:
        # xDSL notes a printout of the whole module on the error; the message already
        # names the op and its location, and a model's printout is megabytes.
        raise NNRuntimeError(str(e)) from None
    return tuple(_owned(np.asarray(r)) for r in results)


def make_interpreter(module: ModuleOp) -> Interpreter:
    """An xDSL Interpreter for sparsec modules (func + nn), checking every result."""
    interpreter = Interpreter(module, listeners=(_ResultTypeChecker(),))
    interpreter.register_implementations(FuncFunctions())
    interpreter.register_implementations(NNFunctions())
    interpreter.register_implementations(SparseFunctions())
    return interpreter


SUPPORTED_OPS = (*OPERATORS, ConstantOp, FusedOp, YieldOp, AssembleOp, func.FuncOp,
                 func.ReturnOp, func.CallOp)
"""Every op `interpret` runs (besides the module itself)."""


def _check_supported(module: ModuleOp) -> None:
    for op in module.walk():
        if op is not module and not isinstance(op, SUPPORTED_OPS):
            raise ValueError(f"{location_of(op)}: {op.name} has no reference semantics "
                             "(sparsec.interpret runs func and nn ops)")


def _entry_function(module: ModuleOp, entry: str) -> func.FuncOp:
    functions = [op for op in module.ops if isinstance(op, func.FuncOp)]
    for function in functions:
        if function.sym_name.data == entry:
            if not function.body.blocks:
                raise ValueError(f"@{entry} is a declaration without a body")
            return function
    known = ", ".join(f"@{f.sym_name.data}" for f in functions) or "none"
    raise ValueError(f"the module has no func.func @{entry} (functions: {known})")


def _describe(shape: tuple[int, ...], dtype: np.dtype) -> str:
    return f"shape {shape} {dtype}"


def _check_inputs(function: func.FuncOp, inputs: tuple[Any, ...]) -> tuple[np.ndarray, ...]:
    params = function.body.blocks.first.args
    types = function.function_type.inputs.data
    if len(inputs) != len(types):
        signature = ", ".join(_name(p) + f": {t}" for p, t in zip(params, types, strict=True))
        raise ValueError(f"@{function.sym_name.data}({signature}) takes {len(types)} "
                         f"argument(s), got {len(inputs)}")
    return tuple(_check_input(i, _name(p), t, v)
                 for i, (p, t, v) in enumerate(zip(params, types, inputs, strict=True)))


def _name(param) -> str:
    return f"%{param.name_hint}" if param.name_hint else f"%{param.index}"


def _check_input(index: int, name: str, declared: Attribute, value: Any) -> np.ndarray:
    where = f"argument {index} ({name})"
    if not isinstance(declared, TensorType):
        raise ValueError(f"{where}: interpret passes tensors only, the signature says "
                         f"{declared}")
    dtype, shape = numpy_dtype(declared.get_element_type()), tuple(declared.get_shape())
    try:
        # Values with a dtype of their own keep it (and are checked); numbers and lists
        # take the declared one.
        array = np.asarray(value) if hasattr(value, "dtype") else np.asarray(value, dtype)
    except Exception as e:
        raise ValueError(f"{where}: cannot make a numpy array of a "
                         f"{type(value).__name__}: {e}") from None
    if array.dtype != dtype or not _shape_matches(array.shape, shape):
        raise ValueError(f"{where}: expected shape {shape} {dtype}, "
                         f"got {array.shape} {array.dtype}")
    return array


def _shape_matches(actual: tuple[int, ...], declared: tuple[int, ...]) -> bool:
    """A dynamic dim (-1 in xDSL) matches any size."""
    return len(actual) == len(declared) and all(
        d in (-1, a) for a, d in zip(actual, declared, strict=True))


def _owned(array: np.ndarray) -> np.ndarray:
    """A result that is a view (of an input, a weight or another result) or read-only
    (a constant) is copied."""
    if array.base is None and array.flags.writeable:
        return array
    return array.copy()


class _ResultTypeChecker(Interpreter.Listener):
    """Checks every tensor result against its declared type as it is produced."""

    def did_interpret_op(self, op: Operation, results: tuple[Any, ...]) -> None:
        for index, (result, value) in enumerate(zip(op.results, results, strict=True)):
            if not isinstance(result.type, TensorType):
                continue
            dtype = numpy_dtype(result.type.get_element_type())
            shape = tuple(result.type.get_shape())
            if not isinstance(value, np.ndarray):
                got = f"a {type(value).__name__}"
            elif value.dtype != dtype or not _shape_matches(value.shape, shape):
                got = _describe(value.shape, value.dtype)
            else:
                continue
            raise NNRuntimeError(
                f"{location_of(op)}: {op.name}: result {index} is declared "
                f"{_describe(shape, dtype)} but the reference semantics computed {got} "
                "(a bug in sparsec.interpreters.nn or in the op's shape rule)")
