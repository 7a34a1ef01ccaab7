"""`Emitter`: appends scf/memref/arith/math/vector ops to a function body.

Kernels are written as Python that runs at compile time. Shapes are static, so an index
is either a Python `int` (known now) or an SSA value of type `index` (known at run time);
the integer helpers fold what they can and only emit ops for run-time values. Constants
are hoisted to the function's entry block and shared.

    E = Emitter(entry_block)
    with E.loop(0, n, lanes) as i:                  # scf.for, body built in the `with`
        x = E.vload(src, i, lanes)
        E.vstore(E.fmax(x, E.const(0.0, x.type)), dst, i)
    with E.loop(0, k, carried=[zero]) as loop:      # loop-carried values
        loop.next(E.fadd(loop.args[0], ...))
    total = loop.results[0]
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

from xdsl.dialects import arith, llvm, math, memref, scf, vector
from xdsl.dialects.builtin import (
    DenseIntOrFPElementsAttr,
    FloatAttr,
    IndexType,
    IntegerAttr,
    IntegerType,
    MemRefType,
    VectorType,
    f32,
    i1,
    i64,
)
from xdsl.ir import Attribute, Block, Operation, SSAValue

Index = int | SSAValue
INDEX = IndexType()
I32 = IntegerType(32)
F32 = f32


def element_type(type: Attribute) -> Attribute:
    return type.element_type if isinstance(type, VectorType) else type


def lanes_of(type: Attribute) -> int:
    return type.get_shape()[0] if isinstance(type, VectorType) else 1


@dataclass
class Loop:
    """An `scf.for` under construction: its induction variable, carried values, and the
    values to carry to the next iteration (`next`)."""

    op: scf.ForOp | None
    iv: Index
    args: list[SSAValue]
    yielded: list[SSAValue] | None = None
    results: list[SSAValue] = field(default_factory=list)

    def next(self, *values: SSAValue) -> None:
        self.yielded = list(values)


class Emitter:
    def __init__(self, entry: Block):
        self.entry = entry
        self.block = entry
        self._constants: dict[tuple[object, Attribute], SSAValue] = {}

    # --- plumbing ------------------------------------------------------------------------

    def add(self, op: Operation) -> Operation:
        self.block.add_op(op)
        return op

    def value(self, op: Operation) -> SSAValue:
        self.add(op)
        return op.results[0]

    def const(self, value: float | int | bool, type: Attribute) -> SSAValue:
        """A scalar or splat-vector constant, hoisted to the entry block."""
        scalar = element_type(type)
        if isinstance(type, VectorType):
            attr = DenseIntOrFPElementsAttr.from_list(type, [value] * lanes_of(type))
        elif isinstance(scalar, IntegerType | IndexType):
            attr = IntegerAttr(int(value), scalar)
        else:
            attr = FloatAttr(float(value), scalar)
        return self._hoisted((value, type), lambda: arith.ConstantOp(attr, type))

    def index(self, value: Index) -> SSAValue:
        return self.const(value, INDEX) if isinstance(value, int) else value

    def f32(self, value: float) -> SSAValue:
        return self.const(value, f32)

    # --- index arithmetic (folded when static) -------------------------------------------

    def iadd(self, a: Index, b: Index) -> Index:
        if isinstance(a, int) and isinstance(b, int):
            return a + b
        if b == 0:
            return a
        if a == 0:
            return b
        return self.value(arith.AddiOp(self.index(a), self.index(b)))

    def isub(self, a: Index, b: Index) -> Index:
        if isinstance(a, int) and isinstance(b, int):
            return a - b
        if b == 0:
            return a
        return self.value(arith.SubiOp(self.index(a), self.index(b)))

    def imul(self, a: Index, b: Index) -> Index:
        if isinstance(a, int) and isinstance(b, int):
            return a * b
        if a == 0 or b == 0:
            return 0
        if b == 1:
            return a
        if a == 1:
            return b
        return self.value(arith.MuliOp(self.index(a), self.index(b)))

    def idiv(self, a: Index, b: int) -> Index:
        """Floor division by a positive constant."""
        if isinstance(a, int):
            return a // b
        if b == 1:
            return a
        return self.value(arith.FloorDivSIOp(a, self.index(b)))

    def irem(self, a: Index, b: int) -> Index:
        """Remainder of a non-negative index by a positive constant."""
        if isinstance(a, int):
            return a % b
        if b == 1:
            return 0
        return self.value(arith.RemSIOp(a, self.index(b)))

    def imin(self, a: Index, b: Index) -> Index:
        if isinstance(a, int) and isinstance(b, int):
            return min(a, b)
        return self.value(arith.MinSIOp(self.index(a), self.index(b)))

    def imax(self, a: Index, b: Index) -> Index:
        if isinstance(a, int) and isinstance(b, int):
            return max(a, b)
        return self.value(arith.MaxSIOp(self.index(a), self.index(b)))

    def unflatten(self, index: Index, dims: Sequence[int]) -> list[Index]:
        """The indices along `dims` (row-major) of a flat index into them."""
        indices: list[Index] = []
        rest = index
        for size in reversed(dims):
            indices.insert(0, self.irem(rest, size))
            rest = self.idiv(rest, size)
        return indices

    def linear(self, terms: Sequence[tuple[Index, int]], offset: int = 0) -> Index:
        """offset + sum(index * stride)."""
        total: Index = offset
        for index, stride in terms:
            total = self.iadd(total, self.imul(index, stride))
        return total

    def cmpi(self, predicate: str, a: SSAValue | Index, b: SSAValue | Index) -> SSAValue:
        if isinstance(a, int) and isinstance(b, SSAValue):
            a = self.const(a, b.type)
        if isinstance(b, int) and isinstance(a, SSAValue):
            b = self.const(b, a.type)
        a, b = self.index(a), self.index(b)
        if isinstance(a.type, VectorType):
            # xDSL 0.74's arith.cmpi is scalar-only; llvm.icmp compares lane-wise
            flag = llvm.ICmpPredicateFlag(predicate)
            return self.value(llvm.ICmpOp(a, b, IntegerAttr(flag.to_int(), i64)))
        return self.value(arith.CmpiOp(a, b, predicate))

    def and_(self, a: SSAValue, b: SSAValue) -> SSAValue:
        return self.value(arith.AndIOp(a, b))

    def select(self, cond: SSAValue, a: SSAValue, b: SSAValue) -> SSAValue:
        """cond ? a : b; lane-wise for a vector condition (a bitwise blend: xDSL's
        arith.select takes a scalar condition only)."""
        if not isinstance(cond.type, VectorType):
            return self.value(arith.SelectOp(cond, a, b))
        width = element_type(a.type).bitwidth  # type: ignore[attr-defined]
        int_type = VectorType(IntegerType(width), cond.type.get_shape())
        bits = self.value(arith.ExtSIOp(cond, int_type))
        as_int = (lambda v: v) if a.type == int_type else \
            (lambda v: self.value(arith.BitcastOp(v, int_type)))
        keep_a = self.value(arith.AndIOp(as_int(a), bits))
        flipped = self.value(arith.XOrIOp(bits, self.const(-1, int_type)))
        keep_b = self.value(arith.AndIOp(as_int(b), flipped))
        picked = self.value(arith.OrIOp(keep_a, keep_b))
        return picked if a.type == int_type else self.value(arith.BitcastOp(picked, a.type))

    def cast_index(self, value: SSAValue, type: Attribute) -> SSAValue:
        return self.value(arith.IndexCastOp(value, type))

    # --- floating point (scalar or vector) -----------------------------------------------

    def like(self, value: float, other: SSAValue) -> SSAValue:
        return self.const(value, other.type)

    def fadd(self, a: SSAValue, b: SSAValue) -> SSAValue:
        return self.value(arith.AddfOp(a, b))

    def fsub(self, a: SSAValue, b: SSAValue) -> SSAValue:
        return self.value(arith.SubfOp(a, b))

    def fmul(self, a: SSAValue, b: SSAValue) -> SSAValue:
        return self.value(arith.MulfOp(a, b))

    def fdiv(self, a: SSAValue, b: SSAValue) -> SSAValue:
        return self.value(arith.DivfOp(a, b))

    def fmax(self, a: SSAValue, b: SSAValue) -> SSAValue:
        return self.value(arith.MaxnumfOp(a, b))

    def fmin(self, a: SSAValue, b: SSAValue) -> SSAValue:
        return self.value(arith.MinnumfOp(a, b))

    def fneg(self, a: SSAValue) -> SSAValue:
        return self.value(arith.NegfOp(a))

    def fma(self, a: SSAValue, b: SSAValue, c: SSAValue) -> SSAValue:
        """a * b + c, fused."""
        if isinstance(a.type, VectorType):
            return self.value(vector.FMAOp(a, b, c))
        return self.value(math.FmaOp(a, b, c))

    def math(self, op_class: type[Operation], *operands: SSAValue) -> SSAValue:
        return self.value(op_class(*operands))

    # --- memory --------------------------------------------------------------------------

    def load(self, mem: SSAValue, index: Index) -> SSAValue:
        return self.value(memref.LoadOp.get(mem, [self.index(index)]))

    def store(self, value: SSAValue, mem: SSAValue, index: Index) -> None:
        self.add(memref.StoreOp.get(value, mem, [self.index(index)]))

    def vector_type(self, mem: SSAValue, lanes: int) -> VectorType:
        assert isinstance(mem.type, MemRefType)
        return VectorType(mem.type.element_type, [lanes])

    def vload(self, mem: SSAValue, index: Index, lanes: int) -> SSAValue:
        return self.value(vector.LoadOp(mem, [self.index(index)], self.vector_type(mem, lanes)))

    def vstore(self, value: SSAValue, mem: SSAValue, index: Index) -> None:
        self.add(vector.StoreOp(value, mem, [self.index(index)]))

    def vload_masked(self, mem: SSAValue, index: Index, mask: SSAValue,
                     fill: SSAValue) -> SSAValue:
        return self.value(vector.MaskedLoadOp(mem, [self.index(index)], mask, fill))

    def vstore_masked(self, value: SSAValue, mem: SSAValue, index: Index,
                      mask: SSAValue) -> None:
        self.add(vector.MaskedStoreOp.build(operands=[mem, [self.index(index)], mask, value]))

    def vload_where(self, mem: SSAValue, index: Index, lanes: int, mask: SSAValue | None,
                    fill: float | int = 0.0) -> SSAValue:
        """A load of the lanes `mask` sets, `fill` in the others; all lanes with a plain
        load when `mask` is None (masked accesses are slow on AMD Zen)."""
        if mask is None:
            return self.vload(mem, index, lanes)
        return self.vload_masked(mem, index, mask, self.const(fill, self.vector_type(mem, lanes)))

    def vstore_where(self, value: SSAValue, mem: SSAValue, index: Index,
                     mask: SSAValue | None) -> None:
        """A store of the lanes `mask` sets; all lanes with a plain store when None."""
        if mask is None:
            self.vstore(value, mem, index)
        else:
            self.vstore_masked(value, mem, index, mask)

    def splat(self, scalar: SSAValue, lanes: int) -> SSAValue:
        return self.value(vector.BroadcastOp(scalar, VectorType(scalar.type, [lanes])))

    def prefix_mask(self, count: Index, lanes: int) -> SSAValue:
        """vector<lanes x i1> whose first `count` lanes are set (count clamped to [0, lanes])."""
        if isinstance(count, int):
            return self._hoisted(("mask", count, lanes), lambda: arith.ConstantOp(
                DenseIntOrFPElementsAttr.from_list(VectorType(i1, [lanes]),
                                                   [1 if j < count else 0 for j in range(lanes)])))
        return self.value(vector.CreateMaskOp.build(
            operands=[[count]], result_types=[VectorType(i1, [lanes])]))

    def iota(self, lanes: int, type: Attribute = I32) -> SSAValue:
        """The vector [0, 1, ..., lanes - 1]."""
        vtype = VectorType(type, [lanes])
        return self._hoisted(("iota", vtype), lambda: arith.ConstantOp(
            DenseIntOrFPElementsAttr.from_list(vtype, list(range(lanes)))))

    def _hoisted(self, key: object, make: Callable[[], Operation]) -> SSAValue:
        """A constant op built once per function, at the top of the entry block."""
        if key not in self._constants:
            op = make()
            first = self.entry.first_op
            if first is None:
                self.entry.add_op(op)
            else:
                self.entry.insert_op_before(op, first)
            self._constants[key] = op.results[0]
        return self._constants[key]

    def reduce(self, kind: str, vec: SSAValue) -> SSAValue:
        """Horizontal `add` or `maxnumf` of a vector."""
        kinds = {"add": vector.CombiningKindFlag.ADD, "max": vector.CombiningKindFlag.MAXNUMF}
        return self.value(vector.ReductionOp.build(
            operands=[vec, []], result_types=[element_type(vec.type)],
            properties={"kind": vector.CombiningKindAttr(kinds[kind])}))

    def shuffle(self, a: SSAValue, b: SSAValue, mask: Sequence[int]) -> SSAValue:
        """Lanes of a ++ b picked by `mask`."""
        from xdsl.dialects.builtin import DenseArrayBase

        result = VectorType(element_type(a.type), [len(mask)])
        return self.value(vector.ShuffleOp(a, b, DenseArrayBase.from_list(i64, list(mask)),
                                           result_type=result))

    def vload_strided(self, mem: SSAValue, index: Index, lanes: int, stride: int,
                      mask: SSAValue | None, fill: float) -> SSAValue:
        """lanes elements mem[index + j * stride], j < lanes; masked-off lanes read `fill`
        and touch no memory. Strides > 1 load a wide vector and keep every stride-th lane
        (without a mask, all lanes * stride elements must be in bounds)."""
        vtype = self.vector_type(mem, lanes)
        if stride == 1:
            if mask is None:
                return self.vload(mem, index, lanes)
            return self.vload_masked(mem, index, mask, self.const(fill, vtype))
        width = lanes * stride
        wide_type = self.vector_type(mem, width)
        if mask is None:
            wide = self.vload(mem, index, width)
            return self.shuffle(wide, wide, [j * stride for j in range(lanes)])
        off = self.const(False, VectorType(i1, [lanes]))
        wide_mask = self.shuffle(mask, off, [j // stride if j % stride == 0 else lanes
                                             for j in range(width)])
        wide = self.vload_masked(mem, index, wide_mask, self.const(fill, wide_type))
        return self.shuffle(wide, wide, [j * stride for j in range(lanes)])

    def alloca(self, count: int, type: Attribute = F32) -> SSAValue:
        """A stack buffer in the entry block (one per thread that runs the function)."""
        op = memref.AllocaOp.get(type, shape=[count], alignment=64)
        first = self.entry.first_op
        if first is None:
            self.entry.add_op(op)
        else:
            self.entry.insert_op_before(op, first)
        return op.memref

    # --- control flow --------------------------------------------------------------------

    @contextmanager
    def loop(self, lb: Index, ub: Index, step: int = 1,
             carried: Sequence[SSAValue] = ()) -> Iterator[Loop]:
        """`scf.for lb..ub step`; a static single-trip loop is emitted inline."""
        if isinstance(lb, int) and isinstance(ub, int) and ub - lb <= step and not carried:
            if ub > lb:
                yield Loop(None, lb, [])
            else:  # an empty loop: build the body into a block that is thrown away
                saved, self.block = self.block, Block()
                try:
                    yield Loop(None, lb, [])
                finally:
                    self.block = saved
            return
        body = Block(arg_types=[INDEX, *(v.type for v in carried)])
        op = scf.ForOp(self.index(lb), self.index(ub), self.index(step), list(carried), body)
        self.add(op)
        loop = Loop(op, body.args[0], list(body.args[1:]))
        saved, self.block = self.block, body
        try:
            yield loop
        finally:
            self.block = saved
        body.add_op(scf.YieldOp(*(loop.yielded or [])))
        if carried and loop.yielded is None:
            raise ValueError("a loop with carried values must call loop.next(...)")
        loop.results = list(op.results)

    def choose(self, cond: SSAValue, then: Callable[[], Sequence[SSAValue]],
               otherwise: Callable[[], Sequence[SSAValue]]) -> list[SSAValue]:
        """`scf.if cond -> results`: the values `then()` or `otherwise()` build."""
        branches = []
        for build in (then, otherwise):
            block = Block()
            saved, self.block = self.block, block
            try:
                values = list(build())
            finally:
                self.block = saved
            block.add_op(scf.YieldOp(*values))
            branches.append((block, values))
        types = [v.type for v in branches[0][1]]
        op = scf.IfOp(cond, types, [branches[0][0]], [branches[1][0]])
        self.add(op)
        return list(op.results)
