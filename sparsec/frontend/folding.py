"""Constant folding by running the aten op in PyTorch.

An op whose tensor operands are all known at import time (weights, literals, results of
other folded ops) is evaluated here instead of being converted: `class_token.expand(...)`
in ViT, the zeros a GRU starts from, index arithmetic on buffers. PyTorch itself defines
the result, so every aten op folds, converted to nn or not.
"""

from __future__ import annotations

import numpy as np

from .torch_ir import short_name

# Ops whose value is not a function of their operands: never folded.
FOLD_DENYLIST = frozenset({
    "aten.rand.default", "aten.randn.default", "aten.randint.default", "aten.rand_like.default",
    "aten.randn_like.default", "aten.randint_like.default", "aten.normal.Tensor_float",
    "aten.bernoulli.default", "aten.bernoulli.p", "aten.multinomial.default",
    "aten.uniform.default", "aten.uniform_.default", "aten.normal_.default",
    "aten.empty.memory_format", "aten.empty_like.default", "aten.empty_strided.default",
    "aten.native_dropout.default",
})


def torch_op(qualified: str):
    """aten.add.Tensor -> torch.ops.aten.add.Tensor."""
    import torch

    namespace, name, overload = qualified.split(".")
    return getattr(getattr(getattr(torch.ops, namespace), name), overload)


def fold(name: str, args: list):
    """Run op `name` (torch.aten.X.overload) on Python values and numpy arrays; returns
    numpy arrays for tensors, lists for lists, Python scalars as they are."""
    op = torch_op(short_name(name))
    positional, keywords = [], {}
    for argument, value in zip(op._schema.arguments, args, strict=False):
        value = _to_torch(value)
        if argument.kwarg_only:
            keywords[argument.name] = value
        else:
            positional.append(value)
    return _from_torch(op(*positional, **keywords))


def _to_torch(value):
    import torch

    if isinstance(value, np.ndarray):
        return torch.from_numpy(np.array(value))  # a writeable copy
    if isinstance(value, list):
        return [_to_torch(v) for v in value]
    return value


def _from_torch(value):
    import torch

    if isinstance(value, torch.Tensor):
        return value.detach().cpu().contiguous().numpy()
    if isinstance(value, tuple | list):
        return [_from_torch(v) for v in value]
    return value
