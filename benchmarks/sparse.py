"""Sparse kernels against dense ones, side by side (issue 7's targets).

    python benchmarks/sparse.py                         # everything, one thread
    python benchmarks/sparse.py --part layers --runs 10 -o build/bench-sparse.json
    python benchmarks/sparse.py --part models resnet18

Three parts, each case in a fresh Python process (as benchmarks/run.py):

- layers: GEMM-view kernels. A 4096x4096 linear layer applied to 128 rows (the GEMM
  N = 128), and 3x3 stride-1 convolutions of ResNet-18 (one per stage) and VGG-16 (the
  second of each block), batch 1. Engines: sparsec dense, sparsec with the weight pruned
  to BCR 8x4 at 50/80/90% and 16x16 at 90% (5 x 5 of each tile kept: fewer, larger
  row updates, the faster kernel on AVX2) and to pattern+connectivity (8 patterns,
  connectivity 3.6: about 8x fewer weights), PyTorch dense (MKL / oneDNN) and torch.sparse CSR on the same
  masked weights (`to_sparse_csr()` times the GEMM view: for a convolution, `unfold` +
  sparse mm + reshape, the whole convolution).
- models: end to end, ResNet-18 and VGG-16 with pattern+connectivity, ResNet-18,
  MobileNetV2 and the BERT-like encoder (12 layers, 768 wide, 128 tokens) with BCR 80%,
  against sparsec dense, PyTorch eager and onnxruntime (dense; all graph optimisations).
- bytes: weight bytes of every packed layer of the layers part, in its format, against
  dense float32 and CSR (int32 indices) of the same masked weights.

The weights are random, pruned with `sparsec.prune` (the model is masked in place), and
sparsec compiles the masked model with `sparsity=` the same scheme; every sparsec result
is checked against PyTorch on the masked model (max |difference| / output scale). Times
are medians in milliseconds of `--runs` calls per engine, the engines taking turns of 2
calls after a warm-up (`harness.interleaved`), on `--threads` threads (default 1: the machine is shared).
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

LAYERS = {
    "linear 4096x4096 (N=128)": ("linear", 4096, 4096, 128),
    "resnet18 layer1 3x3 64@56": ("conv", 64, 64, 56),
    "resnet18 layer2 3x3 128@28": ("conv", 128, 128, 28),
    "resnet18 layer3 3x3 256@14": ("conv", 256, 256, 14),
    "resnet18 layer4 3x3 512@7": ("conv", 512, 512, 7),
    "vgg16 conv1_2 3x3 64@224": ("conv", 64, 64, 224),
    "vgg16 conv2_2 3x3 128@112": ("conv", 128, 128, 112),
    "vgg16 conv3_2 3x3 256@56": ("conv", 256, 256, 56),
    "vgg16 conv4_2 3x3 512@28": ("conv", 512, 512, 28),
    "vgg16 conv5_2 3x3 512@14": ("conv", 512, 512, 14),
}
MODELS = {
    "resnet18 pattern": ("resnet18", "pattern"),
    "vgg16 pattern": ("vgg16", "pattern"),
    "resnet18 bcr80": ("resnet18", "bcr80"),
    "mobilenet_v2 bcr80": ("mobilenet_v2", "bcr80"),
    "bert_like_encoder bcr80": ("bert_like_encoder", "bcr80"),
}


def schemes() -> dict:
    import sparsec

    return {"bcr50": sparsec.BCR((8, 4), 0.5), "bcr80": sparsec.BCR((8, 4), 0.8),
            "bcr90": sparsec.BCR((8, 4), 0.9), "bcr90-16x16": sparsec.BCR((16, 16), 0.9),
            "pattern": sparsec.Pattern(patterns=8, connectivity=3.6)}


def interleaved(engines: dict, runs: int) -> dict[str, float]:
    """Median ms of each engine over `runs` calls (2 warm-up calls each)."""
    samples = harness.interleaved(engines, runs, warmup=2)
    return {name: statistics.median(v) for name, v in samples.items()}


def relative_error(got, want) -> float:
    import numpy as np

    want = np.asarray(want)
    return float(np.max(np.abs(np.asarray(got) - want)) / max(1e-30, np.max(np.abs(want))))


# --- layers ------------------------------------------------------------------------------


def layer_model(spec):
    import torch

    torch.manual_seed(0)
    if spec[0] == "linear":
        _, n_out, n_in, rows = spec
        return torch.nn.Linear(n_in, n_out, bias=False).eval(), torch.randn(rows, n_in)
    _, c_in, c_out, size = spec
    model = torch.nn.Conv2d(c_in, c_out, 3, padding=1, bias=False).eval()
    return model, torch.randn(1, c_in, size, size)


def weight_bytes(weight, scheme_name: str, scheme) -> dict:
    """Bytes of the masked weight: dense f32, its format's arrays, CSR's arrays."""
    import numpy as np

    from sparsec.dialects.sparse import CSRAttr, pack
    from sparsec.transforms.sparsity.prune import prune_weights

    w = weight.detach().numpy()
    [pruned] = prune_weights({"w": w}, scheme).values()  # the encoding this scheme uses
    arrays = pack(pruned.encoding, w)
    csr = pack(CSRAttr(), w)
    return {"dense": int(w.size * 4), "format": int(sum(a.nbytes for a in arrays.values())),
            "csr": int(sum(a.nbytes for a in csr.values())),
            "density": float(np.count_nonzero(w) / w.size), "encoding": str(pruned.encoding)}


def measure_layer(name: str, runs: int, threads: int) -> dict:
    import torch

    import sparsec

    spec = LAYERS[name]
    torch.set_num_threads(threads)
    model, x = layer_model(spec)
    xs = x.numpy()
    result: dict = {"layer": name, "ms": {}, "error": {}, "bytes": {}, "compile_s": {}}
    with torch.inference_mode():
        dense_out = model(x).numpy()
    started = time.perf_counter()
    dense = sparsec.compile(model, (x,), threads=threads)
    result["compile_s"]["sparsec dense"] = time.perf_counter() - started
    result["error"]["sparsec dense"] = relative_error(dense(xs), dense_out)
    engines = {"sparsec dense": harness.timer(lambda: dense(xs)),
               "torch dense": harness.timer(lambda: _torch_call(model, x))}
    for label, scheme in schemes().items():
        if label == "pattern" and spec[0] == "linear":
            continue  # patterns are for 3x3 kernels
        masked = copy.deepcopy(model)
        sparsec.prune(masked, scheme)
        started = time.perf_counter()
        fn = sparsec.compile(masked, (x,), threads=threads, sparsity=scheme)
        result["compile_s"][f"sparsec {label}"] = time.perf_counter() - started
        with torch.inference_mode():
            want = masked(x).numpy()
        result["error"][f"sparsec {label}"] = relative_error(fn(xs), want)
        result["bytes"][label] = weight_bytes(masked.weight, label, scheme)
        csr_call = _torch_csr(spec, masked, x)
        result["error"][f"torch csr {label}"] = relative_error(csr_call().numpy(), want)
        engines[f"sparsec {label}"] = harness.timer(lambda fn=fn: fn(xs))
        engines[f"torch csr {label}"] = harness.timer(csr_call)
    result["ms"] = interleaved(engines, runs)
    return result


def _torch_call(model, x):
    import torch

    with torch.inference_mode():
        return model(x)


def _torch_csr(spec, masked, x):
    """torch.sparse CSR on the GEMM view of the masked weight."""
    import torch

    weight = masked.weight.detach()
    matrix = weight.reshape(weight.shape[0], -1).to_sparse_csr()
    if spec[0] == "linear":
        def call():
            with torch.inference_mode():
                return (matrix @ x.T).T
        return call
    _, _, c_out, size = spec

    def call():
        with torch.inference_mode():
            columns = torch.nn.functional.unfold(x, 3, padding=1)[0]
            return (matrix @ columns).reshape(1, c_out, size, size)
    return call


# --- models ------------------------------------------------------------------------------


def measure_model(name: str, runs: int, threads: int) -> dict:
    import numpy as np
    import torch

    import sparsec
    from sparsec.frontend.zoo import build

    model_name, scheme_name = MODELS[name]
    scheme = schemes()[scheme_name]
    torch.set_num_threads(threads)
    model, inputs = build(model_name)
    arrays = [t.numpy() for t in inputs]
    masked = copy.deepcopy(model)
    pruning = sparsec.prune(masked, scheme)
    kept = sum(float(np.count_nonzero(p.detach().numpy())) for p in pruning.parameters.values())
    total = sum(p.numel() for p in pruning.parameters.values())
    result: dict = {"model": name, "ms": {}, "error": {}, "compile_s": {},
                    "weights_kept": kept / total, "pruned_weights": total}
    with torch.inference_mode():
        want = masked(*inputs).numpy()
        dense_want = model(*inputs).numpy()
    started = time.perf_counter()
    fn = sparsec.compile(masked, inputs, threads=threads, sparsity=scheme)
    result["compile_s"]["sparsec sparse"] = time.perf_counter() - started
    result["error"]["sparsec sparse"] = relative_error(fn(*arrays), want)
    started = time.perf_counter()
    dense = sparsec.compile(model, inputs, threads=threads)
    result["compile_s"]["sparsec dense"] = time.perf_counter() - started
    result["error"]["sparsec dense"] = relative_error(dense(*arrays), dense_want)
    folder = tempfile.mkdtemp(prefix="sparsec-bench-")
    session = harness.onnx_session(model, inputs, threads, folder)
    feed = {i.name: a for i, a in zip(session.get_inputs(), arrays, strict=True)}
    result["ms"] = interleaved({
        "sparsec sparse": harness.timer(lambda: fn(*arrays)),
        "sparsec dense": harness.timer(lambda: dense(*arrays)),
        "onnxruntime dense": harness.timer(lambda: session.run(None, feed)),
        "torch dense": harness.timer(lambda: _torch_call(model, inputs[0])),
    }, runs)
    rows = fn.profile(*arrays, runs=3)
    result["sparse_kernels_ms"] = sum(r["ms"] for r in rows if _is_contraction(r))
    result["other_kernels_ms"] = sum(r["ms"] for r in rows if not _is_contraction(r))
    return result


def _is_contraction(row: dict) -> bool:
    return row["ops"][0] in ("nn.conv2d", "nn.linear", "nn.matmul")


# --- the parent --------------------------------------------------------------------------


def run_child(part: str, name: str, runs: int, threads: int) -> dict:
    return {"case": name, **harness.run_child(__file__, [
        "--child", part, "--case", name, "--runs", str(runs), "--threads", str(threads)])}


LAYER_COLUMNS = ["sparsec dense", "torch dense", "sparsec bcr50", "sparsec bcr80",
                 "sparsec bcr90", "sparsec bcr90-16x16", "sparsec pattern", "torch csr bcr50",
                 "torch csr bcr80", "torch csr bcr90", "torch csr bcr90-16x16",
                 "torch csr pattern"]
SPEEDUP_COLUMNS = ["sparsec bcr90", "sparsec bcr90-16x16", "sparsec pattern"]


def table_head(head: list[str]) -> list[str]:
    """A markdown table's header and rule lines."""
    return ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]


