"""`convert-nn-to-loops`: bufferize `@main` and lower every nn op to loop nests.

After this pass `@main` takes flat memrefs: its inputs, its outputs (written in place),
the weights buffer and the arena, and calls one private kernel function per group of ops:

    func.func @main(%x: memref<150528xf32>, %y: memref<1000xf32>,
                    %weights: memref<46827520xi8>, %arena: memref<3211264xi8>) {
      %0 = memref.view %weights[%c0][] : memref<46827520xi8> to memref<9408xf32>
      %1 = memref.view %arena[%c0][] : memref<3211264xi8> to memref<802816xf32>
      func.call @conv2d_0(%x, %0, ..., %1, %c0, %c392) : (...) -> ()
      ...
    }
    func.func private @conv2d_0(...) { scf.for ... }        // loops: scf, memref, arith, vector, math

Steps, each a function of its own: `flatten` (nn.fused regions inlined, values resolved),
`plan_kernels` (which element-wise ops ride along as a kernel's epilogue),
`plan_storage` (each value in an input, an output, the weights or the arena: reshapes
alias, intermediates share the arena by liveness), then emission.

The module keeps what the runtime needs as attributes: `sparsec.abi` (JSON: inputs,
outputs, arena plan, kernels with FLOPs and bytes) and `sparsec.weights` (the weights
buffer, packed for the kernels that read it).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from math import prod

import numpy as np
from xdsl.context import Context
from xdsl.dialects import arith, func, memref
from xdsl.dialects.builtin import (
    IntegerAttr,
    MemRefType,
    ModuleOp,
    NoneAttr,
    StringAttr,
    TensorType,
    i8,
    i64,
)
from xdsl.ir import Attribute, Block, Operation, Region, SSAValue
from xdsl.passes import ModulePass

from sparsec.dialects import nn
from sparsec.dialects.resources import ArrayResourceAttr, numpy_dtype
from sparsec.dialects.sparse import AssembleOp
from sparsec.textio import location_of

from .emitter import INDEX
from .kernels import emit_kernel, plan_kernels
from .kernels.base import (
    CopyPlan,
    Kernel,
    KernelPlan,
    Library,
    LoweringError,
    OutputRef,
    Ref,
    TileRange,
    ValueRef,
    WeightRef,
    Weights,
    flat_type,
)
from .kernels.sparse import PackedConstant, sparse_operand
from .memory import Interval, plan_arena
from .target import Target, get_target

ABI_ATTR = "sparsec.abi"
WEIGHTS_ATTR = "sparsec.weights"
PROFILE_HOOK = "sparsec_profile"


# --- flattening -------------------------------------------------------------------------


@dataclass
class Graph:
    """@main's nn ops in execution order, fused regions inlined."""

    function: func.FuncOp
    ops: list[Operation]
    alias: dict[SSAValue, SSAValue]
    """fused block arguments and fused results -> the values they stand for"""
    constants: dict[SSAValue, np.ndarray]
    inputs: list[SSAValue]
    outputs: list[SSAValue]
    group: dict[Operation, str] = field(default_factory=dict)
    """op -> the nn.fused group it came from (kernel planning follows the groups)"""
    mappings: dict[str, str] = field(default_factory=dict)
    """group name -> its fused mapping type, in block order"""

    def resolve(self, value: SSAValue) -> SSAValue:
        return self.alias.get(value, value)


def main_function(module: ModuleOp) -> func.FuncOp:
    for op in module.ops:
        if isinstance(op, func.FuncOp) and op.sym_name.data == "main":
            return op
    raise LoweringError("convert-nn-to-loops: the module has no func.func @main")


def flatten(module: ModuleOp) -> Graph:
    function = main_function(module)
    graph = Graph(function, [], {}, {}, list(function.args), [])
    _flatten_block(graph, function.body.block, None)
    return graph


