"""The C API of ahead-of-time models, on both targets: every argument check and every
weights-file error path (each a distinct status code, the same one Python's
`weights_file.decode` gives), integer index inputs out of range, weights from memory in
place and copied, and the Python and command-line entry points.
"""

from __future__ import annotations

import struct
import subprocess
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from xdsl.dialects import func
from xdsl.dialects.builtin import ModuleOp
from xdsl.ir import Block, Region

from sparsec.aot import weights_file
from sparsec.aot.weights_file import HEADER_BYTES, Status, WeightsFileError
from sparsec.dialects import nn
from sparsec.dialects.resources import tensor_type_of
from sparsec.interpreters import interpret
from sparsec.textio import parse_module
from sparsec.tools.cli import main as cli_main

ROOT = Path(__file__).resolve().parents[2]
CHECKS = Path(__file__).with_name("capi_checks.c")


@pytest.fixture(scope="module")
def block_module():
    return parse_module((ROOT / "examples" / "residual_block.mlir").read_text(), "block")


@pytest.fixture(scope="module")
def block_input():
    return np.random.default_rng(0).standard_normal((1, 4, 8, 8)).astype(np.float32)


@pytest.fixture(scope="module")
def programs(block_module, tmp_path_factory):
    return {}


@pytest.fixture(scope="module")
def program(platform, programs, block_module, tmp_path_factory):
    if platform.triple not in programs:
        directory = tmp_path_factory.mktemp(f"block-{platform.triple}")
        programs[platform.triple] = platform.build(block_module, directory)
    return programs[platform.triple]


def test_block_matches_interpreter(program, block_module, block_input, matches):
    run = program.run([block_input])
    assert run.returncode == 0, run.stderr
    matches(run.outputs, interpret(block_module, block_input))


