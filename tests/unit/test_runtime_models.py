"""End to end on real architectures: PyTorch model -> nn module (sparsec.frontend) ->
sparsec.compile (JIT, one thread) -> compared with PyTorch eager on a random input.

The models are those of the frontend's list, built by sparsec/frontend/zoo.py: torchvision
CNNs and ViT, a BERT-base-like encoder, a GRU and an LSTM, with random weights and
random batch-norm statistics (so no layer is an identity).

Tolerance: every output element within 1e-4 of the output's scale (max |expected|), plus
1e-4 relative: PyTorch and the JIT sum in different orders; the measured differences are
1e-7 to 2e-6 of the scale.
"""

import numpy as np
import pytest

torch = pytest.importorskip("torch")
torchvision = pytest.importorskip("torchvision")
pytest.importorskip("torch_mlir")

import sparsec  # noqa: E402
from sparsec.frontend import zoo  # noqa: E402

pytestmark = pytest.mark.model
TOLERANCE = 1e-4


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("SPARSEC_CACHE_DIR", str(tmp_path / "jit"))


# The recurrent models are small here: every step is a kernel, compile time grows with it.
RECURRENT = {"input_size": 64, "hidden": 128, "seq": 20}


def build(name: str):
    model, (x,) = zoo.build(name, **(RECURRENT if name in ("gru", "lstm") else {}))
    return model, x


@pytest.mark.parametrize("name", ["resnet18", "resnet50", "mobilenet_v2",
                                  "mobilenet_v3_large", "efficientnet_b0", "vgg16",
                                  "vit_b_16", "bert_like_encoder", "gru", "lstm"])
def test_model_matches_pytorch(name):
    model, x = build(name)
    with torch.inference_mode():
        expected = model(x).numpy()
    compiled = sparsec.compile(model, (x,))
    got = compiled(x)
    assert isinstance(got, torch.Tensor) and tuple(got.shape) == expected.shape
    scale = max(1.0, float(np.abs(expected).max()))
    np.testing.assert_allclose(got.numpy(), expected, rtol=TOLERANCE, atol=TOLERANCE * scale)
    arena = compiled.arena
    assert arena["floor"] <= arena["bytes"] <= 1.5 * arena["floor"]


def small_encoder():
    torch.manual_seed(0)
    layer = torch.nn.TransformerEncoderLayer(64, 4, 128, batch_first=True, activation="gelu")
    model = torch.nn.TransformerEncoder(layer, 2, enable_nested_tensor=False)
    return model.eval(), torch.randn(1, 16, 64)


_IMPORTED: dict = {}


def imported(name: str):
    """(module, model, input), imported once per test session."""
    if name not in _IMPORTED:
        model, x = small_encoder() if name == "small_encoder" else build(name)
        _IMPORTED[name] = (sparsec.import_model(model, (x,)), model, x)
    return _IMPORTED[name]


@pytest.mark.parametrize(("name", "options"), [
    ("mobilenet_v2", {"passes": "algebraic,fuse"}),
    ("mobilenet_v2", {"fusion": False}),
    ("efficientnet_b0", {"passes": "algebraic,fuse"}),
    ("vgg16", {"passes": "algebraic,fuse", "threads": 2}),
    ("small_encoder", {"passes": "algebraic,fuse"}),
    ("small_encoder", {"fusion": False}),
], ids=["mobilenet_v2-fused", "mobilenet_v2-unfused", "efficientnet_b0-fused",
        "vgg16-fused-2-threads", "encoder-fused", "encoder-unfused"])
def test_fused_and_unfused_pipelines_match_pytorch(name, options):
    """DNNFusion's plan driving the kernels (prologues into depthwise and 1x1
    convolutions, folded transposes, add+layer_norm, poolings as their convolution's pool
    epilogue: one kernel per such group), and fusion off."""
    module, model, x = imported(name)
    with torch.inference_mode():
        expected = model(x).numpy()
    compiled = sparsec.compile(module, **options)
    got = compiled(x.numpy())
    scale = max(1.0, float(np.abs(expected).max()))
    np.testing.assert_allclose(got, expected, rtol=TOLERANCE, atol=TOLERANCE * scale)
    summary = compiled.fusion_summary
    assert summary["mode"] == ("off" if options.get("fusion") is False else "plan")
    if summary["mode"] == "plan":
        assert summary["layers_after"] < summary["layers_before"]
        assert len(compiled.kernels) < summary["layers_before"]
        pooled = [g for g in summary["groups"] if "nn.conv2d" in g["ops"]
                  and any("pool" in op for op in g["ops"])]
        assert all(len(g["kernels"]) == 1 for g in pooled), pooled
        expected_pools = {"efficientnet_b0": 17, "vgg16": 5, "mobilenet_v2": 1}.get(name, 0)
        assert len(pooled) == expected_pools
