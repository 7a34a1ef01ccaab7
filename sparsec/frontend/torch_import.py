"""PyTorch model -> torch dialect (torch-mlir's FX importer) at the level where operators
stay whole, weights as numpy arrays.

torch-mlir's default `output_type="torch"` pipeline decomposes almost everything
(batch_norm into a dozen ops, linear into permute + mm, layer_norm in f64). This is its
raw import with an empty decomposition table: conv2d, batch_norm, linear, layer_norm,
scaled_dot_product_attention, even `aten.gru.input` / `aten.lstm.input` stay whole, and
`torch_to_nn` converts each. (Decomposing the recurrent ops with torch._decomp instead
costs `run_decompositions`, 5-10 s for a 2-layer GRU, and gives a worse graph: one input
projection per time step instead of one per layer.)

In-place ops (`relu_`, `add_`) are imported as their value-semantics twins, which is
what torch-mlir does too; a program where that would be wrong (an in-place write through
a view, `mask[a:b] = 1`) is functionalised by torch.export first (`mutates_aliases`).

Parameters reach torch-mlir as `get_attr` nodes (`freeze`) rather than as the tensors
themselves (`import_frozen_program`): its importer accepts those inside lists too, which
recurrent layers' parameter lists need.
"""

from __future__ import annotations

import gc
import warnings
from collections.abc import Sequence
from contextlib import contextmanager

from .errors import FrontendError, require
from .weights import Resources, make_weight_hooks


def as_tensors(example_inputs) -> tuple:
    """Example inputs as a tuple of torch tensors (a tensor, numpy arrays, or a sequence)."""
    import numpy as np
    import torch

    if isinstance(example_inputs, torch.Tensor | np.ndarray):
        example_inputs = (example_inputs,)
    tensors = []
    for value in example_inputs:
        tensors.append(torch.from_numpy(value) if isinstance(value, np.ndarray) else value)
    return tuple(tensors)


@contextmanager
def eval_mode(model):
    """Run with every submodule in eval mode (inference semantics: batch norm uses its
    running statistics, dropout is the identity), then restore each module's flag."""
    import torch

    if not isinstance(model, torch.nn.Module):
        yield model
        return
    flags = [(module, module.training) for module in model.modules()]
    model.eval()
    try:
        yield model
    finally:
        for module, training in flags:
            module.training = training


def export(model, example_inputs: Sequence):
    """torch.export the model in eval mode, without decompositions (functionalised only
    when in-place ops write through aliases)."""
    torch = require("torch")
    with eval_mode(model), torch.no_grad(), warnings.catch_warnings():
        # nn.RNN re-assigns its _flat_weights while tracing; harmless here.
        warnings.filterwarnings("ignore", message="The tensor attributes .* were assigned")
        try:
            program = torch.export.export(model, as_tensors(example_inputs), strict=False)
        except Exception as e:  # torch.export raises many kinds; all mean "cannot trace"
            raise FrontendError(f"error: torch.export could not trace the model: "
                                f"{type(e).__name__}: {e}") from e
    if mutates_aliases(program):
        # Functionalises (slice_scatter for writes through views) with no decomposition
        # table; batch_norm becomes _native_batch_norm_legit_no_training on the way.
        program = program.run_decompositions({})
    return program


def mutates_aliases(program) -> bool:
    """Whether an in-place op could change a value other than its own result: it writes
    to a view, an input or parameter, or a tensor that is read again afterwards (swin's
    `mask[h, w] = count`). torch-mlir imports in-place ops as value-semantic ones, right
    only when none of that happens; otherwise the program is functionalised first (which
    costs seconds, so only then)."""
    import torch

    order = {node: index for index, node in enumerate(program.graph.nodes)}
    for node in program.graph.nodes:
        if not isinstance(node.target, torch._ops.OpOverload) or _eval_dropout(node):
            continue
        for argument, value in zip(node.target._schema.arguments, node.args, strict=False):
            if argument.alias_info is None or not argument.alias_info.is_write:
                continue
            if not isinstance(value, torch.fx.Node) or value.op != "call_function":
                return True
            if _is_view(value) or any(_is_view(user) or order[user] > order[node]
                                      for user in value.users if user is not node):
                return True
    return False


def _eval_dropout(node) -> bool:
    """In-place dropout in eval mode writes nothing (EfficientNet's classifier has one)."""
    name = node.target._schema.name
    return name.endswith("dropout_") and len(node.args) > 2 and node.args[2] is False


def _is_view(node) -> bool:
    import operator

    import torch

    if node.target is operator.getitem:
        return True
    if not isinstance(node.target, torch._ops.OpOverload):
        return False
    returns = node.target._schema.returns  # a view returns Tensor(a), in-place ops Tensor(a!)
    return bool(returns) and returns[0].alias_info is not None and not returns[0].alias_info.is_write


def freeze(program) -> dict[int, str]:
    """Replace the program's parameter, buffer and constant inputs by `get_attr` nodes on
    its graph module (as torch-mlir's `import_frozen_program` does, but in a form its
    importer also accepts inside lists). Returns id(tensor) -> state name, for keys."""
    signature = program.graph_signature
    state = {**program.state_dict, **getattr(program, "constants", {})}
    lifted = {**signature.inputs_to_parameters, **signature.inputs_to_buffers,
              **signature.inputs_to_lifted_tensor_constants}
    from torch.fx.node import map_arg

    module, graph = program.graph_module, program.graph
    names: dict[int, str] = {}
    placeholders = [n for n in graph.nodes if n.op == "placeholder" and n.name in lifted]
    for index, node in enumerate(placeholders):
        state_name = lifted[node.name]
        tensor = state[state_name]
        attr_name = f"_sparsec_frozen_{index}"
        module.register_buffer(attr_name, tensor, persistent=False)
        names.setdefault(id(tensor), state_name)

        def fresh_get_attr(arg, node=node, attr_name=attr_name):
            # One get_attr node per use: torch-mlir binds a get_attr node's value at
            # each use and refuses to bind a node twice.
            if arg is not node:
                return arg
            with graph.inserting_before(node):
                replacement = graph.get_attr(attr_name)
            replacement.meta.update(node.meta)
            return replacement

        for user in list(node.users):
            user.args = map_arg(user.args, fresh_get_attr)
            user.kwargs = map_arg(user.kwargs, fresh_get_attr)
        graph.erase_node(node)
    return names


def import_program(program):
    """An exported program -> (torch-mlir module of func.func @main, its weights)."""
    require("torch_mlir")
    from torch_mlir import ir
    from torch_mlir.dialects import torch as torch_d
    from torch_mlir.extras.fx_importer import FxImporter

    names = freeze(program)
    resources = Resources()
    context = ir.Context()
    torch_d.register_dialect(context)
    importer = FxImporter(context=context, hooks=make_weight_hooks(names, resources))
    importer.import_stateless_graph(program.graph, func_name="main")
    return importer.module, resources


def import_model(model, example_inputs):
    """A PyTorch model -> an nn-dialect module whose `func.func @main` takes the model's
    inputs (shaped like `example_inputs`) and returns its outputs.

    The model is traced in eval mode (its training flags are restored afterwards).
    Raises `UnsupportedOpsError` listing every operator without a conversion."""
    from .convert import convert_module

    require("torch")
    with gc_paused():
        program = export(model, example_inputs)
        torch_module, resources = import_program(program)
        return convert_module(torch_module, resources)


@contextmanager
def gc_paused():
    """Pause the cyclic garbage collector: tracing and conversion allocate many small
    objects, and full collections over PyTorch's object graph cost 10-20% of an import."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
