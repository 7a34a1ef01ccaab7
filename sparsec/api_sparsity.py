"""`sparsec.prune`: structured pruning on the PyTorch side, for fine-tuning.

    pruning = sparsec.prune(model, sparsec.BCR(block=(8, 4), rate=0.8))   # masks applied
    pruning.finetune(loss_fn, batches, optimizer, epochs=3)  # or, in your own loop:
    ...; optimizer.step(); pruning.apply()                   # zeros stay zeros

The masks are the ones the `sparsify` pass computes on the imported model (the same
functions, sparsec.transforms.sparsity.prune), so a fine-tuned model imported later is
found pruned by `sparsify` with no options (structure detected from the zeros). torch is
imported only when these functions run.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from sparsec.dialects.sparse import SparseEncodingAttr
from sparsec.transforms.sparsity.prune import prune_weights
from sparsec.transforms.sparsity.schemes import Scheme


class Pruning:
    """The masks `sparsec.prune` computed, and the means to keep them applied."""

    def __init__(self, model: Any, parameters: dict[str, Any], masks: dict[str, Any],
                 encodings: dict[str, SparseEncodingAttr]):
        self.model = model
        self.parameters = parameters
        self.masks = masks
        """Parameter name -> bool tensor (True = kept), for every pruned weight."""
        self.encodings = encodings
        """Parameter name -> the #sparse encoding the weight will be packed in."""

    def apply(self) -> None:
        """Zero the pruned weights again (call after every optimiser step)."""
        import torch

        with torch.no_grad():
            for name, mask in self.masks.items():
                self.parameters[name].masked_fill_(~mask, 0)

    def sparsity(self) -> dict[str, float]:
        """Fraction of zeros of each pruned weight, now."""
        return {name: 1 - int(self.parameters[name].count_nonzero()) / mask.numel()
                for name, mask in self.masks.items()}

    def finetune(self, loss_fn: Callable[[Any, Any], Any], batches: Iterable[Any],
                 optimizer: Any, epochs: int = 1) -> list[float]:
        """Masked retraining, as the papers do after pruning: for each batch,
        `loss_fn(model, batch).backward()`, `optimizer.step()`, then `apply()`. `batches`
        is iterated once per epoch (a DataLoader, a list). Returns each epoch's mean
        loss."""
        self.model.train()
        means = []
        for _ in range(epochs):
            total, count = 0.0, 0
            for batch in batches:
                optimizer.zero_grad()
                loss = loss_fn(self.model, batch)
                loss.backward()
                optimizer.step()
                self.apply()
                total, count = total + float(loss.detach()), count + 1
            means.append(total / max(count, 1))
        return means

    def __repr__(self) -> str:
        lines = [f"  {name}: {self.encodings[name]}, {sparsity:.1%} zeros"
                 for name, sparsity in self.sparsity().items()]
        return "Pruning(\n" + "\n".join(lines) + "\n)"


def prunable_weights(model: Any) -> dict[str, Any]:
    """The weights of the model's nn.Conv2d and nn.Linear layers, and the packed input
    projection of nn.MultiheadAttention (a linear weight once imported, so `sparsify`
    prunes it too), by parameter name."""
    import torch

    weights = {}
    for name, module in model.named_modules():
        prefix = f"{name}." if name else ""
        if isinstance(module, torch.nn.Conv2d | torch.nn.Linear):
            weights[f"{prefix}weight"] = module.weight
        elif isinstance(module, torch.nn.MultiheadAttention) and \
                module.in_proj_weight is not None:
            weights[f"{prefix}in_proj_weight"] = module.in_proj_weight
    return weights


def prune(model: Any, scheme: Scheme) -> Pruning:
    """Prune `model` (a torch.nn.Module) in place to `scheme` (sparsec.BCR, sparsec.Pattern,
    or the CSR / BSR baselines of sparsec.transforms.sparsity) and return the masks,
    with `apply()` to re-apply them after each optimiser step. Conv2d and Linear weights
    are pruned; a weight the scheme does not fit (a block that does not divide its GEMM
    view) is left dense and has no mask."""
    import torch

    parameters = prunable_weights(model)
    arrays = {name: _numpy(p) for name, p in parameters.items()}
    pruned = prune_weights(arrays, scheme)
    masks = {name: torch.from_numpy(np.ascontiguousarray(p.mask)).to(parameters[name].device)
             for name, p in pruned.items()}
    encodings = {name: p.encoding for name, p in pruned.items()}
    kept = {name: parameters[name] for name in pruned}
    pruning = Pruning(model, kept, masks, encodings)
    pruning.apply()
    return pruning


def _numpy(parameter: Any) -> np.ndarray:
    """The values to rank by: float64 keeps the order of any float dtype (bf16 included)."""
    return parameter.detach().to("cpu").double().numpy()