def _flatten_block(graph: Graph, block: Block, group: str | None) -> list[SSAValue]:
    for op in block.ops:
        if isinstance(op, func.ReturnOp):
            graph.outputs = [graph.resolve(v) for v in op.arguments]
        elif isinstance(op, nn.YieldOp):
            return [graph.resolve(v) for v in op.values]
        elif isinstance(op, nn.ConstantOp):
            graph.constants[op.result] = op.array
        elif isinstance(op, AssembleOp):
            graph.constants[op.result] = _packed_constant(graph, op)
        elif isinstance(op, nn.FusedOp):
            for arg, operand in zip(op.body.block.args, op.inputs, strict=True):
                graph.alias[arg] = graph.resolve(operand)
            name = group or f"fused_{len(graph.mappings)}"
            graph.mappings.setdefault(name, op.mapping.data)
            yielded = _flatten_block(graph, op.body.block, name)
            for result, value in zip(op.outputs, yielded, strict=True):
                graph.alias[result] = value
        elif isinstance(op, nn.NNOperation):
            _check_operands(op)
            graph.ops.append(op)
            if group is not None:
                graph.group[op] = group
        else:
            raise LoweringError(f"{location_of(op)}: convert-nn-to-loops: {op.name} is not "
                                "an nn operator")
    return []


def _check_operands(op: Operation) -> None:
    weight = sparse_operand(op)
    for value in (*op.operands, *op.results):
        type = value.type
        if not isinstance(type, TensorType) or not type.has_static_shape():
            raise LoweringError(f"{location_of(op)}: {op.name}: only static tensor shapes are "
                                f"supported, got {type}")
        if not isinstance(type.encoding, NoneAttr) and value is not weight:
            raise LoweringError(f"{location_of(op)}: {op.name}: a sparse encoding is lowered "
                                f"on the weight of nn.conv2d / nn.linear (or a constant 2-D "
                                f"right operand of nn.matmul) only, got {type}")


def _packed_constant(graph: Graph, op: AssembleOp) -> PackedConstant:
    """The value of a sparse.assemble: its arrays must be constants (sparse kernels are
    specialised to the weight at compile time)."""
    arrays = {}
    for name, value in op.named_arrays().items():
        array = graph.constants.get(graph.resolve(value))
        if not isinstance(array, np.ndarray):
            raise LoweringError(f"{location_of(op)}: sparse.assemble: array '{name}' must be a "
                                "constant (sparse kernels are specialised to their weights)")
        arrays[name] = array
    return PackedConstant(op.encoding, tuple(op.result.type.get_shape()), arrays)


def fold_constants(graph: Graph) -> None:
    """Reshapes and transposes of constants are constants (weights are often transposed
    or viewed by the frontend)."""
    for op in graph.ops:
        if isinstance(op, nn.ReshapeOp | nn.TransposeOp):
            source = graph.constants.get(graph.resolve(op.input))
            if not isinstance(source, np.ndarray):  # not a constant, or a packed weight
                continue
            if isinstance(op, nn.ReshapeOp):
                graph.constants[op.result] = source.reshape(op.result.type.get_shape())
            else:
                perm = [int(p) for p in op.permutation.get_values()]
                graph.constants[op.result] = np.ascontiguousarray(source.transpose(perm))


# --- storage ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Storage:
    kind: str  # "input", "output", "constant", "arena"
    index: int = 0  # input/output position, or arena byte offset


@dataclass
class StoragePlan:
    storage: dict[SSAValue, Storage]
    arena_bytes: int
    arena_floor: int
    arena_total: int


def nbytes(value: SSAValue) -> int:
    type = value.type
    return max(1, prod(type.get_shape())) * numpy_dtype(type.get_element_type()).itemsize


