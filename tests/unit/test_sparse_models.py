"""Real architectures compiled with `sparsec.compile(..., sparsity=...)` match PyTorch run
on the same masked weights.

One import per model (module fixture); each scheme then compiles that module with
`sparsity=`, whose `sparsify` pass prunes it, while `sparsec.prune` masks a copy of the
PyTorch model with the same scheme: the two prunings must agree (same rule, same
weights), so the comparison also checks that the compiler and the torch-side masks see
the same structure. ResNet-18 and MobileNetV2 (whose depthwise 3x3 convolutions take
patterns group by group) with BCR 8x4 at 80% and with pattern + connectivity, and a
2-layer version of the BERT-like encoder (768 wide, 128 tokens) with BCR.

Tolerance: every output element within 1e-4 of the output's scale, plus 1e-4 relative
(the sparse kernels sum in a different order than PyTorch).
"""

import copy

import numpy as np
import pytest

torch = pytest.importorskip("torch")
torchvision = pytest.importorskip("torchvision")
pytest.importorskip("torch_mlir")

import sparsec  # noqa: E402

pytestmark = pytest.mark.model
TOLERANCE = 1e-4
SCHEMES = {"bcr80": sparsec.BCR((8, 4), 0.8),
           "pattern": sparsec.Pattern(patterns=8, connectivity=3.6)}


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("SPARSEC_CACHE_DIR", str(tmp_path / "jit"))


def randomized(model: torch.nn.Module) -> torch.nn.Module:
    """Random batch-norm statistics (no layer is an identity)."""
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for layer in model.modules():
            if isinstance(layer, torch.nn.modules.batchnorm._BatchNorm):
                layer.running_mean.uniform_(-0.1, 0.1, generator=generator)
                layer.running_var.uniform_(0.5, 1.5, generator=generator)
                layer.weight.uniform_(0.5, 1.5, generator=generator)
                layer.bias.uniform_(-0.1, 0.1, generator=generator)
    return model.eval()


def build(name: str):
    torch.manual_seed(0)
    if name == "bert_like_encoder":
        layer = torch.nn.TransformerEncoderLayer(768, 12, 3072, batch_first=True,
                                                 activation="gelu")
        model = torch.nn.TransformerEncoder(layer, 2, enable_nested_tensor=False)
        return model.eval(), torch.randn(1, 128, 768)
    model = randomized(torchvision.models.get_model(name, weights=None))
    return model, torch.randn(1, 3, 224, 224)


@pytest.fixture(scope="module", params=["resnet18", "mobilenet_v2", "bert_like_encoder"])
def imported(request):
    model, x = build(request.param)
    return request.param, model, x, sparsec.import_model(model, (x,))


@pytest.mark.parametrize("scheme", list(SCHEMES))
def test_sparse_model_matches_pytorch_on_masked_weights(imported, scheme):
    name, model, x, module = imported
    if name == "bert_like_encoder" and scheme == "pattern":
        pytest.skip("no 3x3 convolutions: patterns do not apply")
    masked = copy.deepcopy(model)
    pruning = sparsec.prune(masked, SCHEMES[scheme])
    with torch.inference_mode():
        expected = masked(x).numpy()
    compiled = sparsec.compile(module, sparsity=SCHEMES[scheme])
    dense_bytes = 4 * sum(p.numel() for p in model.parameters())
    assert compiled._artifact.weights.nbytes < 0.8 * dense_bytes  # packed, not dense
    got = compiled(x.numpy())
    scale = max(1.0, float(np.abs(expected).max()))
    np.testing.assert_allclose(got, expected, rtol=TOLERANCE, atol=TOLERANCE * scale)
    assert min(pruning.sparsity().values()) > 0.5
