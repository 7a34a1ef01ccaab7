"""Model specs on the command line -> (model, example inputs).

    torchvision:resnet50                 # a torchvision classification model, random weights
    zoo:bert_like_encoder                # a model of sparsec's test/benchmark zoo (frontend/zoo.py)
    path/to/model.py:make_model          # a factory in a Python file
    package.module:make_model            # a factory in an importable module

A factory returns a `torch.nn.Module` or a `(module, example_inputs)` pair; without example
inputs, `--input-shape` says what to feed it (float32 standard-normal, seed 0).
"""

from __future__ import annotations

import difflib
import importlib
import importlib.util
from pathlib import Path

from .errors import FrontendError, require

DEFAULT_IMAGE_SHAPE = (1, 3, 224, 224)
IMAGE_SHAPES = {"inception_v3": (1, 3, 299, 299)}


def load_model_spec(spec: str, input_shapes=None):
    source, sep, name = spec.rpartition(":")
    if not sep or not source or not name:
        raise FrontendError(f"error: model spec {spec!r}: expected torchvision:NAME, zoo:NAME "
                            "or path/to/file.py:factory")
    if source == "torchvision":
        model, inputs = _torchvision(name)
    elif source == "zoo":
        model, inputs = _zoo(name)
    else:
        model, inputs = _call_factory(spec, source, name)
    if input_shapes:
        inputs = random_inputs(input_shapes)
    if inputs is None:
        raise FrontendError(f"error: {spec} gives no example inputs: pass --input-shape")
    torch = require("torch")
    if not isinstance(model, torch.nn.Module):
        raise FrontendError(f"error: {spec} gave a {type(model).__name__}, not a "
                            "torch.nn.Module")
    return model.eval(), inputs


def random_inputs(shapes) -> tuple:
    torch = require("torch")
    generator = torch.Generator().manual_seed(0)
    return tuple(torch.randn(*shape, generator=generator) for shape in shapes)


def _torchvision(name: str):
    torchvision = require("torchvision")
    known = torchvision.models.list_models(module=torchvision.models)
    if name not in known:
        close = difflib.get_close_matches(name, known, n=3)
        hint = f" (did you mean {', '.join(close)}?)" if close else ""
        raise FrontendError(f"error: torchvision has no classification model {name!r}{hint}")
    model = torchvision.models.get_model(name, weights=None)
    return model, random_inputs([IMAGE_SHAPES.get(name, DEFAULT_IMAGE_SHAPE)])


def _zoo(name: str):
    from . import zoo

    if name not in zoo.CUSTOM:
        torchvision = require("torchvision")
        if name not in torchvision.models.list_models(module=torchvision.models):
            known = ", ".join(zoo.CUSTOM)
            raise FrontendError(f"error: the zoo has no model {name!r} (it has {known} and "
                                "every torchvision classification model)")
    return zoo.build(name)


def _call_factory(spec: str, source: str, name: str):
    module = _load_module(spec, source)
    factory = getattr(module, name, None)
    if factory is None:
        raise FrontendError(f"error: {source} has no attribute {name!r}")
    result = factory() if callable(factory) and not _is_module(factory) else factory
    if isinstance(result, tuple) and len(result) == 2:
        model, inputs = result
        torch = require("torch")
        inputs = (inputs,) if isinstance(inputs, torch.Tensor) else tuple(inputs)
        return model, inputs
    return result, None


def _is_module(value) -> bool:
    torch = require("torch")
    return isinstance(value, torch.nn.Module)


def _load_module(spec: str, source: str):
    if source.endswith(".py"):
        path = Path(source)
        if not path.is_file():
            raise FrontendError(f"error: model spec {spec!r}: no file {source}")
        module_spec = importlib.util.spec_from_file_location(f"_sparsec_model_{path.stem}",
                                                             path)
        module = importlib.util.module_from_spec(module_spec)
        module_spec.loader.exec_module(module)
        return module
    try:
        return importlib.import_module(source)
    except ImportError as e:
        raise FrontendError(f"error: model spec {spec!r}: cannot import {source}: {e}") from None
