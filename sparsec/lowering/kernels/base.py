"""What a kernel emitter works with.

A kernel is one private function: it gets its buffers as flat 1-D memrefs (inputs, the
output, packed constants) and, if it can be split across threads, a tile range
[lo, hi). Emitters ask for what they need and the arguments appear in the order asked:

    def emit_relu(k: Kernel, op: nn.ReluOp) -> None:
        x, y = k.buffer(op.input), k.buffer(op.result)
        ...                                        # loops built with k.E (an Emitter)

`k.constant(value)` gives a value's numpy array when it is a compile-time constant,
`k.weight(array)` a buffer holding data the emitter prepared (packed weights, tables).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from math import prod

import numpy as np
from xdsl.dialects import func
from xdsl.dialects.builtin import (
    ArrayAttr,
    DictionaryAttr,
    MemRefType,
    StringAttr,
    TensorType,
    UnitAttr,
)
from xdsl.ir import Attribute, Block, Operation, Region, SSAValue
from xdsl.utils.exceptions import DiagnosticException

from sparsec.dialects.resources import element_type_of

from ..emitter import INDEX, Emitter
from ..target import Target


class LoweringError(DiagnosticException):
    """An op or a configuration the code generator does not handle (named, located)."""


def shape(value: SSAValue) -> tuple[int, ...]:
    type = value.type
    assert isinstance(type, TensorType), type
    return tuple(type.get_shape())


def flat_type(value_type: TensorType) -> MemRefType:
    return MemRefType(value_type.get_element_type(), [max(1, prod(value_type.get_shape()))])


@dataclass(frozen=True)
class ValueRef:
    """A run-time buffer: an input, an intermediate or an output of @main."""

    value: SSAValue


@dataclass(frozen=True)
class WeightRef:
    """A slice of the weights buffer."""

    offset: int
    count: int
    dtype: np.dtype


@dataclass(frozen=True)
class OutputRef:
    """Output `index` of @main (copy kernels write it directly)."""

    index: int


@dataclass(frozen=True)
class TileRange:
    """The [lo, hi) tile range of a parallel kernel."""


Ref = ValueRef | WeightRef | OutputRef | TileRange


class Weights:
    """The weights buffer under construction: arrays appended at 64-byte alignment,
    deduplicated by key."""

    def __init__(self):
        self.chunks: list[np.ndarray] = []
        self.size = 0
        self.by_key: dict[object, WeightRef] = {}

    def add(self, array: np.ndarray, key: object = None) -> WeightRef:
        if key is not None and key in self.by_key:
            return self.by_key[key]
        array = np.ascontiguousarray(array)
        if array.dtype == np.bool_:
            array = array.astype(np.uint8)
        offset = -(-self.size // 64) * 64
        if offset > self.size:
            self.chunks.append(np.zeros(offset - self.size, np.uint8))
        raw = array.reshape(-1).view(np.uint8)
        self.chunks.append(raw)
        self.size = offset + raw.size
        ref = WeightRef(offset, max(1, array.size), array.dtype)
        if key is not None:
            self.by_key[key] = ref
        return ref

    def blob(self) -> np.ndarray:
        if not self.chunks:
            return np.zeros(0, np.uint8)
        return np.concatenate(self.chunks)


class Library:
    """Functions several kernels call (GEMM micro-kernels), built once per module."""

    def __init__(self):
        self.functions: dict[object, func.FuncOp] = {}

    def function(self, key: object, name: str, build: Callable[[], func.FuncOp]) -> str:
        if key not in self.functions:
            function = build()
            function.sym_name = StringAttr(name)
            self.functions[key] = function
        return self.functions[key].sym_name.data


class Kernel:
    """One kernel function under construction."""

    def __init__(self, name: str, ops: list[Operation], target: Target, weights: Weights,
                 constants: dict[SSAValue, np.ndarray], resolve: Callable[[SSAValue], SSAValue],
                 threads: int, library: Library | None = None, views: dict | None = None,
                 copies: dict | None = None, strided: dict | None = None,
                 also: dict | None = None, split: dict | None = None,
                 columns: dict | None = None):
        self.name = name
        self.views = views or {}
        """value -> View: folded data movement, read through its index map"""
        self.copies = copies or {}
        """value -> View: data movement materialised by a copy from a folded view"""
        self.strided = strided or {}
        """value -> strides: stored at these strides in the buffer it shares with its
        transpose (`views.transpose_in_place`)"""
        self.also = also or {}
        """value -> (its transpose, strides): stored there too, at these strides
        (`views.transpose_in_place`)"""
        self.split = split or {}
        """linear result -> `views.SplitColumns`: stored in runs into the buffer of its
        reorganised value (`views.linear_moves_in_place`)"""
        self.columns = columns or {}
        """linear result -> [`views.ColumnStore`]: column ranges stored, after element-wise
        ops, into other values' buffers too (`views.linear_columns_in_place`)"""
        self.library = library if library is not None else Library()
        self.ops = ops
        self.target = target
        self.lanes = target.vector_lanes
        self.threads = threads
        self.weights = weights
        self.constants = constants
        self.resolve = resolve
        self.block = Block()
        self.E = Emitter(self.block)
        self.refs: list[Ref] = []
        self._args: dict[Ref, SSAValue] = {}
        self.tiles: int | None = None
        self.function_name = name
        """The function @main calls: this kernel's, or an identical earlier one's."""

    # --- arguments ---

    def _arg(self, ref: Ref, type: Attribute) -> SSAValue:
        if ref not in self._args:
            self.refs.append(ref)
            self._args[ref] = self.block.insert_arg(type, len(self.block.args))
        return self._args[ref]

    def buffer(self, value: SSAValue) -> SSAValue:
        """The run-time buffer of an nn value, as memref<numel x T>."""
        value = self.resolve(value)
        return self._arg(ValueRef(value), flat_type(value.type))  # type: ignore[arg-type]

    def output(self, index: int, type: TensorType) -> SSAValue:
        """Output `index` of @main, as memref<numel x T>."""
        return self._arg(OutputRef(index), flat_type(type))

    def weight(self, array: np.ndarray, key: object = None) -> SSAValue:
        """A buffer holding `array` (prepared at compile time), as memref<size x T>."""
        ref = self.weights.add(array, key)
        memref = MemRefType(element_type_of(ref.dtype if ref.dtype != np.uint8 else
                                            np.dtype(np.int8)), [ref.count])
        return self._arg(ref, memref)

    def constant(self, value: SSAValue) -> np.ndarray | None:
        return self.constants.get(self.resolve(value))

    def tile_range(self, tiles: int) -> tuple[SSAValue, SSAValue]:
        """Arguments lo, hi: this call computes tiles [lo, hi) of `tiles`."""
        self.tiles = tiles
        lo = self._arg(TileRange(), INDEX)
        hi = self.block.insert_arg(INDEX, len(self.block.args))
        return lo, hi

    def fail(self, message: str) -> LoweringError:
        from sparsec.textio import location_of

        if not self.ops:
            return LoweringError(f"{self.name}: {message}")
        op = self.ops[0]
        return LoweringError(f"{location_of(op)}: {op.name}: {message}")

    # --- the function ---

    def function(self) -> func.FuncOp:
        """The kernel's function; out of line (@main calls each kernel once per run, and
        inlining hundreds of them made LLVM's work on @main quadratic)."""
        from ..func_to_llvm import NO_INLINE

        self.block.add_op(func.ReturnOp())
        function = private_function(self.name, self.block)
        function.attributes[NO_INLINE] = UnitAttr()
        return function