def plan_storage(graph: Graph, kernels: list[KernelPlan],
                 copies: list[tuple[SSAValue, int]],
                 copied_reshapes: set[Operation] | None = None,
                 slices: dict[SSAValue, tuple[SSAValue, int]] | None = None) -> StoragePlan:
    """Storage of every value the kernels read or write. `copies` (value, output index)
    are appended: outputs that must be copied out of another buffer. Constants go to the
    weights buffer only if a kernel reads them as they are (`build_main`): most are read
    packed. Reshapes alias their input, except `copied_reshapes` (kernels that copy
    from a folded view: their input has no buffer). `slices` (value -> concat result,
    byte offset): a concat's input lives inside the concat's buffer (written in place)."""
    copied_reshapes = copied_reshapes or set()
    root: dict[SSAValue, tuple[SSAValue, int]] = dict(slices or {})

    def find_offset(value: SSAValue) -> tuple[SSAValue, int]:
        offset = 0
        while value in root:
            value, step = root[value]
            offset += step
        return value, offset

    def find(value: SSAValue) -> SSAValue:
        return find_offset(value)[0]

    for op in graph.ops:
        if isinstance(op, nn.ReshapeOp) and op.result not in graph.constants \
                and op not in copied_reshapes:
            root[op.result] = (graph.resolve(op.input), 0)

    storage: dict[SSAValue, Storage] = {}
    for index, value in enumerate(graph.inputs):
        storage[value] = Storage("input", index)
    for value in graph.constants:
        if find(value) is value:
            storage[value] = Storage("constant")
    for index, value in enumerate(graph.outputs):
        base = find(value)
        if base in storage:
            copies.append((value, index))
        else:
            storage[base] = Storage("output", index)

    # intermediates: live from the kernel that writes them to the last that reads them
    first: dict[SSAValue, int] = {}
    last: dict[SSAValue, int] = {}
    for position, plan in enumerate(kernels):
        for value in plan.written:
            base = find(value)
            first.setdefault(base, position)
            last[base] = max(last.get(base, position), position)
        for op in plan.ops:
            for operand in op.operands:
                base = find(graph.resolve(operand))
                last[base] = max(last.get(base, position), position)
    end = len(kernels)
    for value, _ in copies:
        base = find(value)
        last[base] = max(last.get(base, end), end)
    bases = [b for b in first if b not in storage]
    plan = plan_arena([Interval(nbytes(b), first[b], last[b]) for b in bases])
    for base, offset in zip(bases, plan.offsets, strict=True):
        storage[base] = Storage("arena", offset)

    resolved = {}
    for value in {*storage, *root, *(graph.resolve(v) for op in graph.ops for v in op.operands)}:
        base, offset = find_offset(value)
        if base in storage:
            place = storage[base]
            assert offset == 0 or place.kind == "arena", "a concat in place outside the arena"
            resolved[value] = Storage(place.kind, place.index + offset) if offset else place
    return StoragePlan(resolved, plan.size, plan.floor, plan.total)


# --- emission ---------------------------------------------------------------------------


def _kernel_bytes(plan: KernelPlan | CopyPlan, graph: Graph) -> int:
    """Bytes the kernel reads and writes (each buffer once)."""
    if isinstance(plan, CopyPlan):
        return 2 * nbytes(plan.value)
    touched = {graph.resolve(v) for op in plan.ops for v in op.operands}
    inner = {op.results[0] for op in plan.ops[:-1]} | set(plan.written)
    return sum(nbytes(v) for v in touched - inner) + sum(nbytes(v) for v in plan.written)


