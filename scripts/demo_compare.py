"""`make demo`, part 2: a real torchvision model, imported and run by sparsec, against PyTorch.

    python scripts/demo_compare.py [MODEL]        # default resnet18

Builds the model from sparsec's zoo (random weights: nothing can be downloaded), imports
it, runs the reference interpreter and the JIT (`sparsec.compile`, one thread), and prints
for each the largest deviation from PyTorch relative to the output's scale, and the
latency of PyTorch eager and of the compiled model (median of 10 calls).
"""

import statistics
import sys
import time

import numpy as np
import torch

import sparsec
from sparsec.frontend import zoo

TOLERANCE = 1e-4
"""max |error| / max |output| accepted (float32 kernels summing in different orders)."""


def median_ms(fn, runs: int = 10) -> float:
    fn()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1e3)
    return statistics.median(times)


def main(name: str = "resnet18") -> int:
    model, (x,) = zoo.build(name)
    with torch.inference_mode():
        expected = model(x).numpy()
    scale = np.abs(expected).max()

    start = time.perf_counter()
    module = sparsec.import_model(model, (x,))
    print(f"imported {name} into the nn dialect in {time.perf_counter() - start:.2f} s")

    start = time.perf_counter()
    (got,) = sparsec.interpret(module, x.numpy())
    interpreted = np.abs(got - expected).max() / scale
    print(f"reference interpreter: {time.perf_counter() - start:.2f} s, "
          f"max |error| / max |output| = {interpreted:.2e}")

    start = time.perf_counter()
    fn = sparsec.compile(module, threads=1)
    cached = " (from the compile cache)" if fn.from_cache else ""
    print(f"sparsec.compile: {time.perf_counter() - start:.2f} s{cached}")
    compiled = np.abs(fn(x).numpy() - expected).max() / scale
    torch.set_num_threads(1)
    with torch.inference_mode():
        eager_ms = median_ms(lambda: model(x))
    jit_ms = median_ms(lambda: fn(x))
    print(f"JIT: max |error| / max |output| = {compiled:.2e}; one thread: sparsec "
          f"{jit_ms:.1f} ms, PyTorch eager {eager_ms:.1f} ms (ratio {jit_ms / eager_ms:.2f})")
    return 0 if max(interpreted, compiled) < TOLERANCE else 1


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
