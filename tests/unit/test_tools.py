"""The command lines (`sparsec`, `sparsec opt`) and the registry, run in-process."""

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from sparsec.tools.cli import main as sparsec_main
from sparsec.universe import SPARSEC_UNIVERSE, all_passes

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "residual_block.mlir"


def run(argv, capsys):
    code = sparsec_main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_opt_classify_prints_mapping_types(capsys):
    code, out, err = run(["opt", "--pass", "classify", str(EXAMPLE)], capsys)
    assert code == 0, err
    assert out.count('nn.mapping = "many-to-many"') == 2  # the two convolutions
    assert out.count('nn.mapping = "one-to-one"') == 5  # 2 batch_norm, 2 relu, the add


def test_opt_short_and_long_pass_flags_agree(capsys):
    _, short, _ = run(["opt", "-p", "classify", str(EXAMPLE)], capsys)
    _, long, _ = run(["opt", "--passes", "classify", str(EXAMPLE)], capsys)
    _, alias, _ = run(["opt", "--pass", "classify", str(EXAMPLE)], capsys)
    assert short == long == alias


def test_unknown_pass_lists_the_known_ones(capsys):
    code, out, err = run(["opt", "--pass", "classify,no-such-pass", str(EXAMPLE)], capsys)
    assert code == 1 and out == ""
    assert "Unrecognized passes: ['no-such-pass']" in err
    assert "known passes: " in err and "classify" in err
    assert "Traceback" not in err


@pytest.mark.parametrize("text, message", [
    ("func.func @main( {", r"bad\.mlir:1:\d+: error: "),
    ("%0 = nn.nonsense : () -> ()", r"bad\.mlir:1:\d+: error: .*nn\.nonsense"),
    ('func.func @main(%x: tensor<2xf32>) -> tensor<3xf32> {\n'
     '  %y = nn.relu %x : (tensor<2xf32>) -> tensor<3xf32>\n  func.return %y : tensor<3xf32>\n}',
     r"bad\.mlir:2:3: error: nn\.relu: result type tensor<3xf32> does not match"),
])
def test_bad_input_is_a_located_diagnostic(tmp_path, capsys, text, message):
    path = tmp_path / "bad.mlir"
    path.write_text(text)
    for argv in (["opt", str(path)], ["run", str(path)]):
        code, _, err = run(argv, capsys)
        assert code == 1
        assert "Traceback" not in err
        assert re.search(message, err.replace(str(tmp_path) + "/", "")), err


def test_missing_file_is_an_error_not_a_traceback(capsys):
    code, _, err = run(["run", "/nonexistent/x.mlir"], capsys)
    assert code == 1 and "cannot read /nonexistent/x.mlir" in err


def test_run_from_seed_and_files(tmp_path, capsys):
    code, out, err = run(["run", str(EXAMPLE), "--seed", "3", "-o", str(tmp_path / "o.npz")],
                         capsys)
    assert code == 0, err
    saved = np.load(tmp_path / "o.npz")["arr_0"]
    assert saved.shape == (1, 4, 8, 8) and (saved >= 0).all()  # ends in relu
    x = np.random.default_rng(3).standard_normal((1, 4, 8, 8)).astype(np.float32)
    np.save(tmp_path / "x.npy", x)
    code, out, err = run(["run", str(EXAMPLE), "--inputs", str(tmp_path / "x.npy"), "-o",
                          str(tmp_path / "p.npy")], capsys)
    assert code == 0, err
    assert np.array_equal(np.load(tmp_path / "p.npy"), saved)


def test_run_rejects_a_wrong_input_shape(tmp_path, capsys):
    np.save(tmp_path / "x.npy", np.zeros((1, 4, 8, 9), np.float32))
    code, _, err = run(["run", str(EXAMPLE), "--inputs", str(tmp_path / "x.npy")], capsys)
    assert code == 1 and "argument 0" in err and "Traceback" not in err


def test_registry_feeds_the_xdsl_universe():
    assert "nn" in SPARSEC_UNIVERSE.all_dialects
    assert "classify" in SPARSEC_UNIVERSE.all_passes
    assert {"canonicalize", "cse", "dce", "classify"} <= set(all_passes())
    assert SPARSEC_UNIVERSE.all_dialects["nn"]().name == "nn"


def test_plain_xdsl_opt_sees_sparsec_through_the_entry_point():
    xdsl_opt = Path(sys.executable).parent / "xdsl-opt"
    result = subprocess.run([str(xdsl_opt), "-p", "classify", str(EXAMPLE)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert 'nn.mapping = "many-to-many"' in result.stdout
