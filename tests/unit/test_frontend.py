"""The frontend's entry points besides conversions: model specs, .mlir and .onnx files,
the `sparsec import` command, optional dependencies."""

import subprocess
import sys
import textwrap

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("torch_mlir")

from sparsec.frontend import (  # noqa: E402
    FrontendError,
    TorchNotInstalledError,
    import_file,
    import_model,
    load_model_spec,
)
from sparsec.frontend.errors import require  # noqa: E402
from sparsec.interpreters import interpret  # noqa: E402
from sparsec.textio import parse_module, print_module  # noqa: E402
from sparsec.tools.cli import main as cli_main  # noqa: E402

# --- optional dependencies --------------------------------------------------------------


def test_importing_the_frontend_does_not_import_torch():
    code = "import sys, sparsec, sparsec.frontend; assert 'torch' not in sys.modules, 'torch'"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_a_missing_dependency_says_how_to_install_it():
    with pytest.raises(TorchNotInstalledError, match=r"pip install 'sparsec\[torch\]'") as info:
        require("torch_mlir_that_does_not_exist")
    assert isinstance(info.value, ImportError)


# --- model specs ------------------------------------------------------------------------


def test_torchvision_spec():
    model, inputs = load_model_spec("torchvision:resnet18")
    assert not model.training
    assert [tuple(x.shape) for x in inputs] == [(1, 3, 224, 224)]
    _, inputs = load_model_spec("torchvision:resnet18", input_shapes=[(1, 3, 64, 64)])
    assert [tuple(x.shape) for x in inputs] == [(1, 3, 64, 64)]


def test_unknown_torchvision_model_suggests_names():
    with pytest.raises(FrontendError, match="did you mean resnet50"):
        load_model_spec("torchvision:resnet5O")


def test_zoo_spec():
    model, inputs = load_model_spec("zoo:gru")
    assert isinstance(model.rnn, torch.nn.GRU) and not model.training
    assert [tuple(x.shape) for x in inputs] == [(1, 100, 512)]
    with torch.inference_mode():
        assert tuple(model(*inputs).shape) == (1, 100, 512)
    model, _ = load_model_spec("zoo:resnet18")
    bn = model.bn1  # random statistics: not the identity torchvision initialises
    assert not torch.equal(bn.running_var, torch.ones_like(bn.running_var))


def test_unknown_zoo_model():
    with pytest.raises(FrontendError, match="the zoo has no model 'bart'.*gru"):
        load_model_spec("zoo:bart")


@pytest.fixture
def model_file(tmp_path):
    path = tmp_path / "tiny.py"
    path.write_text(textwrap.dedent("""
        import torch

        def make():
            torch.manual_seed(0)
            return torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.Tanh())

        def make_with_inputs():
            return make(), torch.ones(2, 4)
    """))
    return path


def test_file_spec_with_and_without_example_inputs(model_file):
    with pytest.raises(FrontendError, match="--input-shape"):
        load_model_spec(f"{model_file}:make")
    _, inputs = load_model_spec(f"{model_file}:make", input_shapes=[(5, 4)])
    assert tuple(inputs[0].shape) == (5, 4)
    _, inputs = load_model_spec(f"{model_file}:make_with_inputs")
    assert tuple(inputs[0].shape) == (2, 4)
    with pytest.raises(FrontendError, match="no attribute 'nope'"):
        load_model_spec(f"{model_file}:nope")


def test_sparsec_import_command_writes_a_module_that_runs(model_file, tmp_path):
    out = tmp_path / "tiny.mlir"
    assert cli_main(["import", f"{model_file}:make", "--input-shape", "2,4", "-o",
                     str(out)]) == 0
    module = parse_module(out.read_text())
    model, _ = load_model_spec(f"{model_file}:make_with_inputs")
    x = np.linspace(-1, 1, 8, dtype=np.float32).reshape(2, 4)
    with torch.no_grad():
        expected = model(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(interpret(module, x)[0], expected, rtol=1e-6, atol=1e-6)


# --- .mlir files ------------------------------------------------------------------------


def test_torch_mlir_output_round_trips_through_a_file(tmp_path):
    """torch-mlir's own printout of a raw FX import (weights in its trailer, in-place
    relu_ on value tensors, which its own parser rejects) imports to the same numbers as
    the model."""
    from torch_mlir import fx

    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Conv2d(2, 4, 3), torch.nn.BatchNorm2d(4),
                                torch.nn.ReLU(inplace=True), torch.nn.Flatten(),
                                torch.nn.Linear(64, 3))
    model.eval()
    x = torch.randn(1, 2, 6, 6)
    torch_module = fx.export_and_import(model, x, output_type="raw", decomposition_table={})
    for generic in (False, True):
        path = tmp_path / f"model_{generic}.mlir"
        path.write_text(torch_module.operation.get_asm(print_generic_op_form=generic))
        assert "torch.aten.relu_" in path.read_text()
        module = import_file(str(path))
        with torch.no_grad():
            expected = model(x).numpy()
        np.testing.assert_allclose(interpret(module, x.numpy())[0], expected, rtol=1e-5,
                                   atol=1e-6)


def test_mlir_input_shapes_must_match(tmp_path):
    path = tmp_path / "id.mlir"
    path.write_text("func.func @main(%arg0: !torch.vtensor<[2],f32>) -> !torch.vtensor<[2],f32> {\n"
                    "  return %arg0 : !torch.vtensor<[2],f32>\n}\n")
    assert import_file(str(path), input_shapes=[(2,)]) is not None
    with pytest.raises(FrontendError, match="shapes are fixed"):
        import_file(str(path), input_shapes=[(3,)])


def test_malformed_mlir_is_a_located_error(tmp_path):
    path = tmp_path / "bad.mlir"
    path.write_text("func.func @main() {\n  %0 = torch.constant.int\n}\n")
    with pytest.raises(FrontendError, match=r"bad.mlir:\d+:\d+: error:"):
        import_file(str(path))


# --- .onnx files ------------------------------------------------------------------------


def test_onnx_model_with_a_dynamic_batch(tmp_path):
    pytest.importorskip("onnx")
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3, padding=1), torch.nn.ReLU(),
                                torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten(),
                                torch.nn.Linear(4, 2)).eval()
    path = tmp_path / "model.onnx"
    x = torch.randn(2, 3, 8, 8)
    torch.onnx.export(model, (x,), str(path), dynamo=False, input_names=["x"],
                      dynamic_axes={"x": {0: "batch"}})
    with pytest.raises(FrontendError, match="--input-shape"):
        import_file(str(path))
    module = import_file(str(path), input_shapes=[(2, 3, 8, 8)])
    with torch.no_grad():
        expected = model(x).numpy()
    np.testing.assert_allclose(interpret(module, x.numpy())[0], expected, rtol=1e-5, atol=1e-6)


# --- printing ---------------------------------------------------------------------------


def test_imported_module_prints_and_parses_back_with_its_weights():
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(16, 8), torch.nn.GELU()).eval()
    module = import_model(model, (torch.randn(1, 16),))
    text = print_module(module)
    assert "dense_resource<_0.weight>" in text and "dialect_resources" in text
    x = np.ones((1, 16), np.float32)
    np.testing.assert_array_equal(interpret(parse_module(text), x)[0], interpret(module, x)[0])
