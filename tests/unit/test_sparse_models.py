"""Real architectures compiled with `sparsec.compile(..., sparsity=...)` match PyTorch run
on the same masked weights.

One import per model (module fixture); each scheme then compiles that module with
`sparsity=`, whose `sparsify` pass prunes it, while `sparsec.prune` masks a copy of the
PyTorch model with the same scheme: the two prunings must agree (same rule, same
weights), so the comparison also checks that the compiler and the torch-side masks see
the same structure. ResNet-18 and MobileNetV2 (whose depthwise 3x3 convolutions take
patterns group by group) and a 2-layer version of the BERT-like encoder (768 wide, 128
tokens), from sparsec/frontend/zoo.py, each with BCR 8x4 at 80% and with pattern +
connectivity (the encoder has no 3x3 convolution: its linear layers take BCR at the
pattern scheme's rate, as layers patterns do not fit always do).

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
from sparsec.frontend import zoo  # noqa: E402

pytestmark = pytest.mark.model
TOLERANCE = 1e-4
SCHEMES = {"bcr80": sparsec.BCR((8, 4), 0.8),
           "pattern": sparsec.Pattern(patterns=8, connectivity=3.6)}


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("SPARSEC_CACHE_DIR", str(tmp_path / "jit"))


def build(name: str):
    """The zoo's models; the BERT-like encoder with 2 of its 12 layers (compile time)."""
    model, (x,) = zoo.build(name, **({"layers": 2} if name == "bert_like_encoder" else {}))
    return model, x


@pytest.fixture(scope="module", params=["resnet18", "mobilenet_v2", "bert_like_encoder"])
def imported(request):
    model, x = build(request.param)
    return request.param, model, x, sparsec.import_model(model, (x,))


@pytest.mark.parametrize("scheme", list(SCHEMES))
def test_sparse_model_matches_pytorch_on_masked_weights(imported, scheme):
    name, model, x, module = imported
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
