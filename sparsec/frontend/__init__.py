"""The frontend: PyTorch models, torch-dialect .mlir files and .onnx files into the nn
dialect, through torch-mlir.

    import_model(model, example_inputs) -> ModuleOp           # torch.nn.Module (FX import)
    import_file(path, input_shapes=None) -> ModuleOp          # .mlir (torch dialect) or .onnx
    load_model_spec(spec, input_shapes=None) -> (model, inputs)   # "torchvision:resnet50", "f.py:make"

The pipeline: `torch_import` (torch.export + torch-mlir's FX importer, operators kept
whole, weights as numpy arrays through `weights`), `convert` (the walk over the torch
dialect, constant folding in PyTorch) and `torch_to_nn` (one conversion per aten op).
Every operator that cannot be converted is reported at once in an `UnsupportedOpsError`.

torch, torchvision and torch-mlir are optional dependencies (`pip install
'sparsec[torch]'`): they are imported only when a function here is called.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .errors import FrontendError, TorchNotInstalledError, UnsupportedOp, UnsupportedOpsError

if TYPE_CHECKING:
    from xdsl.dialects.builtin import ModuleOp

__all__ = [
    "FrontendError", "TorchNotInstalledError", "UnsupportedOp", "UnsupportedOpsError",
    "import_file", "import_model", "load_model_spec",
]


def import_model(model, example_inputs) -> ModuleOp:
    """A PyTorch model -> an nn module whose `func.func @main` takes inputs shaped like
    `example_inputs` (a tensor or a tuple of tensors) and returns the model's outputs.

    The model is traced in eval mode; its weights become `nn.constant`s over numpy copies.
    """
    from .torch_import import import_model as _import_model

    return _import_model(model, example_inputs)


def import_file(path: str, input_shapes=None) -> ModuleOp:
    """A torch-dialect `.mlir` file (pretty or generic form, weights in its
    dialect_resources trailer) or an `.onnx` model -> an nn module.

    `input_shapes` (one shape per input) fixes an ONNX model's dynamic dimensions; for
    .mlir files it must match the shapes the file already has."""
    from .file_import import import_file as _import_file

    return _import_file(path, input_shapes)


def load_model_spec(spec: str, input_shapes=None):
    """`torchvision:NAME` or `path/to/file.py:factory` -> (model in eval mode, example
    inputs). `input_shapes` overrides the default example input shapes."""
    from .model_spec import load_model_spec as _load_model_spec

    return _load_model_spec(spec, input_shapes)
