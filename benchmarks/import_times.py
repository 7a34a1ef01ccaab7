"""How long PyTorch model -> nn module takes (sparsec.frontend.import_model).

    python benchmarks/import_times.py                      # default models, table + JSON
    python benchmarks/import_times.py resnet18 resnet50 --repeat 5 -o build/import_times.json

Each model runs in a fresh Python process (torch imported, model built, then timed):
- cold: the first import_model call in the process, which also pays torch.export's and
  torch-mlir's one-time start-up (what `sparsec import` on the command line costs, minus
  `import torch`);
- warm: the median of --repeat further calls, split into torch.export, torch-mlir's FX
  import (weights included) and the conversion to nn.
Random weights, batch 1, eval mode. The machine is shared: compare numbers from one run.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

DEFAULT_MODELS = ["resnet18", "resnet50", "mobilenet_v2", "mobilenet_v3_large",
                  "efficientnet_b0", "vgg16", "vit_b_16", "bert_like_encoder", "gru", "lstm"]
TARGETS = {"resnet18": 2.0, "resnet50": 5.0}  # seconds, cold (issue 3)


def build(name: str):
    """(model, example inputs) for a benchmark name: the models of sparsec/frontend/zoo.py
    at full size (GRU/LSTM: 2 x 512, sequence 100)."""
    from sparsec.frontend import zoo

    return zoo.build(name)


def measure(name: str, repeat: int) -> dict:
    """Runs inside the child process."""
    from sparsec.frontend import import_model
    from sparsec.frontend.convert import convert_module
    from sparsec.frontend.torch_import import export, gc_paused, import_program

    model, inputs = build(name)
    start = time.perf_counter()
    module = import_model(model, inputs)
    cold = time.perf_counter() - start
    phases = {"export": [], "fx_import": [], "to_nn": [], "total": []}
    for _ in range(repeat):
        with gc_paused():
            t0 = time.perf_counter()
            program = export(model, inputs)
            t1 = time.perf_counter()
            torch_module, resources = import_program(program)
            t2 = time.perf_counter()
            convert_module(torch_module, resources)
            t3 = time.perf_counter()
        for key, seconds in zip(phases, (t1 - t0, t2 - t1, t3 - t2, t3 - t0), strict=True):
            phases[key].append(seconds)
    ops = sum(1 for op in module.walk() if op.name.startswith("nn."))
    params = sum(p.numel() for p in model.parameters())
    return {"model": name, "cold_s": cold, "nn_ops": ops, "parameters": params,
            **{f"warm_{k}_s": statistics.median(v) for k, v in phases.items()}}


def run_child(name: str, repeat: int) -> dict:
    here = str(Path(__file__).parent)
    code = (f"import json, sys; sys.path.insert(0, {here!r}); import import_times as b; "
            f"print(json.dumps(b.measure({name!r}, {repeat})))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    if done.returncode != 0:
        return {"model": name, "error": done.stderr.strip().splitlines()[-1]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def table(rows: list[dict]) -> str:
    head = ("| model | parameters | nn ops | cold s | warm s | export | FX import | to nn |"
            " target |\n|---|---|---|---|---|---|---|---|---|")
    lines = [head]
    for r in rows:
        if "error" in r:
            lines.append(f"| {r['model']} | failed: {r['error']} |")
            continue
        target = TARGETS.get(r["model"])
        verdict = "" if target is None else (
            f"<= {target:g} s {'ok' if r['cold_s'] <= target else 'MISSED'}")
        lines.append(
            f"| {r['model']} | {r['parameters'] / 1e6:.1f} M | {r['nn_ops']} | "
            f"{r['cold_s']:.2f} | {r['warm_total_s']:.2f} | {r['warm_export_s']:.2f} | "
            f"{r['warm_fx_import_s']:.2f} | {r['warm_to_nn_s']:.2f} | {verdict} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("models", nargs="*", default=DEFAULT_MODELS)
    parser.add_argument("--repeat", type=int, default=3, help="warm runs per model")
    parser.add_argument("-o", "--output", default="build/import_times.json")
    args = parser.parse_args(argv)
    rows = []
    for name in args.models:
        rows.append(run_child(name, args.repeat))
        print(f"{name}: {rows[-1]}", file=sys.stderr, flush=True)
    print(table(rows))
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    Path(args.output).write_text(json.dumps(rows, indent=2) + "\n")
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