def failed_row(r: dict) -> str:
    """The row of a case whose child process failed: its error's last line."""
    return f"| {r['case']} | failed: {r['failed'].splitlines()[-1][:100]} |"


def layers_table(results: list[dict]) -> str:
    head = ["layer", *LAYER_COLUMNS, *(f"torch dense / {c}" for c in SPEEDUP_COLUMNS),
            "max rel. error"]
    lines = table_head(head)
    for r in results:
        if "failed" in r:
            lines.append(failed_row(r))
            continue
        ms = r["ms"]
        cells = [f"{ms[c]:.2f}" if c in ms else "-" for c in LAYER_COLUMNS]
        speedups = [f"{ms['torch dense'] / ms[c]:.2f}x" if c in ms else "-"
                    for c in SPEEDUP_COLUMNS]
        error = max(r["error"].values())
        lines.append(f"| {r['layer']} | " + " | ".join([*cells, *speedups, f"{error:.1e}"])
                     + " |")
    return "\n".join(lines)


def models_table(results: list[dict]) -> str:
    columns = ["sparsec sparse", "sparsec dense", "onnxruntime dense", "torch dense"]
    head = ["model", "weights kept", *columns, "onnxruntime / sparsec sparse",
            "sparsec dense / sparse", "error vs torch (masked)", "compile s"]
    lines = table_head(head)
    for r in results:
        if "failed" in r:
            lines.append(failed_row(r))
            continue
        ms = r["ms"]
        lines.append(
            f"| {r['model']} | {100 * r['weights_kept']:.1f}% | "
            + " | ".join(f"{ms[c]:.1f}" for c in columns)
            + f" | {ms['onnxruntime dense'] / ms['sparsec sparse']:.2f}x"
            f" | {ms['sparsec dense'] / ms['sparsec sparse']:.2f}x"
            f" | {r['error']['sparsec sparse']:.1e} | {r['compile_s']['sparsec sparse']:.1f} |")
    return "\n".join(lines)


