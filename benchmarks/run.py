"""sparsec vs PyTorch eager vs onnxruntime, side by side (`make bench`).

    python benchmarks/run.py                                   # every model, 1 and 2 threads
    python benchmarks/run.py resnet18 gru --threads 1 --runs 30 -o build/bench.json

Each model runs in a fresh Python process, where the three engines are measured in one
run on the same input: PyTorch eager under `torch.inference_mode`, onnxruntime (the model
exported with torch.onnx), and sparsec (`sparsec.compile` of the imported nn module). For
each thread count, after a warm-up the engines take turns in rounds of a few calls, until
each has `--runs` timed calls; the table shows medians in milliseconds and the ratio
sparsec / onnxruntime. sparsec's output is checked against PyTorch's (max |difference|),
and its per-kernel report for one thread goes into the JSON (`benchmarks/README.md` reads
it: where the time goes).

Random weights, batch 1, float32. The machine is shared and noisy: compare the ratios of
one run, not absolute numbers across runs.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import harness  # benchmarks/harness.py: this script's folder is on sys.path

MODELS = ["resnet18", "resnet50", "mobilenet_v2", "efficientnet_b0", "vgg16",
          "bert_like_encoder", "gru"]


# --- the models (random weights, eval mode, batch 1) -------------------------------------


def build(name: str):
    """(model, example inputs) for a benchmark name: the models of sparsec/frontend/zoo.py
    at full size (GRU/LSTM: 2 x 512, sequence 100)."""
    from sparsec.frontend import zoo

    return zoo.build(name)


# --- one model, in a child process -------------------------------------------------------


def measure(name: str, thread_counts: list[int], runs: int) -> dict:
    import numpy as np
    import torch

    import sparsec

    model, inputs = build(name)
    arrays = [t.numpy() for t in inputs]
    with torch.inference_mode():
        expected = model(*inputs).numpy()
    result: dict = {"model": name, "threads": {}}
    started = time.perf_counter()
    module = sparsec.import_model(model, inputs)
    result["import_s"] = time.perf_counter() - started
    folder = tempfile.mkdtemp(prefix="sparsec-bench-")
    for threads in thread_counts:
        entry: dict = {}
        started = time.perf_counter()
        compiled = sparsec.compile(module, threads=threads)
        entry["compile_s"] = time.perf_counter() - started
        entry["compile_cached"] = compiled.from_cache
        got = compiled(*arrays)
        entry["max_abs_error"] = float(np.max(np.abs(got - expected)))
        entry["output_scale"] = float(np.max(np.abs(expected)))
        session = harness.onnx_session(model, inputs, threads, folder)
        feed = {i.name: a for i, a in zip(session.get_inputs(), arrays, strict=True)}
        torch.set_num_threads(threads)

        def eager():
            with torch.inference_mode():
                model(*inputs)

        samples = harness.interleaved({
            # Defaults bind this iteration's objects (the timers run before the loop moves on).
            "sparsec": harness.timer(lambda fn=compiled, xs=arrays: fn(*xs)),
            "torch": harness.timer(eager),
            "onnxruntime": harness.timer(lambda s=session, f=feed: s.run(None, f)),
        }, runs)
        entry["ms"] = {k: statistics.median(v) for k, v in samples.items()}
        entry["runs"] = {k: len(v) for k, v in samples.items()}
        if threads == thread_counts[0]:
            rows = compiled.profile(*arrays, runs=5)
            total = sum(r["ms"] for r in rows) or 1.0
            entry["kernels"] = sorted(
                ({"name": r["name"], "ops": r["ops"], "ms": r["ms"],
                  "share": r["ms"] / total, "gflops": r["flops"] / 1e9,
                  "gflop_per_s": r["flops"] / 1e6 / max(r["ms"], 1e-6),
                  "mb": r["bytes"] / 1e6} for r in rows),
                key=lambda r: -r["ms"])
            entry["arena"] = compiled.arena
            entry["flops"] = sum(r["flops"] for r in rows)
        result["threads"][str(threads)] = entry
    return result


# --- the parent: one child per model, then the table -------------------------------------


def run_child(name: str, threads: list[int], runs: int) -> dict:
    return {"model": name, **harness.run_child(__file__, [
        "--child", name, "--threads", ",".join(map(str, threads)), "--runs", str(runs)])}


def table(results: list[dict], threads: list[int]) -> str:
    lines = ["| model | threads | sparsec ms | torch eager ms | onnxruntime ms | "
             "sparsec / onnxruntime | sparsec / eager | max abs error | compile s |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        if "failed" in r:
            lines.append(f"| {r['model']} | - | failed: {r['failed'].splitlines()[-1][:80]} "
                         "| | | | | | |")
            continue
        for t in threads:
            e = r["threads"].get(str(t))
            if e is None:
                continue
            ms = e["ms"]
            lines.append(
                f"| {r['model']} | {t} | {ms['sparsec']:.2f} | {ms['torch']:.2f} | "
                f"{ms['onnxruntime']:.2f} | {ms['sparsec'] / ms['onnxruntime']:.2f} | "
                f"{ms['sparsec'] / ms['torch']:.2f} | {e['max_abs_error']:.1e} | "
                f"{e['compile_s']:.1f}{' (cached)' if e['compile_cached'] else ''} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("models", nargs="*", default=MODELS, help=f"default: {MODELS}")
    parser.add_argument("--threads", default="1,2", help="thread counts (default 1,2)")
    parser.add_argument("--runs", type=int, default=20, help="timed calls per engine "
                                                             "(default 20)")
    parser.add_argument("-o", "--output", default="build/bench.json", help="JSON results")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    threads = [int(t) for t in args.threads.split(",")]
    if args.child:
        Path(args.output).write_text(json.dumps(measure(args.child, threads, args.runs)))
        return 0
    results = []
    for name in args.models:
        print(f"{name} ...", file=sys.stderr, flush=True)
        results.append(run_child(name, threads, args.runs))
    text = table(results, threads)
    print(text)
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    Path(args.output).write_text(json.dumps({"results": results, "threads": threads,
                                             "runs": args.runs}, indent=1))
    print(f"\nwrote {args.output}", file=sys.stderr)
    return 1 if any("failed" in r for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
