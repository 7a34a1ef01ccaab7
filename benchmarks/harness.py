"""What every benchmark script shares: timing engines side by side, onnxruntime sessions,
and running one case in a child process.

    samples = interleaved({"sparsec": timer(lambda: fn(x)), "torch": timer(...)}, runs=20)
    result = run_child(__file__, ["--child", name, ...])     # the child writes JSON to -o

Each case runs in a fresh Python process, so one model's memory, threads and compile
caches never colour the next one's numbers.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PER_TURN = 2
"""Timed calls per turn: engines take turns in runs / PER_TURN rounds, so a slow phase of
the shared machine hits every engine alike. This machine has phases of several seconds in
which the same code runs up to 40% slower (ResNet-18 with patterns in one process: 16.6
ms for 5 calls, 22-24 ms for the next 11, then 17 ms again); in 4 rounds of 5 calls such
a phase fell on a few turns of one engine, and its median moved from 17.0 to 22.4 ms
between two runs while onnxruntime's stayed at 49.7 ms."""
SETTLE = 0.2
"""Seconds before each engine's turn in which the timing thread spins (see `interleaved`).
It spins rather than sleeps: this machine, left idle for 0.2 s between turns, falls after
a few seconds into a state in which code that lives in the L2 cache runs up to 40%
slower, and stays there while the pattern goes on. ResNet-18 with patterns, 3 calls after
each pause, medians over 8 s: 21.2-24.2 ms after sleeping, 15.5-16.5 ms after spinning,
in alternating processes. The state hits engines unequally
(in one interleaved run it slowed sparsec's sparse ResNet-18 by 38%, onnxruntime's dense
one by 15%), so the ratios came out of the machine's state rather than the code. A busy
server does not idle between requests either."""
WARM = 0.01
"""Seconds of untimed calls that start each turn, after the pause: the engine's code and
data must come back into the caches. One untimed call was not
enough for a sub-millisecond engine: ResNet-18's 64@56 layer with BCR 16x16 tiles at 90%
had a median of 0.77 ms in turns started by one call and 0.47 ms in turns started by 5,
20 or 50 ms of calls (and 0.45 ms called back to back), while torch's 2.7 ms convolution
was the same either way."""


def timer(fn):
    """A callable that runs `fn` once and returns its wall time in milliseconds."""
    def run() -> float:
        start = time.perf_counter()
        fn()
        return (time.perf_counter() - start) * 1e3
    return run


def interleaved(engines: dict, runs: int, warmup: int = 3) -> dict[str, list[float]]:
    """`runs` timed calls of each engine (ms), after `warmup` calls each, taking turns of
    PER_TURN calls. Before each turn the timing thread spins for SETTLE seconds and each turn
    starts with untimed calls for WARM seconds (at least one): the engine that ran before
    leaves its thread pool spinning for a while (onnxruntime's and OpenMP's workers
    busy-wait for the next task), and on 2 cores that steals the core the next engine's
    second thread needs. Without the pause, whichever engine followed onnxruntime lost up
    to 2x at 2 threads."""
    for run in engines.values():
        for _ in range(warmup):
            run()
    samples: dict[str, list[float]] = {name: [] for name in engines}
    for _ in range(-(-runs // PER_TURN)):
        for name, run in engines.items():
            settle_until = time.perf_counter() + SETTLE
            while time.perf_counter() < settle_until:
                pass  # spin, do not sleep: see SETTLE
            warm_until = time.perf_counter() + WARM
            run()
            while time.perf_counter() < warm_until:
                run()
            samples[name] += [run() for _ in range(PER_TURN)]
    return samples


def onnx_session(model, inputs, threads: int, folder: str):
    """onnxruntime on the model exported with torch.onnx (opset 17, legacy exporter), all
    graph optimisations on, `threads` intra-op threads."""
    import onnxruntime as ort
    import torch

    path = os.path.join(folder, "model.onnx")
    if not os.path.exists(path):
        torch.onnx.export(model, inputs, path, opset_version=17, dynamo=False)
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])


def run_child(script: str, arguments: list[str]) -> dict:
    """Run `script arguments... -o FILE` in a fresh interpreter and return the JSON it
    wrote, with its wall time; on failure {"failed": the last lines of its output}."""
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as f:
        out = f.name
    started = time.perf_counter()
    done = subprocess.run([sys.executable, script, *arguments, "-o", out],
                          capture_output=True, text=True)
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-12:]
        return {"failed": "\n".join(tail)}
    result = json.loads(Path(out).read_text())
    result["wall_s"] = time.perf_counter() - started
    return result