def lower_module(module: ModuleOp, target: Target, threads: int = 1,
                 profile: bool = False, fusion: bool = True) -> None:
    graph = flatten(module)
    fold_constants(graph)
    kernel_plans, folding = plan_kernels(graph, fusion)
    plans: list[KernelPlan | CopyPlan] = list(kernel_plans)
    weights = Weights()
    copies: list[tuple[SSAValue, int]] = []
    storage = plan_storage(graph, plans, copies,  # type: ignore[arg-type]
                           folding.copied_reshapes, folding.slices)
    plans += [CopyPlan(value, index) for value, index in copies]

    used: dict[str, int] = {}
    kernels: list[Kernel] = []
    library = Library()
    for plan in plans:
        count = used.get(plan.label, 0)
        used[plan.label] = count + 1
        kernel = Kernel(f"{plan.label}_{count}", plan.ops, target, weights, graph.constants,
                        graph.resolve, threads, library, folding.views, folding.copies,
                        folding.strided, folding.also, folding.split, folding.columns)
        emit_kernel(kernel, plan)
        kernels.append(kernel)

    functions = deduplicate(kernels)
    new_main = build_main(graph, storage, kernels, weights, threads, profile)
    blob = weights.blob()
    block = module.body.block
    block.insert_op_before(new_main, graph.function)
    block.add_ops(functions)
    block.add_ops(library.functions.values())
    if profile:
        block.add_op(func.FuncOp(PROFILE_HOOK, ([i64], []), Region(), "private"))
    block.erase_op(graph.function)
    module.attributes[WEIGHTS_ATTR] = ArrayResourceAttr.from_array(
        "__sparsec_weights", blob.view(np.int8))
    description = abi(graph, storage, kernels, plans)
    description["fusion"] = fusion_summary(graph, kernels, plans, fusion)
    module.attributes[ABI_ATTR] = StringAttr(json.dumps(description, separators=(",", ":")))


def deduplicate(kernels: list[Kernel]) -> list[func.FuncOp]:
    """The kernels' functions, each distinct body once: kernels get their buffers as
    arguments, so the kernels of repeated blocks (a GRU's time steps, a transformer's
    layers) are the same code. A kernel whose body was seen calls the first one
    (`Kernel.function_name`)."""
    seen: dict[tuple, str] = {}
    functions = []
    for kernel in kernels:
        function = kernel.function()
        key = fingerprint(function)
        if key in seen:
            kernel.function_name = seen[key]
            continue
        seen[key] = kernel.function_name = function.sym_name.data
        functions.append(function)
    return functions


def fingerprint(function: func.FuncOp) -> tuple:
    """The function's body up to value names: every op's name, operands (by definition
    order), result types, properties and attributes, and block arguments."""
    ids: dict[SSAValue, int] = {}

    def number(values) -> tuple:
        for value in values:
            ids[value] = len(ids)
        return tuple(str(v.type) for v in values)

    items: list[tuple] = [number(function.body.block.args)]
    for op in function.body.walk():
        items.append((op.name, tuple(ids.get(v, -1) for v in op.operands), number(op.results),
                      tuple((k, str(v)) for k, v in op.properties.items()),
                      tuple((k, str(v)) for k, v in op.attributes.items()),
                      tuple(number(b.args) for r in op.regions for b in r.blocks)))
    return tuple(items)


PARALLEL_MIN_WORK = 1 << 22
"""FLOPs (or bytes written) below which a kernel runs on the calling thread alone: waking
an OpenMP team costs microseconds, more on a busy machine."""


def worth_threads(kernel: Kernel) -> bool:
    flops = sum(op.flops() for op in kernel.ops if isinstance(op, nn.NNOperation))
    written = sum(nbytes(op.results[0]) for op in kernel.ops[-1:])
    return max(flops, written) >= PARALLEL_MIN_WORK


