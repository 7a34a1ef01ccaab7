"""DNNFusion's evaluation on sparsec: fused layer counts (Table 5) and fused vs unfused speed.

    python benchmarks/fusion.py counts                       # layers and bytes, every model
    python benchmarks/fusion.py speed resnet18 --runs 20     # end to end, one model
    python benchmarks/fusion.py all -o build/fusion.json     # both (the README's numbers)

`counts`: operators after import (constants are weights, not layers: DNNFusion counts the
same way) and intermediate bytes (every operator's result), then the layers and bytes
left after `algebraic,fuse` with yellow cells broken (`fuse{profile=false}`), decided by
timing (`fuse{profile=true}`: JIT on this machine, the profile database in
$SPARSEC_PROFILE_DIR or ~/.cache/sparsec/profile; its measurement count says how many
were not yet known), and fused whenever legal (an oracle that always says fusion pays:
the bound the table allows). For each, the decisions that stopped growth, by outcome and
candidate operator: which Table 3 cells keep the count up.

`speed`: one process per model (like benchmarks/run.py, whose model builders it uses);
in that process the engines take turns in rounds on the same input after a warm-up:
sparsec with fusion off (`compile(fusion=False)`: one kernel per operator, the paper's
OurB), sparsec's default (no passes; the generator fuses element-wise ops into their
producer's kernel greedily), sparsec with DNNFusion's plan driving the kernels
(`passes="algebraic,fuse"`, and with `fuse{profile=true}`), PyTorch eager and
onnxruntime. Medians in ms; every sparsec output is checked against PyTorch's.

The machine is shared and noisy: compare ratios within one run, not absolute numbers
across runs. One thread (the table's), random weights, batch 1, float32.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import harness  # noqa: E402

from sparsec.frontend.zoo import build  # noqa: E402

COUNT_MODELS = ["efficientnet_b0", "vgg16", "resnet50", "bert_like_encoder", "resnet18",
                "mobilenet_v2"]
SPEED_MODELS = ["resnet18", "mobilenet_v2", "efficientnet_b0", "bert_like_encoder"]
PAPER = {"efficientnet_b0": (309, 97), "vgg16": (51, 17)}
"""DNNFusion Table 5: (layers before, after) for the models we share with it."""

FUSED = "algebraic,fuse"
FUSED_PROFILED = "algebraic,fuse{profile=true}"


# --- layer counts ---------------------------------------------------------------------------


class FusionAlwaysPays:
    """Every yellow cell fuses: the largest groups Table 3 allows."""

    def latency(self, ops) -> float:
        return 1.0


def _plan(module, oracle) -> dict:
    from sparsec.lowering.pipelines import run_spec
    from sparsec.transforms.fusion import fuse, fusion_report

    fused = module.clone()
    run_spec(fused, "algebraic")
    started = time.perf_counter()
    plans = fuse(fused, oracle=oracle)
    seconds = time.perf_counter() - started
    report = fusion_report(fused)
    stops = Counter(f"{d.outcome.value}: {d.candidate.name}" for p in plans
                    for d in p.decisions if d.outcome.value != "fused")
    return {"layers": report.layers_after, "bytes": report.bytes_after,
            "layers_after_algebraic": report.layers_before, "plan_s": seconds,
            "groups": [[g.mapping, list(g.ops)] for f in report.functions for g in f.groups],
            "stops": dict(stops.most_common())}


def counts(name: str) -> dict:
    import sparsec
    from sparsec.runtime.profile import JitOracle
    from sparsec.transforms.fusion import fusion_report

    model, inputs = build(name)
    module = sparsec.import_model(model, inputs)
    report = fusion_report(module)
    result = {"model": name, "layers": report.layers_before, "bytes": report.bytes_before}
    result["profile=false"] = _plan(module, None)
    oracle = JitOracle()
    result["profile=true"] = _plan(module, oracle)
    result["profile=true"]["measurements"] = oracle.measurements
    result["every yellow"] = _plan(module, FusionAlwaysPays())
    return result


def counts_table(results: list[dict]) -> str:
    lines = ["| model | layers after import | profile=false | profile=true | every yellow "
             "fused | DNNFusion (Table 5) | intermediate MB before | after (profile=false) "
             "| after (profile=true) |", "|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        if "failed" in r:
            lines.append(f"| {r['model']} | failed: {r['failed'].splitlines()[-1][:80]} |"
                         + " |" * 7)
            continue
        paper = PAPER.get(r["model"])
        lines.append(
            f"| {r['model']} | {r['layers']} | {r['profile=false']['layers']} | "
            f"{r['profile=true']['layers']} ({r['profile=true']['measurements']} timed) | "
            f"{r['every yellow']['layers']} | {f'{paper[0]} -> {paper[1]}' if paper else '-'} | "
            f"{r['bytes'] / 1e6:.1f} | {r['profile=false']['bytes'] / 1e6:.1f} | "
            f"{r['profile=true']['bytes'] / 1e6:.1f} |")
    return "\n".join(lines)


# --- end-to-end speed -----------------------------------------------------------------------


def speed(name: str, runs: int) -> dict:
    import numpy as np
    import torch

    import sparsec

    torch.set_num_threads(1)
    model, inputs = build(name)
    arrays = [t.numpy() for t in inputs]
    with torch.inference_mode():
        expected = model(*inputs).numpy()
    module = sparsec.import_model(model, inputs)
    configs = {"unfused": {"fusion": False}, "default": {}, "fused": {"passes": FUSED},
               "fused+profile": {"passes": FUSED_PROFILED}}
    result: dict = {"model": name, "compile_s": {}, "kernels": {}, "max_abs_error": {},
                    "fusion": {}}
    engines = {}
    for label, options in configs.items():
        started = time.perf_counter()
        compiled = sparsec.compile(module, threads=1, **options)
        result["compile_s"][label] = time.perf_counter() - started
        result["kernels"][label] = len(compiled.kernels)
        got = compiled(*arrays)
        result["max_abs_error"][label] = float(np.max(np.abs(got - expected)))
        summary = compiled.fusion_summary
        result["fusion"][label] = {k: summary[k] for k in ("mode", "layers_before",
                                                           "layers_after", "bytes_before",
                                                           "bytes_after")}
        result["fusion"][label]["split_groups"] = sum(len(g["kernels"]) > 1
                                                      for g in summary["groups"])
        engines[label] = harness.timer(lambda fn=compiled, xs=arrays: fn(*xs))
    result["output_scale"] = float(np.max(np.abs(expected)))
    folder = tempfile.mkdtemp(prefix="sparsec-fusion-")
    session = harness.onnx_session(model, inputs, 1, folder)
    feed = {i.name: a for i, a in zip(session.get_inputs(), arrays, strict=True)}

    def eager():
        with torch.inference_mode():
            model(*inputs)

    engines["torch"] = harness.timer(eager)
    engines["onnxruntime"] = harness.timer(lambda: session.run(None, feed))
    samples = harness.interleaved(engines, runs)
    result["ms"] = {k: statistics.median(v) for k, v in samples.items()}
    result["runs"] = runs
    return result


def speed_table(results: list[dict]) -> str:
    lines = ["| model | unfused ms | default ms | fused ms | fused+profile ms | torch ms | "
             "onnxruntime ms | unfused / fused | unfused / default | fused / onnxruntime | "
             "default / onnxruntime | kernels (unfused, default, fused) | max abs error |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        if "failed" in r:
            lines.append(f"| {r['model']} | failed: {r['failed'].splitlines()[-1][:80]} |"
                         + " |" * 11)
            continue
        ms, k = r["ms"], r["kernels"]
        lines.append(
            f"| {r['model']} | {ms['unfused']:.1f} | {ms['default']:.1f} | {ms['fused']:.1f} | "
            f"{ms['fused+profile']:.1f} | {ms['torch']:.1f} | {ms['onnxruntime']:.1f} | "
            f"{ms['unfused'] / ms['fused']:.2f} | {ms['unfused'] / ms['default']:.2f} | "
            f"{ms['fused'] / ms['onnxruntime']:.2f} | {ms['default'] / ms['onnxruntime']:.2f} | "
            f"{k['unfused']}, {k['default']}, {k['fused']} | "
            f"{max(r['max_abs_error'].values()):.1e} |")
    return "\n".join(lines)


# --- the parent -------------------------------------------------------------------------------


def run_child(kind: str, name: str, runs: int) -> dict:
    return {"model": name, **harness.run_child(__file__, [kind, name, "--child", "--runs",
                                                          str(runs)])}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("kind", choices=["counts", "speed", "all"])
    parser.add_argument("models", nargs="*", help=f"counts: {COUNT_MODELS}; "
                                                  f"speed: {SPEED_MODELS}")
    parser.add_argument("--runs", type=int, default=20, help="timed calls per engine")
    parser.add_argument("-o", "--output", default="build/fusion.json", help="JSON results")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        (name,) = args.models
        result = counts(name) if args.kind == "counts" else speed(name, args.runs)
        Path(args.output).write_text(json.dumps(result))
        return 0
    output: dict = {"runs": args.runs}
    failed = False
    for kind, default, render in (("counts", COUNT_MODELS, counts_table),
                                  ("speed", SPEED_MODELS, speed_table)):
        if args.kind not in (kind, "all"):
            continue
        results = []
        for name in args.models or default:
            print(f"{kind} {name} ...", file=sys.stderr, flush=True)
            results.append(run_child(kind, name, args.runs))
            print(render(results[-1:]).splitlines()[-1], file=sys.stderr, flush=True)
        output[kind] = results
        failed |= any("error" in r for r in results)
        print(render(results) + "\n")
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    Path(args.output).write_text(json.dumps(output, indent=1))
    print(f"wrote {args.output}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
