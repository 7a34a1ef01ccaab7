"""End to end on real architectures: PyTorch model -> nn module (sparsec.frontend) ->
reference interpreter, compared with PyTorch eager on a random input.

Each model is built and imported once (a module-scoped fixture). Parameters are random
(no downloads); batch-norm statistics and zero-initialised layers are randomised first, so
that no layer is an identity and outputs are not all zeros (torchvision zero-initialises
ViT's head, for one).

Tolerance: every output element within 1e-4 of the output's scale (max |expected|), plus
1e-4 relative. The interpreter computes in float64 where PyTorch uses float32 kernels;
the measured differences are 1e-7 to 1e-6 of the scale.
"""

import time

import numpy as np
import pytest

torch = pytest.importorskip("torch")
torchvision = pytest.importorskip("torchvision")
pytest.importorskip("torch_mlir")

from sparsec.dialects.nn import NN  # noqa: E402
from sparsec.frontend import import_model  # noqa: E402
from sparsec.interpreters import interpret  # noqa: E402

pytestmark = pytest.mark.model
TOLERANCE = 1e-4
NN_OPS = {op.name for op in NN.operations}


def randomize(model: torch.nn.Module, seed: int = 0) -> torch.nn.Module:
    """Random running statistics and affine parameters for every batch norm, and random
    weights for layers initialised to zero."""
    generator = torch.Generator().manual_seed(seed)

    def uniform(t, low, high):
        t.copy_(torch.rand(t.shape, generator=generator) * (high - low) + low)

    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, torch.nn.modules.batchnorm._BatchNorm):
                uniform(module.running_mean, -0.1, 0.1)
                uniform(module.running_var, 0.5, 1.5)
                uniform(module.weight, 0.5, 1.5)
                uniform(module.bias, -0.1, 0.1)
            elif isinstance(module, torch.nn.Linear) and not module.weight.any():
                module.weight.copy_(torch.randn(module.weight.shape, generator=generator) * 0.02)
    return model.eval()


def image(size: int = 224):
    return (torch.randn(1, 3, size, size, generator=torch.Generator().manual_seed(1)),)


def torchvision_model(name: str, size: int = 224):
    torch.manual_seed(0)
    return randomize(torchvision.models.get_model(name, weights=None)), image(size)


def bert_like_encoder():
    """BERT-base's encoder shape: 12 layers, d_model 768, 12 heads, GELU, sequence 128."""
    torch.manual_seed(0)
    layer = torch.nn.TransformerEncoderLayer(768, 12, dim_feedforward=3072, batch_first=True,
                                             activation="gelu")
    model = torch.nn.TransformerEncoder(layer, 12, enable_nested_tensor=False)
    return model.eval(), (torch.randn(1, 128, 768, generator=torch.Generator().manual_seed(1)),)


class Recurrent(torch.nn.Module):
    def __init__(self, cls):
        super().__init__()
        self.rnn = cls(64, 128, num_layers=2, batch_first=True)

    def forward(self, x):
        return self.rnn(x)


def recurrent(cls):
    torch.manual_seed(0)
    return Recurrent(cls).eval(), (torch.randn(1, 32, 64,
                                               generator=torch.Generator().manual_seed(1)),)


MODELS = {
    "resnet18": lambda: torchvision_model("resnet18"),
    "resnet50": lambda: torchvision_model("resnet50"),
    "mobilenet_v2": lambda: torchvision_model("mobilenet_v2"),
    "mobilenet_v3_large": lambda: torchvision_model("mobilenet_v3_large"),
    "efficientnet_b0": lambda: torchvision_model("efficientnet_b0"),
    "vgg16": lambda: torchvision_model("vgg16"),
    "vit_b_16": lambda: torchvision_model("vit_b_16"),
    "bert_like_encoder": bert_like_encoder,
    "gru": lambda: recurrent(torch.nn.GRU),
    "lstm": lambda: recurrent(torch.nn.LSTM),
}

# One small member of every other torchvision classification family.
FAMILIES = ["alexnet", "convnext_tiny", "densenet121", "efficientnet_v2_s", "googlenet",
            "maxvit_t", "mnasnet0_5", "mobilenet_v3_small", "regnet_y_400mf",
            "resnext50_32x4d", "shufflenet_v2_x0_5", "squeezenet1_1", "swin_t", "swin_v2_t",
            "vgg11_bn"]
MODELS.update({name: (lambda name=name: torchvision_model(name)) for name in FAMILIES})
MODELS["inception_v3"] = lambda: torchvision_model("inception_v3", 299)

# A few op counts per model: the operators stayed whole (no decomposition). The other
# families are only compared with PyTorch.
EXPECTED_OPS = {
    "resnet18": {"nn.conv2d": 20, "nn.batch_norm": 20, "nn.linear": 1, "nn.max_pool2d": 1},
    "resnet50": {"nn.conv2d": 53, "nn.batch_norm": 53, "nn.add": 16},
    "mobilenet_v2": {"nn.conv2d": 52, "nn.batch_norm": 52, "nn.clamp": 35},
    "mobilenet_v3_large": {"nn.conv2d": 62, "nn.hardswish": 21, "nn.hardsigmoid": 8},
    "efficientnet_b0": {"nn.conv2d": 81, "nn.silu": 49, "nn.adaptive_avg_pool2d": 17},
    "vgg16": {"nn.conv2d": 13, "nn.max_pool2d": 5, "nn.linear": 3},
    "vit_b_16": {"nn.conv2d": 1, "nn.layer_norm": 25, "nn.softmax": 12, "nn.gelu": 12},
    "bert_like_encoder": {"nn.layer_norm": 24, "nn.softmax": 12, "nn.gelu": 12,
                          "nn.linear": 48},
    # one input projection per layer, one hidden projection per step but the first
    # (the initial state is zero, so that one is folded)
    "gru": {"nn.linear": 2 + 2 * 31, "nn.tanh": 2 * 32},
    "lstm": {"nn.linear": 2 + 2 * 31, "nn.tanh": 2 * 2 * 32},
}


class Imported:
    def __init__(self, name: str):
        self.name = name
        model, self.inputs = MODELS[name]()
        start = time.perf_counter()
        self.module = import_model(model, self.inputs)
        self.import_seconds = time.perf_counter() - start
        with torch.no_grad():
            self.expected = [t.numpy() for t in torch.utils._pytree.tree_leaves(
                model(*self.inputs))]


@pytest.fixture(scope="module", params=list(MODELS))
def imported(request):
    return Imported(request.param)


def test_matches_pytorch(imported):
    got = interpret(imported.module, *[x.numpy() for x in imported.inputs])
    assert len(got) == len(imported.expected)
    for index, (g, e) in enumerate(zip(got, imported.expected, strict=True)):
        scale = float(np.max(np.abs(e)))
        assert scale > 1e-3, f"{imported.name}: output {index} is ~0: a useless comparison"
        assert g.shape == e.shape and g.dtype == e.dtype
        error = float(np.max(np.abs(g - e)))
        assert error <= TOLERANCE * scale, (
            f"{imported.name} output {index}: max error {error:.3g} for scale {scale:.3g}")
        np.testing.assert_allclose(g, e, rtol=TOLERANCE, atol=TOLERANCE * scale)


def test_operators_stay_whole(imported):
    counts = {}
    for op in imported.module.walk():
        counts[op.name] = counts.get(op.name, 0) + 1
    assert set(counts) <= {"builtin.module", "func.func", "func.return"} | NN_OPS
    for name, count in EXPECTED_OPS.get(imported.name, {}).items():
        assert counts.get(name, 0) == count, (imported.name, name, counts)