def private_function(name: str, block: Block) -> func.FuncOp:
    """A private function of `block` (which ends in func.return); its memref arguments
    are marked noalias (kernels never get overlapping buffers)."""
    inputs = [a.type for a in block.args]
    function = func.FuncOp(name, (inputs, []), Region(block), "private")
    noalias = DictionaryAttr({"llvm.noalias": UnitAttr()})
    plain = DictionaryAttr({})
    function.properties["arg_attrs"] = ArrayAttr(
        [noalias if isinstance(t, MemRefType) else plain for t in inputs])
    return function


@dataclass
class KernelPlan:
    """What one kernel computes: a main op, the element-wise ops fused after it
    (`epilogue`, applied in registers before the store) and those fused before it
    (`prologue`, applied to its input as it is read; a chain ending in the op's input)."""

    op: Operation
    epilogue: list[Operation] = field(default_factory=list)
    prologue: list[Operation] = field(default_factory=list)
    views: list[Operation] = field(default_factory=list)
    """Data movement folded into this kernel's index maps (`views.fold_views`)."""
    stores: list[Operation] = field(default_factory=list)
    """Concats and transposes this kernel's store realises: it writes into its slice of a
    concat's buffer, at a transpose's strides into its buffer, or (a linear layer) in
    runs into the buffer of its reshaped and transposed result (`views`)."""
    also: list[Operation] = field(default_factory=list)
    """Transposes of `result` the kernel stores besides `result` itself, which has other
    readers (`views.transpose_in_place`)."""
    plane_epilogue: Operation | None = None
    """An op of `result` the kernel also computes, plane by plane once they are stored (a
    convolution's pooling, or squeeze-excite's broadcast x * s: `pooling.per_plane`)."""
    banded: bool = False
    """`result` is never stored: its only reader, the plane epilogue (a window pooling),
    reads it from a ring of rows the kernel keeps (`gemm.pool_ring`)."""
    columns: list[KernelPlan] = field(default_factory=list)
    """Element-wise kernels of column ranges of `result` (a linear layer's) that this
    kernel computes in registers and stores too (`views.linear_columns_in_place`)."""

    @property
    def ops(self) -> list[Operation]:
        planes = [self.plane_epilogue] if self.plane_epilogue is not None else []
        return [*self.views, *self.prologue, self.op, *self.epilogue, *planes, *self.stores,
                *self.also, *(op for plan in self.columns for op in plan.ops)]

    @property
    def result(self) -> SSAValue:
        return (self.epilogue[-1] if self.epilogue else self.op).results[0]

    @property
    def written(self) -> list[SSAValue]:
        """Every value the kernel stores: `result` (unless `banded`), its plane epilogue's,
        the transposes, the column ranges' (`columns`)."""
        planes = [self.plane_epilogue] if self.plane_epilogue is not None else []
        return [*([] if self.banded else [self.result]), *(op.results[0] for op in planes),
                *(op.results[0] for op in self.also), *(plan.result for plan in self.columns)]

    @property
    def label(self) -> str:
        return "_".join(op.name.removeprefix("nn.") for op in self.ops[:3])


@dataclass
class CopyPlan:
    """Copy a value into output `index` of @main (an output that is an input, a constant,
    or a value already returned elsewhere)."""

    value: SSAValue
    index: int
    ops: list[Operation] = field(default_factory=list)
    label: str = "copy"

    @property
    def result(self) -> SSAValue:
        return self.value
