"""`make demo`, part 2: a real torchvision model, imported and run by sparsec, against PyTorch.

    python scripts/demo_compare.py [MODEL]        # default resnet18

Imports the model (random weights: nothing can be downloaded), runs the reference
interpreter (and the JIT when available), and prints the largest deviation from PyTorch
relative to the output's scale.
"""

import sys
import time

import numpy as np
import torch
import torchvision

import sparsec


def main(name: str = "resnet18") -> int:
    torch.manual_seed(0)
    model = getattr(torchvision.models, name)(weights=None).eval()
    x = torch.randn(1, 3, 224, 224)
    with torch.inference_mode():
        expected = model(x).numpy()

    start = time.perf_counter()
    module = sparsec.import_model(model, (x,))
    print(f"imported {name} into the nn dialect in {time.perf_counter() - start:.2f} s")

    start = time.perf_counter()
    (got,) = sparsec.interpret(module, x.numpy())
    error = np.abs(got - expected).max() / np.abs(expected).max()
    print(f"reference interpreter: {time.perf_counter() - start:.2f} s, "
          f"max |error| / max |output| = {error:.2e}")
    return 0 if error < 1e-4 else 1


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
