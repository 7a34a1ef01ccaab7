"""`sparsec opt` / `sparsec-opt`: xDSL's opt driver over sparsec's registry.

Differences from plain `xdsl-opt`: only sparsec's dialects and passes (from
`sparsec.universe`), `--pass` as an explicit alias of `-p/--passes`, ops located at
`file:line:col` in every diagnostic, weights kept as numpy arrays and printed back in the
`dialect_resources` trailer, errors reported as one line plus context with exit code 1
instead of a Python traceback, and `--fusion-report`: after the pipeline, the fusion report
(groups, layers and intermediate bytes before/after) goes to stderr, so stdout stays IR.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import IO

from xdsl.dialects.builtin import ModuleOp
from xdsl.utils.exceptions import DiagnosticException, ParseError
from xdsl.xdsl_opt_main import xDSLOptMain

from sparsec.textio import (
    LocatingParser,
    SparsecError,
    format_parse_error,
    print_module,
    take_resources,
    verify_module,
)
from sparsec.universe import all_dialects, all_passes


class SparsecOptMain(xDSLOptMain):
    version_format = "sparsec-opt built on xdsl {xdsl_version}"

    def register_all_dialects(self):
        for name, factory in all_dialects().items():
            self.ctx.register_dialect(name, factory)

    def register_all_passes(self):
        for name, factory in all_passes().items():
            self.register_pass(name, factory)

    def register_all_arguments(self, arg_parser: argparse.ArgumentParser):
        super().register_all_arguments(arg_parser)
        arg_parser.add_argument(
            "--pass", dest="passes", metavar="PASSES",
            help="alias of -p/--passes: a comma-separated pass pipeline, e.g. "
                 "'classify' or 'fuse,sparsify'")
        arg_parser.add_argument(
            "--fusion-report", action="store_true",
            help="after the pipeline, print the fusion report (each nn.fused group with its "
                 "ops and mapping type; layers and intermediate bytes before/after) to stderr")

    def apply_passes(self, prog: ModuleOp):
        super().apply_passes(prog)
        if self.args.fusion_report:
            from sparsec.transforms.fusion.report import fusion_report

            print(fusion_report(prog), file=sys.stderr)

    def setup_pipeline(self):
        try:
            super().setup_pipeline()
        except ValueError as e:
            if not str(e).startswith("Unrecognized passes"):
                raise SparsecError(f"error: {e}") from None
            known = ", ".join(sorted(self.available_passes))
            raise SparsecError(f"error: {e}; known passes: {known}") from None

    def parse_chunk(self, chunk: IO[bytes], file_extension: str,
                    start_offset: int = 0) -> ModuleOp | None:
        parser = LocatingParser(self.ctx, chunk.read().decode(), self.get_input_name(),
                                line_offset=start_offset)
        try:
            module = parser.parse_module(not self.args.no_implicit_module)
        finally:
            keys = {key for dialect, key in parser.dialect_resources if dialect == "builtin"}
        take_resources(module, keys)
        if not self.args.disable_verify:
            verify_module(module)
        return module

    def output_resulting_program(self, prog: ModuleOp) -> str:
        if self.args.target != "mlir":
            return super().output_resulting_program(prog)
        return print_module(prog, generic=self.args.print_op_generic,
                            debuginfo=self.args.print_debuginfo)


def main(args: Sequence[str] | None = None, prog: str = "sparsec-opt") -> int:
    """Run the opt driver; diagnostics go to stderr (stdout under --verify-diagnostics)."""
    try:
        tool = SparsecOptMain(description="sparsec's modular optimizer driver: parse MLIR, "
                                          "run a pass pipeline, print the result",
                              args=args)
    except SparsecError as e:
        print(f"{prog}: {e}", file=sys.stderr)
        return 1
    verify_diagnostics = tool.args.verify_diagnostics
    try:
        tool.run()
    except SparsecError as e:
        if verify_diagnostics:
            print(e)
            return 0
        print(e, file=sys.stderr)
        return 1
    except ParseError as e:
        print(format_parse_error(e), file=sys.stderr)
        return 1
    except DiagnosticException as e:
        print(f"{tool.get_input_name()}: error: {e}", file=sys.stderr)
        return 1
    except (OSError, ValueError) as e:
        print(f"{prog}: error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
