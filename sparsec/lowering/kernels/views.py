"""Reorganize and Shuffle operators folded into index maps (DNNFusion §4.4.2).

A transpose, slice, expand or reshape whose result stays inside its fusion group is not
a kernel: it is a *view* of a buffer, `value[i] = base[offset + sum(i_d * strides[d])]`,
and its consumers read the base through the composed index map:

    transpose(perm):  strides' = strides[perm]
    slice(start, step): offset' = offset + sum(start_d * strides_d), strides' = step * strides
    expand:           strides' = 0 on broadcast dims
    reshape:          strides' from `reshape_strides` (no copy), when the view allows it

Which consumers can read a view: element-wise kernels (their loop nest takes any strides,
`emit_map`), a layer_norm's element-wise prologue when each normalised row of the view is
contiguous (`reductions.rows_contiguous`: attention's output transposed back to (B, S, E)
before the residual add), dense matrix products (`gemm.emit_matmul`: the micro-kernel
reads A with any row and column strides, B is packed into panels through its strides, so
attention's K^T is read in place) and other folded data movement. A data-movement op
whose result leaves the group, or feeds anything else (a convolution, a linear layer, a
reduction), is materialised by one strided copy from the base (`emit_view_copy`): a
whole chain of reshapes, transposes and slices becomes one loop nest. Producer side: a
transpose of a dense matmul's result that keeps the last dim last, or of a layer_norm's
that keeps its normalised dims last, is stored by that kernel at the permuted strides
(`transpose_in_place`); a dense linear layer's result that reshapes and transposes
move in pieces (q | k | v in front of the tokens) is stored by the linear kernel in runs
of a row (`linear_moves_in_place`); a concat's inputs are stored into its slices
(`concat_in_place`). Only kernels planned from `nn.fused` groups fold views.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from math import prod
from typing import TYPE_CHECKING

import numpy as np
from xdsl.dialects.builtin import Float32Type, f32
from xdsl.ir import Operation, SSAValue

from sparsec.dialects import nn

from ..emitter import Emitter, Index
from .base import Kernel, KernelPlan, shape
from .elementwise import PARALLEL_MIN_ELEMENTS, Access, contiguous_strides, emit_map, identity
from .epilogue import is_elementwise
from .reductions import rows_contiguous
from .sparse import is_sparse

if TYPE_CHECKING:
    from collections.abc import Sequence

MOVES = (nn.TransposeOp, nn.SliceOp, nn.ExpandOp, nn.ReshapeOp)


@dataclass(frozen=True)
class View:
    """value[i] = base[offset + sum(i_d * strides[d])]."""

    base: SSAValue
    offset: int
    strides: tuple[int, ...]

    def access(self, k: Kernel, dims: Sequence[int], own: Sequence[int]) -> Access:
        """Read as an operand of shape `own` broadcast to `dims` (numpy rules)."""
        pad = len(dims) - len(own)
        strides = tuple(0 if d < pad or own[d - pad] == 1 else self.strides[d - pad]
                        for d in range(len(dims)))
        return Access(k.buffer(self.base), strides, self.offset)


def reshape_strides(dims: Sequence[int], strides: Sequence[int],
                    new: Sequence[int]) -> tuple[int, ...] | None:
    """Strides that read a view of shape `dims`/`strides` as shape `new` without a copy
    (numpy's attempt_nocopy_reshape), or None. Groups of dims with equal products are
    matched; inside a group the old dims must be contiguous with one another."""
    old = [(d, s) for d, s in zip(dims, strides, strict=True) if d != 1]
    result: list[int] = []
    i = j = 0
    new_live = [n for n in new if n != 1]
    out: list[int] = []
    while i < len(old) and j < len(new_live):
        i_end, j_end = i + 1, j + 1
        old_size, new_size = old[i][0], new_live[j]
        while old_size != new_size:
            if old_size < new_size:
                old_size *= old[i_end][0]
                i_end += 1
            else:
                new_size *= new_live[j_end]
                j_end += 1
        for k in range(i, i_end - 1):
            if old[k][1] != old[k + 1][0] * old[k + 1][1]:
                return None
        stride = old[i_end - 1][1]
        group = []
        for n in reversed(new_live[j:j_end]):
            group.append(stride)
            stride *= n
        out += reversed(group)
        i, j = i_end, j_end
    if i != len(old) or j != len(new_live):
        return None
    live = iter(out)
    for n in new:
        result.append(0 if n == 1 else next(live))
    return tuple(result)


def matrix_strides(dims: Sequence[int], strides: Sequence[int]) -> tuple[int, int] | None:
    """The (row, column) strides that read a view of shape `dims`/`strides` as the
    matrix [prod(dims[:-1]), dims[-1]] (a linear layer's input), or None."""
    columns = dims[-1] if dims else 1
    found = reshape_strides(dims, strides, (prod(dims[:-1]), columns))
    return None if found is None else (found[0], found[1])


def users_of(graph) -> dict[SSAValue, list[Operation]]:
    """Each (resolved) value's reading ops, in program order."""
    users: dict[SSAValue, list[Operation]] = {}
    for op in graph.ops:
        for operand in op.operands:
            users.setdefault(graph.resolve(operand), []).append(op)
    return users


def view_of(op: Operation, source: View) -> View | None:
    """The view of `op`'s result, given the view of its input."""
    if isinstance(op, nn.TransposeOp):
        perm = [int(p) for p in op.permutation.get_values()]
        return View(source.base, source.offset, tuple(source.strides[p] for p in perm))
    if isinstance(op, nn.SliceOp):
        start = [int(v) for v in op.start.get_values()]
        step = [int(v) for v in op.step.get_values()]
        offset = source.offset + sum(a * s for a, s in zip(start, source.strides, strict=True))
        return View(source.base, offset, tuple(t * s for t, s in zip(step, source.strides,
                                                                     strict=True)))
    if isinstance(op, nn.ExpandOp):
        own, dims = shape(op.input), shape(op.result)
        pad = len(dims) - len(own)
        return View(source.base, source.offset, tuple(
            0 if d < pad or own[d - pad] == 1 else source.strides[d - pad]
            for d in range(len(dims))))
    assert isinstance(op, nn.ReshapeOp)
    strides = reshape_strides(shape(op.input), source.strides, shape(op.result))
    return None if strides is None else View(source.base, source.offset, strides)


@dataclass
class Folding:
    """The outcome of `fold_views`: the views of folded values (no buffer of their own),
    the views of materialised data movement whose input is folded (copied from the
    base), the reshapes that became copy kernels, and the concats written in place."""

    views: dict[SSAValue, View]
    copies: dict[SSAValue, View]
    copied_reshapes: set[Operation]
    slices: dict[SSAValue, tuple[SSAValue, int]] = field(default_factory=dict)
    """concat input -> (concat result, byte offset): written in place (`concat_in_place`);
    matmul or layer_norm result -> (its transpose, 0) (`transpose_in_place`)"""
    strided: dict[SSAValue, tuple[int, ...]] = field(default_factory=dict)
    """matmul or layer_norm result -> the strides its elements are stored at in its
    transpose's buffer"""
    also: dict[SSAValue, tuple[SSAValue, tuple[int, ...]]] = field(default_factory=dict)
    """layer_norm result with other readers -> (its transpose, the strides its elements
    are stored at there as well)"""
    split: dict[SSAValue, SplitColumns] = field(default_factory=dict)
    """linear result -> where its elements lie in the buffer of the reorganised value
    that the linear kernel stores straight away (`linear_moves_in_place`)"""
    columns: dict[SSAValue, list[ColumnStore]] = field(default_factory=dict)
    """linear result stored in place -> the element-wise results of its column ranges
    that the linear kernel stores too (`linear_columns_in_place`)"""


@dataclass(frozen=True)
class SplitColumns:
    """Where a matrix Y[M, N] is stored: Y[r, c] at
    r * row + (c // width) * chunk + c % width. Each run of `width` columns of a row is
    contiguous; the runs go `chunk` apart (a linear layer's output split into heads, or
    q | k | v, and the pieces moved in front of the rows)."""

    row: int
    width: int
    chunk: int

    def offset(self, r, c):
        """Y[r, c]'s offset (ints, or numpy arrays of them)."""
        return r * self.row + (c // self.width) * self.chunk + c % self.width

    def column(self, E: Emitter, c: Index) -> Index:
        """Where column c of a row starts, from the row's start, in code."""
        return E.iadd(E.imul(E.idiv(c, self.width), self.chunk), E.irem(c, self.width))


@dataclass(frozen=True)
class ColumnStore:
    """Columns [first, first + count) of rows [first_row, first_row + rows) of a matrix
    Y[M, N] that a kernel stores (a linear layer's result, or a copy's, its dims but the
    last flattened into rows), also stored by that kernel, after the element-wise `ops`
    (a chain whose first op reads `source`, a folded view of those elements), into the
    buffer of the chain's result: Y[r, c] goes to split.offset(r - first_row, c - first)
    there."""

    first: int
    count: int
    split: SplitColumns
    source: SSAValue
    ops: tuple[Operation, ...]
    first_row: int
    rows: int


def fold_views(graph, plans: list[KernelPlan]) -> tuple[list[KernelPlan], Folding]:
    """Fold the data movement of each group into its consumers' index maps; return the
    new kernel plans (execution order) and what was folded.

    A move folds when its result is no output, all its users are in its group and read
    views (element-wise ops of element-wise kernels, other moves), and its view exists.
    Views are composed back to the nearest value with a buffer, so the folded set is
    shrunk until every folded move, and every move copied from a folded one, has one."""
    resolve = graph.resolve
    group = graph.group
    outputs = set(graph.outputs)
    main_of = {op: plan.op for plan in plans for op in plan.ops}
    users = users_of(graph)
    moves = [op for op in graph.ops if isinstance(op, MOVES) and op in group
             and op.results[0] not in graph.constants]
    movable = set(moves)

    def reads_views(user: Operation, producer: Operation) -> bool:
        if group.get(user) != group.get(producer):
            return False
        if isinstance(user, MOVES):
            return user in movable
        main = main_of.get(user)
        if isinstance(user, nn.MatmulOp):  # reads both operands through strides
            return main is user and not is_sparse(user)
        if isinstance(user, nn.LinearOp):  # reads its input matrix through strides
            return main is user and not is_sparse(user) and all(
                resolve(v) is not producer.results[0] for v in user.operands[1:])
        return is_elementwise(user) and main is not None and (
            is_elementwise(main) or isinstance(main, nn.LayerNormOp))

    def readable(op: Operation, view: View) -> bool:
        """A layer_norm prologue reads each row of a view as one contiguous run; a linear
        layer reads its input as a matrix (rows at one stride)."""
        for user in users[op.results[0]]:
            main = main_of.get(user)
            if isinstance(user, nn.LinearOp) and \
                    matrix_strides(shape(op.results[0]), view.strides) is None:
                return False
            if isinstance(main, nn.LayerNormOp) and not rows_contiguous(
                    view.strides, shape(op.results[0]), len(shape(main.weight))):
                return False
        return True

    folded = {op for op in moves if op.results[0] not in outputs and users.get(op.results[0])
              and all(reads_views(u, op) for u in users[op.results[0]])}
    while True:
        views: dict[SSAValue, View | None] = {}
        for op in moves:
            source = resolve(op.input)
            if source.owner in folded:
                base = views[source]
                views[op.results[0]] = None if base is None else view_of(op, base)
            else:
                views[op.results[0]] = view_of(op, View(source, 0,
                                                        contiguous_strides(shape(source))))
        bad = {op for op in folded if views[op.results[0]] is None
               or not readable(op, views[op.results[0]])}
        for op in moves:  # a copy from a folded input needs its view too
            source = resolve(op.input)
            if op not in folded and source.owner in folded and views[op.results[0]] is None:
                bad.add(source.owner)  # type: ignore[arg-type]
        if not bad:
            break
        folded -= bad

    folded_views = {op.results[0]: views[op.results[0]] for op in folded}
    copies: dict[SSAValue, View] = {}
    copied_reshapes: set[Operation] = set()
    extra: list[KernelPlan] = []
    for op in moves:
        if op in folded or resolve(op.input).owner not in folded:
            continue
        view = views[op.results[0]]
        assert view is not None
        copies[op.results[0]] = view
        if isinstance(op, nn.ReshapeOp):
            copied_reshapes.add(op)
            extra.append(KernelPlan(op))

    position = {op: i for i, op in enumerate(graph.ops)}
    kept = [p for p in plans if p.op not in folded] + extra
    kept.sort(key=lambda p: position[p.op])
    for plan in kept:
        plan.views = _folded_inputs(plan.ops, folded, resolve, position)
    return kept, Folding(folded_views, copies, copied_reshapes)  # type: ignore[arg-type]


def _folded_inputs(ops: Sequence[Operation], folded: set[Operation], resolve,
                   position: dict[Operation, int]) -> list[Operation]:
    """The folded moves whose index maps these ops read through, in execution order."""
    found: set[Operation] = set()
    stack = [resolve(v).owner for op in ops for v in op.operands]
    while stack:
        owner = stack.pop()
        if owner in folded and owner not in found:
            found.add(owner)  # type: ignore[arg-type]
            stack += [resolve(v).owner for v in owner.operands]  # type: ignore[union-attr]
    return sorted(found, key=position.__getitem__)


def concat_in_place(graph, plans: list[KernelPlan], folding: Folding) -> list[KernelPlan]:
    """Concats of a group whose inputs are each written by a kernel: those kernels store
    straight into their slice of the concat's buffer (DNNFusion's "data aggregation ->
    loop joint"; a storage decision, so the writers may belong to other groups), and the
    concat is no kernel. Only where a slice is one
    contiguous run (every dim before the axis is 1), the concat's buffer is in the arena
    (no output, also not through reshapes), and no input is an input, a constant, an
    output, a view, or an input of another such concat."""
    resolve = graph.resolve
    outputs = set(graph.outputs)
    writer = {plan.result: plan for plan in plans}
    users = users_of(graph)

    def reaches_output(value: SSAValue) -> bool:
        if value in outputs:
            return True
        return any(isinstance(u, nn.ReshapeOp) and reaches_output(u.result)
                   for u in users.get(value, []))

    removed: set[Operation] = set()
    for op in graph.ops:
        if not isinstance(op, nn.ConcatOp) or op not in graph.group or \
                op.result not in writer or reaches_output(op.result):
            continue
        dims = shape(op.result)
        axis = op.axis.value.data % len(dims)
        inputs = [resolve(v) for v in op.inputs]
        if prod(dims[:axis]) != 1 or len(set(inputs)) != len(inputs) or any(
                v not in writer or v in outputs or v in folding.slices or v in folding.views
                for v in inputs):
            continue
        itemsize = op.result.type.get_element_type().bitwidth // 8  # type: ignore
        position = 0
        for value in inputs:
            folding.slices[value] = (op.result, position * prod(dims[axis + 1:]) * itemsize)
            position += shape(value)[axis]
        last = max((writer[v] for v in inputs), key=plans.index)
        last.stores.append(op)
        removed.add(op)
    return [plan for plan in plans if plan.op not in removed]


def _stores_rows(op: Operation, perm: list[int]) -> bool:
    """Can `op`'s kernel store its result at the strides of a transpose by `perm`: a dense
    matmul when the last dim stays last, a layer_norm when its normalised dims do."""
    if isinstance(op, nn.MatmulOp):
        return not is_sparse(op) and perm[-1] == len(perm) - 1
    if isinstance(op, nn.LayerNormOp):
        inner = len(perm) - len(shape(op.weight))
        return perm[inner:] == list(range(inner, len(perm)))
    return False


def transpose_in_place(graph, plans: list[KernelPlan], folding: Folding) -> list[KernelPlan]:
    """Transposes of a dense matmul's result in the matmul's group that keep the last dim
    last (attention's P . V -> transpose(0, 2, 1, 3)), or of a layer_norm's result that
    keep its normalised dims last (an encoder layer's output back to (S, B, E)): the
    kernel stores each row of its result straight into the transpose's buffer at the
    permuted strides (its vector stores stay contiguous along the row), and the
    transpose is no kernel. The producer-side counterpart of reading a view (DNNFusion
    §4.4.2). Where the result has other readers (an output, a residual), a layer_norm
    stores each row twice: as it is and into the transpose (`KernelPlan.also`). Not
    where the transpose is already folded or in place."""
    resolve = graph.resolve
    writer = {plan.result: plan for plan in plans}
    planned = {plan.op for plan in plans}
    users = users_of(graph)
    outputs = set(graph.outputs)
    removed: set[Operation] = set()
    for op in graph.ops:
        if not isinstance(op, nn.TransposeOp) or op not in planned:
            continue
        perm = [int(p) for p in op.permutation.get_values()]
        source = resolve(op.input)
        plan = writer.get(source)
        if plan is None or not _stores_rows(plan.op, perm) or \
                graph.group.get(plan.op) is None or \
                graph.group.get(plan.op) != graph.group.get(op) or \
                source in folding.slices or source in folding.also or \
                op.results[0] in folding.slices:
            continue
        stored = contiguous_strides(shape(op.results[0]))
        strides = [0] * len(perm)
        for position, dim in enumerate(perm):
            strides[dim] = stored[position]
        if source not in outputs and len(users.get(source, [])) == 1:
            folding.slices[source] = (op.results[0], 0)
            folding.strided[source] = tuple(strides)
            plan.stores.append(op)
        elif isinstance(plan.op, nn.LayerNormOp):
            folding.also[source] = (op.results[0], tuple(strides))
            plan.also.append(op)
        else:
            continue
        removed.add(op)
    return [plan for plan in plans if plan.op not in removed]


SPLIT_ALIGNMENT = 16
"""A run of a split store must hold whole vectors on every target: 16 f32 lanes (AVX-512),
a multiple of AVX2's and NEON's 8 and 4."""


def split_columns(source_dims: Sequence[int], chain: Sequence[Operation]) -> SplitColumns | None:
    """The store map of a matrix of shape `source_dims` (rows = all but the last dim)
    that `chain` (reshapes and transposes, in order) reorganises into a contiguous
    value, if it is a `SplitColumns` with runs of whole vectors. Computed by running the
    chain backwards on the final value's element offsets: reshape^-1 is the reshape back,
    transpose(perm)^-1 is transpose(argsort(perm))."""
    final = shape(chain[-1].results[0])
    offsets = np.arange(prod(final), dtype=np.int64).reshape(final)
    for op in reversed(chain):
        if isinstance(op, nn.TransposeOp):
            perm = [int(p) for p in op.permutation.get_values()]
            offsets = offsets.transpose(np.argsort(perm))
        else:
            offsets = offsets.reshape(shape(op.input))
    n = source_dims[-1] if source_dims else 1
    return fit_split(offsets.reshape(-1, n))


def fit_split(matrix: np.ndarray) -> SplitColumns | None:
    """The `SplitColumns` that puts Y[r, c] at matrix[r, c], if one does with runs of
    whole vectors (`SPLIT_ALIGNMENT`)."""
    m, n = matrix.shape
    moved = np.flatnonzero(matrix[0] != np.arange(n))
    width = int(moved[0]) if moved.size else n
    chunk = int(matrix[0, width]) if width < n else 0
    row = int(matrix[1, 0]) if m > 1 else n
    if width == 0 or width % SPLIT_ALIGNMENT or n % width:  # (Y[0, 0] is not first)
        return None
    split = SplitColumns(row, width, chunk)
    rows, cols = np.meshgrid(np.arange(m), np.arange(n), indexing="ij")
    return split if np.array_equal(matrix, split.offset(rows, cols)) else None


def linear_moves_in_place(graph, plans: list[KernelPlan], folding: Folding
                          ) -> list[KernelPlan]:
    """A dense linear layer whose result its group only reshapes and transposes into a
    value that leaves the group (attention's packed q | k | v projection, moved to
    (3, tokens, ..., width) the way torch's `_in_projection_packed` does): the copy kernel
    that would materialise that value from the folded view goes, and the linear kernel
    stores each run of its row straight into the value's buffer (`SplitColumns`). The
    producer-side counterpart of reading a view, like `transpose_in_place`, for a GEMM
    whose moves cut its rows. Only where the linear's result and every moved value in
    between have a single reader and are no output."""
    resolve = graph.resolve
    writer = {plan.result: plan for plan in plans}
    users = users_of(graph)
    outputs = set(graph.outputs)
    removed: set[Operation] = set()
    for plan in plans:
        target = plan.op.results[0]
        if target not in folding.copies or plan.op not in graph.group:
            continue
        chain = [plan.op]
        value = resolve(plan.op.operands[0])
        while value in folding.views and isinstance(value.owner, nn.ReshapeOp | nn.TransposeOp):
            chain.insert(0, value.owner)
            value = resolve(value.owner.operands[0])
        producer = writer.get(value)
        if producer is None or not isinstance(producer.op, nn.LinearOp) or \
                is_sparse(producer.op) or producer.plane_epilogue is not None or \
                graph.group.get(producer.op) != graph.group.get(plan.op) or \
                not all(isinstance(op, nn.ReshapeOp | nn.TransposeOp) for op in chain) or \
                any(v in folding.slices or v in folding.also or v in folding.split
                    for v in (value, target)):
            continue
        moved = [value, *(op.results[0] for op in chain[:-1])]
        if any(v in outputs or len(users.get(v, [])) != 1 for v in moved):
            continue
        split = split_columns(shape(value), chain)
        if split is None:
            continue
        folding.slices[value] = (target, 0)
        folding.split[value] = split
        producer.stores += chain
        removed.add(plan.op)
    return [plan for plan in plans if plan.op not in removed]


def linear_columns_in_place(graph, plans: list[KernelPlan], folding: Folding
                            ) -> list[KernelPlan]:
    """An element-wise kernel of a linear layer's group whose chain reads, through a
    folded view, whole columns of the linear's result stored in place
    (`linear_moves_in_place`), here attention's q sliced from q | k | v and scaled by
    1/sqrt(d): the linear kernel applies the chain to those columns in registers and
    stores them into the chain's result as well (`ColumnStore`, `KernelPlan.columns`),
    and the element-wise kernel goes. The linear result is then read from registers,
    not from memory: the group is one loop nest. Likewise where the group has no linear
    layer (`fuse{profile=false}` leaves it out) and a copy kernel materialises q | k | v
    from the linear's result: the copy stores the chain of a block of its rows and
    columns too (`emit_view_copy`).

    Only where the chain's other operands are one-element constants (immediates: the
    producing kernel has no index into the chain's result to read a tensor operand at),
    the view is a one-to-one image of a block of the producer's matrix (every row of a
    linear's; its dims but the last flattened into rows for a copy) whose columns start
    at a whole run, whose elements move in whole runs (`SPLIT_ALIGNMENT`), and the
    chain's result is stored contiguously in a buffer of its own. The block is still
    stored where it was (other readers of that buffer are not traced)."""
    resolve = graph.resolve
    constants = graph.constants
    # buffer -> (the value a kernel stores there, where its elements go as a matrix,
    # only whole rows?): a linear result stored in place, or a copy's contiguous result
    # (the copy of q | k | v that `fuse{profile=false}` leaves when the linear layer is
    # in another group)
    matrices: dict[SSAValue, tuple[SSAValue, SplitColumns, bool]] = {
        resolve(target): (value, folding.split[value], True)
        for value, (target, _) in folding.slices.items() if value in folding.split}
    for plan in plans:
        copied = plan.op.results[0]
        view = folding.copies.get(copied)
        if view is not None and view.strides and view.strides[-1] == 1 and \
                not (plan.epilogue or plan.stores or plan.also) and \
                isinstance(copied.type.get_element_type(), Float32Type) and \
                not any(copied in table for table in (folding.slices, folding.strided,
                                                      folding.also, folding.split)):
            n = shape(copied)[-1]
            matrices[copied] = (copied, SplitColumns(n, n, 0), False)
    writer = {plan.result: plan for plan in plans}
    removed: set[Operation] = set()
    for plan in plans:
        ops = [plan.op, *plan.epilogue]
        if not all(is_elementwise(op) for op in ops) or plan.prologue or plan.stores or \
                plan.also or plan.columns or plan.plane_epilogue is not None:
            continue
        viewed = [resolve(v) for v in plan.op.operands if resolve(v) in folding.views]
        if len(viewed) != 1:
            continue
        source = viewed[0]
        view = folding.views[source]
        matrix, stored, whole_rows = matrices.get(resolve(view.base), (None, None, True))
        producer = writer.get(matrix) if matrix is not None else None
        if producer is None or stored is None or producer.op in removed or \
                graph.group.get(producer.op) != graph.group.get(plan.op) or \
                not _scalar_chain(ops, source, resolve, constants) or \
                any(shape(op.results[0]) != shape(source) for op in ops) or \
                any(plan.result in table for table in (folding.slices, folding.strided,
                                                       folding.also, folding.split)):
            continue
        store = _column_store(view, shape(source), shape(matrix), stored, whole_rows)
        if store is None:
            continue
        first_row, rows, first, count, split = store
        folding.columns.setdefault(matrix, []).append(
            ColumnStore(first, count, split, source, tuple(ops), first_row, rows))
        producer.columns.append(plan)
        removed.add(plan.op)
    return [plan for plan in plans if plan.op not in removed]


def _scalar_chain(ops: Sequence[Operation], source: SSAValue, resolve,
                  constants: dict) -> bool:
    """Does each op of the chain read the chain value once (`source` first) and
    otherwise only one-element constants?"""
    chain = source
    for op in ops:
        operands = [resolve(v) for v in op.operands]
        if operands.count(chain) != 1 or any(
                v is not chain and (v not in constants or constants[v].size != 1)
                for v in operands):
            return False
        chain = op.results[0]
    return True


def _column_store(view: View, dims: Sequence[int], y_dims: Sequence[int],
                  split: SplitColumns, whole_rows: bool
                  ) -> tuple[int, int, int, int, SplitColumns] | None:
    """For a view of shape `dims` into the buffer where Y (`y_dims`, its dims but the
    last flattened into rows, stored by `split`) lies: the rows [first_row, first_row +
    rows) and columns [first, first + count) of Y it shows, one element each, and the
    `SplitColumns` that stores them, Y[r, c] at the view's element offset of the same
    element (r - first_row, c - first); None when the view is not such an image (or
    does not show every row, with `whole_rows`)."""
    n = y_dims[-1]
    m = prod(y_dims[:-1])
    rows, cols = np.meshgrid(np.arange(m), np.arange(n), indexing="ij")
    where = split.offset(rows, cols).reshape(-1)
    element = np.full(int(where.max()) + 1, -1, np.int64)  # buffer offset -> Y element
    element[where] = np.arange(m * n)
    offsets = view.offset + sum(np.arange(d).reshape((-1,) + (1,) * (len(dims) - 1 - i)) * s
                                for i, (d, s) in enumerate(zip(dims, view.strides,
                                                               strict=True)))
    offsets = np.broadcast_to(offsets, dims).reshape(-1)
    if offsets.size == 0 or offsets.min() < 0 or offsets.max() >= element.size:
        return None
    shown = element[offsets]
    if (shown < 0).any() or np.unique(shown).size != shown.size:
        return None
    destination = np.full(m * n, -1, np.int64)
    destination[shown] = np.arange(shown.size)
    destination = destination.reshape(m, n)
    covered = destination >= 0
    rows, columns = np.flatnonzero(covered.any(axis=1)), np.flatnonzero(covered.any(axis=0))
    first_row, first = int(rows[0]), int(columns[0])
    block = covered[first_row:first_row + rows.size, first:first + columns.size]
    if rows[-1] != first_row + rows.size - 1 or columns[-1] != first + columns.size - 1 or \
            not block.all() or block.size != shown.size or first % SPLIT_ALIGNMENT or \
            (whole_rows and rows.size != m):
        return None
    fit = fit_split(destination[first_row:first_row + rows.size, first:first + columns.size])
    return None if fit is None else (first_row, int(rows.size), first, int(columns.size), fit)


def emit_view_copy(k: Kernel, op: Operation, view: View) -> None:
    """Materialise `op`'s result from the base of its (composed) view: one loop nest.
    With column stores (`linear_columns_in_place`), a row loop that also stores, in
    registers, the element-wise chains of their blocks."""
    dims = shape(op.results[0])
    stores = k.columns.get(k.resolve(op.results[0]))
    if stores:
        _copy_with_column_stores(k, op.results[0], view, stores)
        return
    out = Access(k.buffer(op.results[0]), contiguous_strides(dims))
    emit_map(k, dims if dims else (1,), out, [view.access(k, dims, dims)], identity)


def _copy_with_column_stores(k: Kernel, value: SSAValue, view: View,
                             stores: list[ColumnStore]) -> None:
    """value[row, c] = base[view at (row, c)] over value's rows (all dims but the last)
    and its N columns, a vector at a time (the view's last stride is 1); each vector of
    a store's block also goes through the store's chain (one-element constants) to
    split.offset(row - first_row, c - first) of the chain's result."""
    from .epilogue import chain_steps

    E = k.E
    lanes = k.lanes
    dims = shape(value)
    n, m = dims[-1], prod(dims[:-1])
    source, target = k.buffer(view.base), k.buffer(value)
    parts = []
    for store in stores:
        steps = chain_steps(k, store.ops, store.source)
        scalars = [[o.access(k, dims).scalar for o in step.operands] for step in steps]
        parts.append((store, k.buffer(store.ops[-1].results[0]), steps, scalars))
    if k.threads > 1 and m > 1 and m * n >= PARALLEL_MIN_ELEMENTS:
        lo, hi = k.tile_range(m)
    else:
        lo, hi = 0, m
    with E.loop(lo, hi) as row:
        at = E.unflatten(row.iv, dims[:-1])
        base = E.linear(list(zip(at, view.strides[:-1], strict=True)), view.offset)
        start = E.imul(row.iv, n)

        def columns(col: Index, mask: SSAValue | None) -> None:
            item = E.vload_where(source, E.iadd(base, col), lanes, mask)
            E.vstore_where(item, target, E.iadd(start, col), mask)
            for column_store, buffer, steps, scalars in parts:
                r = E.isub(row.iv, column_store.first_row)
                c = E.isub(col, column_store.first)
                inside = E.and_(E.cmpi("ult", r, column_store.rows),
                                E.cmpi("ult", c, column_store.count))

                def write(column_store=column_store, buffer=buffer, steps=steps,
                          scalars=scalars, r=r, c=c) -> list:
                    out = item
                    for step, values in zip(steps, scalars, strict=True):
                        out = step.apply(E, out, [E.splat(E.const(v, f32), lanes)
                                                  for v in values])
                    split = column_store.split
                    E.vstore_where(out, buffer, E.iadd(E.imul(r, split.row), split.column(E, c)),
                                   mask)
                    return []
                E.choose(inside, write, lambda: [])

        full = n - n % lanes
        with E.loop(0, full, lanes) as col:
            columns(col.iv, None)
        if n % lanes:
            columns(full, E.prefix_mask(n % lanes, lanes))


__all__ = ["ColumnStore", "Folding", "SplitColumns", "View", "emit_view_copy", "fit_split",
           "fold_views", "linear_columns_in_place", "linear_moves_in_place",
           "matrix_strides", "reshape_strides", "split_columns", "transpose_in_place"]
