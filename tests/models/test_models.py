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
from sparsec.frontend import import_model, zoo  # noqa: E402
from sparsec.interpreters import interpret  # noqa: E402

pytestmark = pytest.mark.model
TOLERANCE = 1e-4
NN_OPS = {op.name for op in NN.operations}


# The recurrent models are small here (the interpreter runs them op by op) and return
# their final state too.
RECURRENT = {"input_size": 64, "hidden": 128, "seq": 32, "state": True}
MODELS = {name: (lambda name=name: zoo.build(name)) for name in
          ["resnet18", "resnet50", "mobilenet_v2", "mobilenet_v3_large", "efficientnet_b0",
           "vgg16", "vit_b_16", "bert_like_encoder"]}
MODELS["gru"] = lambda: zoo.build("gru", **RECURRENT)
MODELS["lstm"] = lambda: zoo.build("lstm", **RECURRENT)

# One small member of every other torchvision classification family.
FAMILIES = ["alexnet", "convnext_tiny", "densenet121", "efficientnet_v2_s", "googlenet",
            "maxvit_t", "mnasnet0_5", "mobilenet_v3_small", "regnet_y_400mf",
            "resnext50_32x4d", "shufflenet_v2_x0_5", "squeezenet1_1", "swin_t", "swin_v2_t",
            "vgg11_bn"]
MODELS.update({name: (lambda name=name: zoo.build(name)) for name in
               [*FAMILIES, "inception_v3"]})

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