def test_argument_checks(program, platform):
    """NULL pointers everywhere, a missing file, short and long buffers, weights in place
    and copied (capi_checks.c)."""
    checker = platform.link(program.result, CHECKS, "capi_checks")
    done = subprocess.run([*platform.runner, str(checker), str(program.result.weights_path)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.strip() == "0 failed"


def _field(data: bytes, offset: int, fmt: str, change) -> bytes:
    (value,) = struct.unpack_from(fmt, data, offset)
    patched = bytearray(data)
    struct.pack_into(fmt, patched, offset, change(value))
    return bytes(patched)


def _flip(data: bytes, offset: int) -> bytes:
    patched = bytearray(data)
    patched[offset] ^= 0x10
    return bytes(patched)


CORRUPTIONS = {
    "empty file": (lambda d: b"", Status.TRUNCATED),
    "truncated header": (lambda d: d[:HEADER_BYTES - 1], Status.TRUNCATED),
    "bad magic": (lambda d: _flip(d, 3), Status.BAD_MAGIC),
    "newer version": (lambda d: _field(d, 8, "<I", lambda v: v + 1), Status.BAD_VERSION),
    "header size": (lambda d: _field(d, 12, "<I", lambda v: 32), Status.BAD_VERSION),
    "reserved byte": (lambda d: _flip(d, 63), Status.BAD_VERSION),
    "byte count": (lambda d: _field(d, 16, "<Q", lambda v: v + 64), Status.SIZE_MISMATCH),
    "huge byte count": (lambda d: _field(d, 16, "<Q", lambda v: 2**64 - 1),
                        Status.SIZE_MISMATCH),
    "other model": (lambda d: _field(d, 24, "<Q", lambda v: v ^ 1), Status.MODEL_MISMATCH),
    "truncated payload": (lambda d: d[:-1], Status.TRUNCATED),
    "header only": (lambda d: d[:HEADER_BYTES], Status.TRUNCATED),
    "trailing byte": (lambda d: d + b"\0", Status.TRAILING_DATA),
    "payload bit flip": (lambda d: _flip(d, HEADER_BYTES + 100), Status.CHECKSUM),
    "last byte flip": (lambda d: _flip(d, len(d) - 1), Status.CHECKSUM),
    "checksum field": (lambda d: _flip(d, 33), Status.CHECKSUM),
}


@pytest.mark.parametrize("memory", [False, True], ids=["file", "memory"])
@pytest.mark.parametrize("corruption", list(CORRUPTIONS))
def test_bad_weights_file_is_an_error_code(program, block_input, corruption, memory, tmp_path):
    """The driver exits with create's status; Python's decoder agrees."""
    corrupt, status = CORRUPTIONS[corruption]
    data = corrupt(program.result.weights_path.read_bytes())
    path = tmp_path / "bad.weights"
    path.write_bytes(data)
    run = program.run([block_input], memory=memory, weights=path)
    assert run.returncode == status, run.stderr
    assert weights_file.MESSAGES[status] in run.stderr
    with pytest.raises(WeightsFileError) as caught:
        weights_file.decode(data, program.result.facts.weights_bytes,
                            program.result.facts.model_id)
    assert caught.value.status == status


@settings(max_examples=12)
@given(data=st.data())
def test_random_damage_agrees_with_python(program, block_input, tmp_path_factory, data):
    """Truncate, extend or flip bytes anywhere: C and Python report the same status, and
    the process never dies of a signal."""
    original = program.result.weights_path.read_bytes()
    kind = data.draw(st.sampled_from(["cut", "extend", "flip"]))
    if kind == "cut":
        damaged = original[:data.draw(st.integers(1, len(original) - 1))]
    elif kind == "extend":
        damaged = original + data.draw(st.binary(min_size=1, max_size=70))
    else:
        damaged = _flip(original, data.draw(st.integers(0, len(original) - 1)))
    path = tmp_path_factory.mktemp("damaged") / "model.weights"
    path.write_bytes(damaged)
    run = program.run([block_input], weights=path)
    facts = program.result.facts
    try:
        weights_file.decode(damaged, facts.weights_bytes, facts.model_id)
        expected = Status.OK
    except WeightsFileError as e:
        expected = e.status
    assert run.returncode == expected, run.stderr
    if kind == "flip" and expected == Status.OK:
        pytest.fail("a flipped byte went unnoticed")


def test_python_reader_round_trips(program):
    header, payload = weights_file.read_weights(program.result.weights_path)
    assert header.payload_bytes == len(payload) == program.result.facts.weights_bytes
    assert header.model_id == program.result.facts.model_id
    assert header.crc32 == weights_file.crc32(np.frombuffer(payload, np.uint8))


# --- integer inputs ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def gather_module():
    """y = table[indices] with table a constant 10x3 and indices an int64[4] input."""
    table = np.arange(30, dtype=np.float32).reshape(10, 3)
    indices = np.zeros(4, np.int64)
    types = [tensor_type_of(indices)]
    block = Block(arg_types=types)
    constant = nn.ConstantOp.from_array(table, "table")
    gather = nn.GatherOp(constant.result, block.args[0], 0)
    block.add_ops([constant, gather, func.ReturnOp(gather.results[0])])
    return ModuleOp([func.FuncOp("main", (types, [gather.results[0].type]), Region(block))])


def test_index_inputs_are_range_checked(platform, gather_module, tmp_path_factory, matches):
    program = platform.build(gather_module, tmp_path_factory.mktemp("gather"))
    assert "[0, 10)" in program.result.header_path.read_text()
    good = np.array([0, 9, 3, 3], np.int64)
    run = program.run([good])
    assert run.returncode == 0, run.stderr
    matches(run.outputs, interpret(gather_module, good))
    for bad in ([0, 10, 1, 2], [-1, 0, 0, 0], [0, 0, 0, 2**40]):
        run = program.run([np.array(bad, np.int64)])
        assert run.returncode == Status.INPUT_RANGE, (bad, run.stderr)


# --- entry points -----------------------------------------------------------------------


def test_header_compiles_standalone(program, platform, x86_64, tmp_path):
    """model.h is valid C (pedantic C11) and C++, and its constants hold."""
    source = tmp_path / "probe.c"
    source.write_text('#include "model.h"\n'
                      "#ifdef __cplusplus\n#define _Static_assert static_assert\n#endif\n"
                      "_Static_assert(SC_MODEL_INPUT0_BYTES == 1 * 4 * 8 * 8 * 4, \"bytes\");\n"
                      "_Static_assert(SC_MODEL_NUM_OUTPUTS == 1, \"outputs\");\n"
                      "int main(void) { SC_MODEL_INPUT0_TYPE x[SC_MODEL_INPUT0_ELEMENTS];"
                      " (void)x; return sc_model_status_message(SC_ERR_CHECKSUM)[0] == 0; }\n")
    for compiler, flags in ((platform.cc, ["-std=c11", "-pedantic"]),
                            ("g++", ["-x", "c++", "-std=c++17"])):  # the host's: text only
        done = subprocess.run([compiler, *flags, "-Wall", "-Wextra", "-Werror", "-fsyntax-only",
                               f"-I{program.result.directory}", str(source)],
                              capture_output=True, text=True)
        assert done.returncode == 0, done.stderr


def test_compiled_model_save(block_module, block_input, x86_64, tmp_path, matches):
    """`CompiledModel.save` writes the same three files; unknown targets are ValueErrors."""
    from sparsec.runtime.compiled import compile as jit_compile

    compiled = jit_compile(block_module)
    result = compiled.save(tmp_path / "saved", target="x86_64-linux-gnu")
    assert {p.name for p in (tmp_path / "saved").iterdir()} == {"model.o", "model.h",
                                                                "model.weights"}
    program = x86_64.link(result)
    run = subprocess.run([str(program), str(result.weights_path), "/dev/stdin", "/dev/stdout"],
                         input=block_input.tobytes(), capture_output=True, timeout=60)
    assert run.returncode == 0, run.stderr
    got = np.frombuffer(run.stdout, np.float32).reshape(1, 4, 8, 8)
    matches([got], [compiled(block_input)])
    with pytest.raises(ValueError, match="unknown target triple"):
        compiled.save(tmp_path / "x", target="riscv64-linux-gnu")
    with pytest.raises(ValueError, match="unknown CPU 'pentium'"):
        compiled.save(tmp_path / "x", target="x86_64-linux-gnu", cpu="pentium")


def test_cli_compile(tmp_path, capsys):
    source = str(ROOT / "examples" / "residual_block.mlir")
    out = tmp_path / "cli"
    assert cli_main(["compile", source, "--target", "aarch64-linux-gnu", "--cpu", "neoverse-n1",
                     "-o", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "aarch64-unknown-linux-gnu, cpu neoverse-n1, 4 f32 lanes" in printed
    assert (out / "model.o").read_bytes()[:4] == b"\x7fELF"
    assert cli_main(["compile", source, "--target", "sparc-sun-solaris", "-o", str(out)]) == 1
    assert cli_main(["compile", source, "--cpu", "pentium", "-o", str(out)]) == 1
    assert cli_main(["compile", source, "--threads", "0", "-o", str(out)]) == 1
    no_main = tmp_path / "no_main.mlir"
    no_main.write_text("func.func @other(%x: tensor<2xf32>) -> tensor<2xf32> {\n"
                       "  func.return %x : tensor<2xf32>\n}\n")
    assert cli_main(["compile", str(no_main), "-o", str(out)]) == 1
    errors = capsys.readouterr().err.strip().splitlines()
    assert errors == [
        "error: unknown target triple 'sparc-sun-solaris' (known: aarch64-linux-gnu, "
        "x86_64-linux-gnu)",
        "error: unknown CPU 'pentium' for aarch64-linux-gnu (known: generic, cortex-a53, "
        "cortex-a72, cortex-a76, neoverse-n1, neoverse-v1, apple-m1)",
        "error: --threads must be >= 1, got 0",
        "error: the module has no func.func @main"]


def test_missing_toolchain_fails_not_skips(platform_type):
    """Without its tools a platform fails the test with the install command."""
    missing = platform_type("aarch64-linux-gnu", "no-such-cc", (), ("no-such-cc",), "", "")
    with pytest.raises(pytest.fail.Exception, match="missing no-such-cc: install"):
        missing.require()


def test_jit_refuses_a_foreign_target(block_module):
    from sparsec.lowering.target import host_target
    from sparsec.runtime.compiled import compile as jit_compile

    foreign = "x86_64-linux-gnu" if host_target().triple.startswith("aarch64") \
        else "aarch64-linux-gnu:cortex-a76"
    with pytest.raises(ValueError, match="cannot run in this process; compile for it ahead"):
        jit_compile(block_module, target=foreign)


def test_object_is_position_independent(program, platform):
    """A shared library only links from position-independent code (reloc="pic"): a
    non-PIC x86-64 object fails here (absolute R_X86_64_32 relocations; checked by
    building with reloc="static"). AArch64's small code model is PC-relative either way."""
    library = program.result.directory / "libmodel.so"
    done = subprocess.run([platform.cc, "-shared", "-o", str(library),
                           str(program.result.object_path)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert platform.symbols(library, "-D", "--defined-only") >= {"sc_model_create",
                                                                "sc_model_run"}