def bytes_table(results: list[dict]) -> str:
    lines = ["| layer | scheme | density | dense MB | format MB | CSR MB | dense / format |"
             " CSR / format |", "|---|---|---|---|---|---|---|---|"]
    for r in results:
        for label, b in r.get("bytes", {}).items():
            lines.append(f"| {r['layer']} | {label} | {b['density']:.3f} | "
                         f"{b['dense'] / 1e6:.2f} | {b['format'] / 1e6:.2f} | "
                         f"{b['csr'] / 1e6:.2f} | {b['dense'] / b['format']:.1f}x | "
                         f"{b['csr'] / b['format']:.2f}x |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("cases", nargs="*", help="layer or model names (substrings); "
                                                 "default: all of the part")
    parser.add_argument("--part", choices=["layers", "models", "all"], default="all",
                        help="layers (with weight bytes), models, or all (default)")
    parser.add_argument("--runs", type=int, default=10, help="timed calls per engine "
                                                             "(default 10)")
    parser.add_argument("--threads", type=int, default=1, help="threads (default 1)")
    parser.add_argument("-o", "--output", default="build/bench-sparse.json",
                        help="JSON results")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--case", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        measure = measure_layer if args.child == "layers" else measure_model
        Path(args.output).write_text(json.dumps(measure(args.case, args.runs, args.threads)))
        return 0
    report: dict = {"runs": args.runs, "threads": args.threads}
    text = []
    for part, names in (("layers", LAYERS), ("models", MODELS)):
        if args.part not in (part, "all"):
            continue
        chosen = [n for n in names if not args.cases or any(c in n for c in args.cases)]
        results = []
        for name in chosen:
            print(f"{part}: {name} ...", file=sys.stderr, flush=True)
            results.append(run_child(part, name, args.runs, args.threads))
        report[part] = results
        if part == "layers":
            text += [f"GEMM-view kernels, ms (median of {args.runs})", layers_table(results),
                     "", "Weight bytes", bytes_table(results), ""]
        else:
            text += [f"End to end, ms (median of {args.runs})", models_table(results), ""]
    print("\n".join(text))
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    Path(args.output).write_text(json.dumps(report, indent=1))
    print(f"wrote {args.output}", file=sys.stderr)
    failed = any("failed" in r for part in ("layers", "models") for r in report.get(part, []))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