def build_main(graph: Graph, storage: StoragePlan, kernels: list[Kernel], weights: Weights,
               threads: int, profile: bool) -> func.FuncOp:
    """@main(inputs..., outputs..., weights, arena): views, then one call per kernel.
    Constants the kernels read as they are join the weights buffer here."""
    for kernel in kernels:
        for ref in kernel.refs:
            if isinstance(ref, ValueRef) and ref.value in graph.constants:
                weights.add(graph.constants[ref.value], ("raw", ref.value))
    input_types = [flat_type(v.type) for v in graph.inputs]
    output_types = [flat_type(v.type) for v in graph.outputs]
    block = Block(arg_types=[*input_types, *output_types, MemRefType(i8, [weights.size]),
                             MemRefType(i8, [storage.arena_bytes])])
    n_in, n_out = len(input_types), len(output_types)
    inputs, outputs = block.args[:n_in], block.args[n_in:n_in + n_out]
    weights_arg, arena_arg = block.args[-2], block.args[-1]
    for arg, value in zip(inputs, graph.inputs, strict=True):
        arg.name_hint = value.name_hint
    for index, arg in enumerate(outputs):
        arg.name_hint = f"output{index}"
    weights_arg.name_hint, arena_arg.name_hint = "weights", "arena"
    constants: dict[int, SSAValue] = {}

    def index(value: int) -> SSAValue:
        if value not in constants:
            op = arith.ConstantOp(IntegerAttr(value, INDEX))
            block.add_op(op)
            constants[value] = op.result
        return constants[value]

    def view(base: SSAValue, offset: int, type: Attribute) -> SSAValue:
        op = memref.ViewOp(base, index(offset), [], type)  # type: ignore[arg-type]
        block.add_op(op)
        return op.result

    def buffer(ref: Ref, type: Attribute) -> SSAValue:
        if isinstance(ref, WeightRef):
            return view(weights_arg, ref.offset, type)
        if isinstance(ref, OutputRef):
            return outputs[ref.index]
        assert isinstance(ref, ValueRef)
        value = graph.resolve(ref.value)
        place = storage.storage[value]
        if place.kind == "input":
            return inputs[place.index]
        if place.kind == "output":
            return outputs[place.index]
        if place.kind == "constant":
            return view(weights_arg, weights.by_key[("raw", value)].offset, type)
        return view(arena_arg, place.index, type)

    for position, kernel in enumerate(kernels):
        operands: list[SSAValue] = []
        args = iter(kernel.block.args)
        for ref in kernel.refs:
            arg = next(args)
            if isinstance(ref, TileRange):
                next(args)
                operands += [index(0), index(kernel.tiles or 1)]
            else:
                operands.append(buffer(ref, arg.type))
        call = func.CallOp(kernel.function_name, operands, [])
        if threads > 1 and (kernel.tiles or 1) > 1 and worth_threads(kernel):
            call.attributes["sparsec.parallel"] = IntegerAttr(threads, i64)
        block.add_op(call)
        if profile:
            mark = arith.ConstantOp(IntegerAttr(position, i64))
            block.add_op(mark)
            block.add_op(func.CallOp(PROFILE_HOOK, [mark.result], []))
    block.add_op(func.ReturnOp())
    return func.FuncOp("main", (block.arg_types, []), Region(block))


def abi(graph: Graph, storage: StoragePlan, kernels: list[Kernel],
        plans: list[KernelPlan | CopyPlan]) -> dict:
    """What the runtime needs to call @main and to report on it."""

    def describe(value: SSAValue, name: str) -> dict:
        type = value.type
        return {"name": name, "shape": list(type.get_shape()),
                "dtype": numpy_dtype(type.get_element_type()).str}

    described = []
    for kernel, plan in zip(kernels, plans, strict=True):
        ops = [op for op in plan.ops if isinstance(op, nn.NNOperation)]
        groups = [graph.group[op] for op in ops if op in graph.group]
        described.append({
            "name": kernel.name,
            "group": groups[0] if groups else kernel.name,
            "ops": [op.name for op in ops] or ["copy"],
            "flops": sum(_flops(op, kernel) for op in ops),
            "bytes": _kernel_bytes(plan, graph),
            "tiles": kernel.tiles or 1,
        })
    index_bounds = {}
    for op in graph.ops:
        if isinstance(op, nn.GatherOp) and graph.resolve(op.indices) in graph.inputs:
            table = op.table.type.get_shape()
            position = graph.inputs.index(graph.resolve(op.indices))
            index_bounds[str(position)] = table[op.axis.value.data % len(table)]
    return {
        "inputs": [describe(v, v.name_hint or f"arg{i}") for i, v in enumerate(graph.inputs)],
        "outputs": [describe(v, f"output{i}") for i, v in enumerate(graph.outputs)],
        "arena": {"bytes": storage.arena_bytes, "floor": storage.arena_floor,
                  "total": storage.arena_total},
        "kernels": described,
        "index_bounds": index_bounds,
    }


