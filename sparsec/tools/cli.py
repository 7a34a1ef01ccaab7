"""`sparsec`: the command-line driver.

    sparsec import torchvision:resnet18 -o resnet18.mlir   # PyTorch / torch-dialect / ONNX -> nn
    sparsec opt --pass classify model.mlir                 # run passes, print IR (sparsec-opt)
    sparsec run model.mlir --seed 0                        # reference interpreter on @main
    sparsec compile model.mlir --target aarch64-linux-gnu -o build/model   # .o + .h + weights

Every error in the user's input is one `file:line:col: error: ...` message on stderr and
exit code 1, never a traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from sparsec.textio import SparsecError


def _parse_shape(text: str) -> tuple[int, ...]:
    try:
        shape = tuple(int(d) for d in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a comma-separated shape like "
                                         "1,3,224,224") from None
    if not shape or min(shape) < 1:
        raise argparse.ArgumentTypeError(f"'{text}': dimensions must be positive")
    return shape


def _read_module(path: str):
    from sparsec.textio import parse_module

    try:
        text = sys.stdin.read() if path == "-" else Path(path).read_text()
    except OSError as e:
        raise SparsecError(f"error: cannot read {path}: {e.strerror}") from None
    return parse_module(text, "<stdin>" if path == "-" else path)


def _write_text(text: str, output: str | None) -> None:
    if output is None or output == "-":
        sys.stdout.write(text)
        return
    Path(output).parent.mkdir(parents=True, exist_ok=True)
    Path(output).write_text(text)


# --- sparsec import ---------------------------------------------------------------------


def cmd_import(args: argparse.Namespace) -> int:
    from sparsec import frontend
    from sparsec.textio import print_module

    source = args.source
    if source.endswith((".mlir", ".onnx")) and Path(source).exists():
        module = frontend.import_file(source, input_shapes=args.input_shape)
    else:
        model, inputs = frontend.load_model_spec(source, input_shapes=args.input_shape)
        module = frontend.import_model(model, inputs)
    _write_text(print_module(module, generic=args.generic), args.output)
    return 0


# --- sparsec run ------------------------------------------------------------------------


def _main_signature(module):
    from xdsl.dialects import func

    for op in module.ops:
        if isinstance(op, func.FuncOp) and op.sym_name.data == "main":
            return op.function_type.inputs.data
    raise SparsecError("error: the module has no func.func @main")


def _load_inputs(args: argparse.Namespace, module) -> list[np.ndarray]:
    from sparsec.dialects.resources import numpy_dtype

    if args.inputs:
        arrays: list[np.ndarray] = []
        for path in args.inputs:
            try:
                loaded = np.load(path)
            except (OSError, ValueError) as e:
                raise SparsecError(f"error: cannot load {path}: {e}") from None
            if isinstance(loaded, np.lib.npyio.NpzFile):
                arrays.extend(loaded[name] for name in loaded.files)
            else:
                arrays.append(loaded)
        return arrays
    rng = np.random.default_rng(args.seed)
    arrays = []
    for index, type in enumerate(_main_signature(module)):
        dtype = numpy_dtype(type.get_element_type())
        if dtype.kind != "f":
            raise SparsecError(f"error: argument {index} of @main is a {type}: integer "
                               "inputs cannot be made up, pass them with --inputs")
        arrays.append(rng.standard_normal(type.get_shape()).astype(dtype))
    return arrays


def _describe(index: int, array: np.ndarray) -> str:
    head = f"output {index}: {array.dtype}{list(array.shape)}"
    if array.size <= 16:
        return f"{head} = {np.array2string(array.reshape(-1), precision=6)}"
    flat = array.reshape(-1).astype(np.float64)
    return (f"{head} min {flat.min():.6g} max {flat.max():.6g} mean {flat.mean():.6g} "
            f"first {np.array2string(array.reshape(-1)[:6], precision=6)}")


def _run_jit(args: argparse.Namespace, module, inputs: list[np.ndarray]):
    """Compile @main for the host and run it; with --bench, time it and compare it with
    the interpreter."""
    import time

    from xdsl.utils.exceptions import DiagnosticException

    from sparsec.runtime.compiled import compile as jit_compile

    try:
        started = time.perf_counter()
        compiled = jit_compile(module, threads=args.threads)
        compile_seconds = time.perf_counter() - started
        outputs = compiled(*inputs)
    except (ValueError, DiagnosticException) as e:  # bad inputs; what lowering rejects
        raise SparsecError(f"error: {e}") from None
    outputs = outputs if isinstance(outputs, tuple) else (outputs,)
    if not args.bench:
        return outputs
    from sparsec.interpreters import interpret

    for _ in range(3):
        compiled(*inputs)
    times = []
    for _ in range(args.runs):
        started = time.perf_counter()
        compiled(*inputs)
        times.append((time.perf_counter() - started) * 1e3)
    reference = interpret(module, *inputs)
    errors = [float(np.max(np.abs(o.astype(np.float64) - r), initial=0.0))
              for o, r in zip(outputs, reference, strict=True)]
    cached = " (cache hit)" if compiled.from_cache else ""
    print(f"compile {compile_seconds:.2f} s{cached}; threads {args.threads}")
    print(f"latency: median {np.median(times):.3f} ms, min {min(times):.3f} ms "
          f"over {args.runs} runs")
    print("max |jit - interpreter|: " + ", ".join(f"output {i}: {e:.3g}"
                                                 for i, e in enumerate(errors)))
    return outputs


def cmd_run(args: argparse.Namespace) -> int:
    module = _read_module(args.file)
    inputs = _load_inputs(args, module)
    if args.jit or args.bench:
        outputs = _run_jit(args, module, inputs)
        if args.output:
            _save_outputs(args.output, outputs)
        elif not args.bench:
            for index, array in enumerate(outputs):
                print(_describe(index, array))
        return 0
    from sparsec.interpreters import interpret

    try:
        outputs = interpret(module, *inputs)
    except ValueError as e:
        raise SparsecError(f"error: {e}") from None
    if args.output:
        _save_outputs(args.output, outputs)
    else:
        for index, array in enumerate(outputs):
            print(_describe(index, array))
    return 0


def _save_outputs(path: str, outputs) -> None:
    if path.endswith(".npy") and len(outputs) == 1:
        np.save(path, outputs[0])
    else:
        np.savez(path, *outputs)
    print(f"wrote {len(outputs)} output(s) to {path}")


# --- sparsec compile --------------------------------------------------------------------


def cmd_compile(args: argparse.Namespace) -> int:
    """Ahead-of-time: model.o, model.h and model.weights for a target machine."""
    from xdsl.utils.exceptions import ArgSpecParseError, DiagnosticException

    from sparsec.aot import save
    from sparsec.lowering.target import aot_target

    try:
        aot_target(args.target, args.cpu)  # an unknown target fails before any work
    except ValueError as e:
        raise SparsecError(f"error: {e}") from None
    if args.threads < 1:
        raise SparsecError(f"error: --threads must be >= 1, got {args.threads}")
    module = _read_module(args.file)
    _main_signature(module)  # no @main: one clean error
    try:
        result = save(module, args.output, target=args.target, cpu=args.cpu,
                      threads=args.threads, passes=args.passes or "", source=args.file)
    except (ValueError, ArgSpecParseError, DiagnosticException) as e:
        raise SparsecError(f"error: {e}") from None
    except OSError as e:
        raise SparsecError(f"error: cannot write {args.output}: {e.strerror}") from None
    facts = result.facts
    print(f"{result.object_path} ({result.object_path.stat().st_size} bytes, "
          f"{result.target.triple}, cpu {result.target.cpu}, "
          f"{result.target.vector_lanes} f32 lanes)")
    print(f"{result.header_path}")
    print(f"{result.weights_path} ({facts.weights_bytes} bytes of weights; workspace "
          f"{facts.workspace_bytes} bytes)")
    cc = "aarch64-linux-gnu-gcc" if result.target.triple.startswith("aarch64") else "cc"
    print(f"link: {cc} app.c {result.object_path} {' '.join(result.libraries)}")
    return 0


# --- the driver -------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sparsec",
        description="sparsec: import PyTorch models, optimise them in the nn dialect, run them.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("import", help="PyTorch model, torch-dialect .mlir or .onnx -> nn dialect",
                       description="Import a model into the nn dialect and print it as MLIR "
                                   "(weights in a dialect_resources trailer).")
    p.add_argument("source", help="torchvision:NAME, zoo:NAME (bert_like_encoder, gru, lstm or "
                                  "a torchvision model, as tested), path/to/file.py:factory, "
                                  "a torch-dialect .mlir file, or an .onnx file")
    p.add_argument("--input-shape", type=_parse_shape, action="append", metavar="D,D,...",
                   help="shape of an example input (repeat for several inputs)")
    p.add_argument("-o", "--output", help="output file (default: stdout)")
    p.add_argument("--generic", action="store_true", help="print ops in generic form")
    p.set_defaults(func=cmd_import)

    sub.add_parser("opt", help="run a pass pipeline and print the IR (same as sparsec-opt; "
                               "see `sparsec opt --help`)", add_help=False)

    p = sub.add_parser("run", help="run @main with the reference interpreter (or --jit)",
                       description="Run the module's @main on inputs from .npy/.npz files or "
                                   "generated from a seed, and print or save the outputs.")
    p.add_argument("file", help="nn-dialect .mlir file ('-' for stdin)")
    p.add_argument("--inputs", nargs="+", metavar="FILE",
                   help=".npy files (one per argument, in order) or one .npz")
    p.add_argument("--seed", type=int, default=0,
                   help="seed for standard-normal float inputs when --inputs is absent")
    p.add_argument("-o", "--output", help="save the outputs to .npz (or .npy for one output)")
    p.add_argument("--jit", action="store_true",
                   help="compile @main for the host CPU and run the machine code instead")
    p.add_argument("--bench", action="store_true",
                   help="with the JIT: print the latency and the max error against the "
                        "interpreter (implies --jit)")
    p.add_argument("--runs", type=int, default=20, help="timed runs for --bench (default 20)")
    p.add_argument("--threads", type=int, default=1, help="threads for --jit (default 1)")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser(
        "compile", help="ahead-of-time: model.o + model.h + model.weights for a target",
        description="Compile @main ahead of time for a target machine and write DIR/model.o "
                    "(position-independent ELF object exporting the C API), DIR/model.h "
                    "(the API, shapes and sizes of every input and output, the link line) "
                    "and DIR/model.weights (the weights behind a checked header).")
    p.add_argument("file", help="nn-dialect .mlir file ('-' for stdin)")
    p.add_argument("--target", default="aarch64-linux-gnu",
                   help="target triple: aarch64-linux-gnu (default) or x86_64-linux-gnu")
    from sparsec.lowering.target import CPUS, DEFAULT_CPU

    cpus = "; ".join(
        f"{triple.split('-')[0]}: " + ", ".join(
            f"{cpu} (default)" if cpu == DEFAULT_CPU[triple] else cpu for cpu in models)
        for triple, models in CPUS.items())
    p.add_argument("--cpu", help=f"CPU to tune for and take the vector width from ({cpus})")
    p.add_argument("--threads", type=int, default=1,
                   help="OpenMP threads the kernels use (default 1; > 1 links libgomp)")
    p.add_argument("-p", "--passes", help="pass spec run on the nn module before lowering "
                                          "(e.g. fuse)")
    p.add_argument("-o", "--output", required=True, metavar="DIR",
                   help="output directory (created if needed)")
    p.set_defaults(func=cmd_compile)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "opt":
        from sparsec.tools.sparsec_opt import main as opt_main

        return opt_main(argv[1:], prog="sparsec opt")
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except SparsecError as e:
        print(e, file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
