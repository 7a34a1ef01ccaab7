"""`sparsec`: the command-line driver.

    sparsec import torchvision:resnet18 -o resnet18.mlir   # PyTorch / torch-dialect / ONNX -> nn
    sparsec opt --pass classify model.mlir                 # run passes, print IR (sparsec-opt)
    sparsec run model.mlir --seed 0                        # reference interpreter on @main

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


def cmd_run(args: argparse.Namespace) -> int:
    module = _read_module(args.file)
    inputs = _load_inputs(args, module)
    from sparsec.interpreters import interpret

    try:
        outputs = interpret(module, *inputs)
    except ValueError as e:
        raise SparsecError(f"error: {e}") from None
    if args.output:
        if args.output.endswith(".npy") and len(outputs) == 1:
            np.save(args.output, outputs[0])
        else:
            np.savez(args.output, *outputs)
        print(f"wrote {len(outputs)} output(s) to {args.output}")
    else:
        for index, array in enumerate(outputs):
            print(_describe(index, array))
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
    p.add_argument("source", help="torchvision:NAME, path/to/file.py:factory, "
                                  "a torch-dialect .mlir file, or an .onnx file")
    p.add_argument("--input-shape", type=_parse_shape, action="append", metavar="D,D,...",
                   help="shape of an example input (repeat for several inputs)")
    p.add_argument("-o", "--output", help="output file (default: stdout)")
    p.add_argument("--generic", action="store_true", help="print ops in generic form")
    p.set_defaults(func=cmd_import)

    sub.add_parser("opt", help="run a pass pipeline and print the IR (same as sparsec-opt; "
                               "see `sparsec opt --help`)", add_help=False)

    p = sub.add_parser("run", help="run @main with the reference interpreter",
                       description="Run the module's @main on inputs from .npy/.npz files or "
                                   "generated from a seed, and print or save the outputs.")
    p.add_argument("file", help="nn-dialect .mlir file ('-' for stdin)")
    p.add_argument("--inputs", nargs="+", metavar="FILE",
                   help=".npy files (one per argument, in order) or one .npz")
    p.add_argument("--seed", type=int, default=0,
                   help="seed for standard-normal float inputs when --inputs is absent")
    p.add_argument("-o", "--output", help="save the outputs to .npz (or .npy for one output)")
    p.set_defaults(func=cmd_run)
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