def fusion_summary(graph: Graph, kernels: list[Kernel], plans: list[KernelPlan | CopyPlan],
                   fusion: bool) -> dict:
    """How the kernels realise the fusion: the mode ("off": one kernel per op; "plan":
    the module's nn.fused groups decide; "greedy": no groups, epilogues where the
    generator can), each group with its ops, mapping type and the kernels it became
    (more than one: the generator split it), and DNNFusion's Table 5 totals over the
    nn ops: layers and intermediate bytes before and after fusion. "After" counts a
    group once and only the group results used outside it."""
    mode = "off" if not fusion else "plan" if graph.mappings else "greedy"
    kernels_of: dict[str, list[str]] = {name: [] for name in graph.mappings}
    for kernel, plan in zip(kernels, plans, strict=True):
        for name in dict.fromkeys(graph.group[op] for op in plan.ops if op in graph.group):
            kernels_of[name].append(kernel.name)
    layers = [op for op in graph.ops if op.results[0] not in graph.constants]
    used_outside: set[SSAValue] = set(graph.outputs)
    for op in layers:
        for operand in op.operands:
            value = graph.resolve(operand)
            home = graph.group.get(value.owner)  # type: ignore[arg-type]
            if home is None or home != graph.group.get(op):
                used_outside.add(value)
    groups = []
    for name, mapping in graph.mappings.items():
        members = [op for op in layers if graph.group.get(op) == name]
        groups.append({"name": name, "mapping": mapping, "ops": [op.name for op in members],
                       "kernels": kernels_of[name]})
    before = sum(nbytes(op.results[0]) for op in layers)
    after = sum(nbytes(op.results[0]) for op in layers
                if op not in graph.group or op.results[0] in used_outside)
    return {"mode": mode, "groups": groups,
            "layers_before": len(layers),
            "layers_after": len(graph.mappings) + sum(op not in graph.group for op in layers),
            "bytes_before": before, "bytes_after": after}


@dataclass(frozen=True)
class ConvertNNToLoopsPass(ModulePass):
    """Options: threads (kernels split their tiles over an OpenMP team of this size),
    target (host, a preset: avx512, avx2, neon, or TRIPLE[:CPU] such as
    aarch64-linux-gnu:cortex-a76, see `target.get_target`), profile (call
    sparsec_profile(i) after kernel i),
    fusion (false: one kernel per nn op, no epilogues; the baseline fusion is measured
    against. True: the nn.fused groups decide which ops share a kernel, or, in a module
    without groups, greedy epilogues)."""

    name = "convert-nn-to-loops"

    threads: int = 1
    target: str = "host"
    profile: bool = False
    fusion: bool = True

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        if self.threads < 1:
            raise LoweringError("convert-nn-to-loops: threads must be >= 1")
        lower_module(op, get_target(self.target), self.threads, self.profile, self.fusion)


def _flops(op: nn.NNOperation, kernel: Kernel) -> int:
    """The op's FLOPs as computed: a contraction whose weight is packed sparse does the
    multiply-adds of its stored weights only, density = stored nonzeros / dense size of
    the weight (its bias adds stay one per output)."""
    operand = sparse_operand(op)
    packed = kernel.constant(operand) if operand is not None else None
    if not isinstance(packed, PackedConstant):
        return op.flops()
    from sparsec.dialects.sparse.encodings import fields

    [values] = [f.name for f in fields(packed.encoding, packed.shape) if f.kind == "value"]
    density = np.count_nonzero(packed.arrays[values]) / prod(packed.shape)
    bias = prod(op.results[0].type.get_shape()) if getattr(op, "bias", None) else 0
    return round((op.flops() - bias) * density) + bias
