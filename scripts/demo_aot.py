"""`make demo`, ahead of time: run a model's AArch64 object under qemu-aarch64 and compare
it with the reference interpreter (and the host JIT).

    python scripts/demo_aot.py MODEL.mlir AOT_DIR EXECUTABLE

AOT_DIR holds what `sparsec compile` wrote; EXECUTABLE is examples/aot/run_model.c linked
with its model.o. The input is standard normal from seed 0.
"""

import subprocess
import sys
import time
from pathlib import Path

import numpy as np

import sparsec
from sparsec.textio import parse_module


def main(model_path: str, aot_dir: str, executable: str) -> int:
    directory = Path(aot_dir)
    module = parse_module(Path(model_path).read_text(), model_path)
    x = np.random.default_rng(0).standard_normal((1, 3, 224, 224)).astype(np.float32)
    (directory / "input.bin").write_bytes(x.tobytes())
    command = ["qemu-aarch64", "-L", "/usr/aarch64-linux-gnu", executable,
               str(directory / "model.weights"), str(directory / "input.bin"),
               str(directory / "output.bin")]
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        print(f"{' '.join(command)} failed ({done.returncode}): {done.stderr}")
        return 1
    got = np.fromfile(directory / "output.bin", np.float32)
    print(f"ran under qemu-aarch64 in {seconds:.1f} s (emulated: not a device timing)")
    (reference,) = sparsec.interpret(module, x)
    scale = max(1.0, float(np.abs(reference).max()))
    error = float(np.abs(got - reference.reshape(-1)).max())
    print(f"max |aarch64 - interpreter| = {error:.3g} ({error / scale:.3g} of the output's "
          f"scale {scale:.3g})")
    jit = sparsec.compile(module)(x)
    print(f"max |aarch64 - host JIT|    = {float(np.abs(got - jit.reshape(-1)).max()):.3g}")
    return 0 if error <= 1e-4 * scale else 1


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
