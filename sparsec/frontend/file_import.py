"""Files into the nn dialect: torch-dialect `.mlir` (torch-mlir's output, pretty or
generic form) and `.onnx` (through torch-mlir's ONNX importer and its
`convert-torch-onnx-to-torch` pass).

Both are parsed into torch-mlir's own IR, so the walk in `convert` is the same as for a
PyTorch model; only the weights arrive differently (`weights.Resources`).
"""

from __future__ import annotations

import re
from pathlib import Path

from .errors import FrontendError, require
from .weights import Resources, split_resources


def import_file(path: str, input_shapes=None):
    from .convert import convert_module

    suffix = Path(path).suffix
    if suffix == ".mlir":
        torch_module, resources = read_torch_mlir(path)
    elif suffix == ".onnx":
        torch_module, resources = read_onnx(path, input_shapes)
    else:
        raise FrontendError(f"error: {path}: expected a .mlir (torch dialect) or .onnx file")
    if input_shapes:
        _check_input_shapes(path, torch_module, input_shapes)
    return convert_module(torch_module, resources, filename=path)


def _context():
    require("torch_mlir")
    from torch_mlir import ir
    from torch_mlir.dialects import torch as torch_d

    context = ir.Context()
    torch_d.register_dialect(context)
    return context


def _read_text(path: str) -> str:
    try:
        return Path(path).read_text()
    except OSError as e:
        raise FrontendError(f"error: cannot read {path}: {e.strerror}") from None


# torch-mlir's raw FX import prints in-place ops (`torch.aten.relu_`) on value tensors,
# which its own verifier rejects when parsing; they are read as their value-semantics
# twins (`torch.aten.relu`), which is how the FX import meant them.
_IN_PLACE = re.compile(r'\b(torch\.aten\.[A-Za-z0-9_]*?[A-Za-z0-9])_(\.[A-Za-z0-9_]+)?(?=["\s(])')


def read_torch_mlir(path: str):
    """A torch-dialect .mlir file -> (torch-mlir module, weights from its trailer)."""
    from torch_mlir import ir

    try:
        text, resources = split_resources(_read_text(path))
    except ValueError as e:
        raise FrontendError(f"{path}: error: malformed dialect_resources trailer: {e}") from None
    text = _IN_PLACE.sub(r"\1\2", text)
    context = _context()
    try:
        module = ir.Module.parse(text, context)
    except ir.MLIRError as e:
        message = _format_mlir_error(path, e)
        if "Dialect `nn' not found" in message:
            message += ("\nnote: this file is already in the nn dialect (`sparsec import` "
                        "reads torch-mlir's torch dialect); use `sparsec opt` or `sparsec run`")
        raise FrontendError(message) from None
    return module, resources


def _format_mlir_error(path: str, error) -> str:
    """MLIR's diagnostics as `file:line:col: error: message` lines."""
    lines = []
    for diagnostic in error.error_diagnostics:
        where = str(diagnostic.location)
        if where.startswith('loc("-":'):
            where = path + ":" + where.removeprefix('loc("-":').removesuffix(")")
        else:  # an ONNX node name
            where = f"{path} ({where.removeprefix('loc(').removesuffix(')')})"
        lines.append(f"{where}: error: {diagnostic.message}")
    return "\n".join(lines) or f"{path}: error: {error}"


def read_onnx(path: str, input_shapes=None):
    """An .onnx model -> (torch-dialect module of aten ops, its initializers).

    `input_shapes` fixes the model's dynamic input dimensions; ONNX shape inference then
    gives every value a static type."""
    onnx = require("onnx")
    from onnx import numpy_helper
    from torch_mlir import ir
    from torch_mlir.extras import onnx_importer
    from torch_mlir.passmanager import PassManager

    try:
        model = onnx.load(path)
    except Exception as e:  # protobuf's DecodeError, OSError, ...
        raise FrontendError(f"error: cannot load {path}: {e}") from None
    if input_shapes:
        _set_input_shapes(path, model, input_shapes)
    model = onnx.shape_inference.infer_shapes(model, data_prop=True)
    context = _context()
    info = onnx_importer.ModelInfo(model)
    module = info.create_module(context=context)
    importer = onnx_importer.NodeImporter.define_function(info.main_graph, module.operation)
    try:
        importer.import_all()
    except onnx_importer.OnnxImportError as e:
        raise FrontendError(f"error: {path}: {e}") from None

    resources = Resources()
    initializers = info.main_graph.initializer_map
    for op in _ops(module):
        if op.operation.name == "torch.operator" and "torch.onnx.value" in op.attributes:
            name = str(op.location).removeprefix('loc("').removesuffix('")')
            attr = op.attributes["torch.onnx.value"]
            if name in initializers and str(attr).startswith("dense_resource"):
                from .weights import resource_key

                resources.add_array(resource_key(attr),
                                    numpy_helper.to_array(initializers[name]))
    # Only the ONNX -> aten conversion: torch-mlir's backend pipeline would decompose
    # batch_norm, linear and layer_norm again, and canonicalize would copy every weight.
    with context:
        try:
            PassManager.parse("builtin.module(func.func(convert-torch-onnx-to-torch))").run(
                module.operation)
        except ir.MLIRError as e:
            raise FrontendError(_format_mlir_error(path, e)) from None
    return module, resources


def _ops(module):
    for function in module.body.operations:
        for block in function.regions[0].blocks:
            yield from block.operations


def _set_input_shapes(path: str, model, input_shapes) -> None:
    initializers = {i.name for i in model.graph.initializer}
    inputs = [i for i in model.graph.input if i.name not in initializers]
    if len(inputs) != len(input_shapes):
        raise FrontendError(f"error: {path} has {len(inputs)} inputs, got "
                            f"{len(input_shapes)} --input-shape")
    for value, shape in zip(inputs, input_shapes, strict=True):
        dims = value.type.tensor_type.shape.dim
        if len(dims) != len(shape):
            raise FrontendError(f"error: {path}: input {value.name} has rank {len(dims)}, "
                                f"--input-shape gives {list(shape)}")
        for dim, size in zip(dims, shape, strict=True):
            if dim.HasField("dim_value") and dim.dim_value != size:
                raise FrontendError(f"error: {path}: input {value.name} has shape "
                                    f"{[d.dim_value or d.dim_param for d in dims]}, "
                                    f"--input-shape gives {list(shape)}")
            dim.dim_value = size


def _check_input_shapes(path: str, torch_module, input_shapes) -> None:
    from . import torch_ir
    from .convert import _main_function

    block = _main_function(torch_module).regions[0].blocks[0]
    shapes = [torch_ir.type_of(arg).shape for arg in block.arguments]
    wanted = [tuple(s) for s in input_shapes]
    if shapes != wanted:
        raise FrontendError(f"error: {path}: @main takes inputs of shapes {shapes}, "
                            f"--input-shape gives {wanted} (a .mlir file's shapes are fixed)")
