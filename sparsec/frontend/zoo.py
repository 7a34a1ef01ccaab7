"""The reference models sparsec is tested and benchmarked on, with random weights.

    model, inputs = build("resnet18")                  # any torchvision classification model
    model, inputs = build("bert_like_encoder")         # BERT-base's encoder: 12 x 768, seq 128
    model, inputs = build("gru", hidden=128, seq=32)   # 2-layer GRU (or "lstm"), sizes overridable

Also on the command line: `sparsec import zoo:gru -o gru.mlir`.

Nothing is downloaded: parameters come from torch's initialisers (seed 0), and then every
batch norm gets random running statistics and affine parameters, and layers initialised to
zero (ViT's head) get random weights, so that no layer is an identity and no output is all
zeros. Inputs are standard normal from their own generator (seed 1). Models are in eval
mode, batch 1.

The tests (tests/models, tests/unit/test_runtime_models.py) and the benchmarks
(benchmarks/) all build their models here, so they measure and check the same networks.
"""

from __future__ import annotations

from .errors import FrontendError, require

IMAGE_SIZES = {"inception_v3": 299}
"""Input resolution of the torchvision models that do not take 224 x 224."""

CUSTOM = ("bert_like_encoder", "gru", "lstm")


def randomize(model, seed: int = 0):
    """Random batch-norm statistics and affine parameters, random weights for linear
    layers initialised to zero; returns the model in eval mode."""
    torch = require("torch")
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
                module.weight.copy_(torch.randn(module.weight.shape, generator=generator)
                                    * 0.02)
    return model.eval()


def inputs(*shapes) -> tuple:
    """Standard-normal float32 inputs of the given shapes (seed 1)."""
    torch = require("torch")
    generator = torch.Generator().manual_seed(1)
    return tuple(torch.randn(*shape, generator=generator) for shape in shapes)


def torchvision_model(name: str, size: int | None = None):
    torch, torchvision = require("torch"), require("torchvision")
    known = torchvision.models.list_models(module=torchvision.models)
    if name not in known:
        raise FrontendError(f"error: torchvision has no classification model {name!r}")
    size = size or IMAGE_SIZES.get(name, 224)
    torch.manual_seed(0)
    return randomize(torchvision.models.get_model(name, weights=None)), inputs((1, 3, size, size))


def bert_like_encoder(layers: int = 12, width: int = 768, heads: int = 12,
                      feedforward: int = 3072, seq: int = 128):
    """BERT-base's encoder shape by default: 12 layers, d_model 768, 12 heads, GELU."""
    torch = require("torch")
    torch.manual_seed(0)
    layer = torch.nn.TransformerEncoderLayer(width, heads, feedforward, batch_first=True,
                                             activation="gelu")
    model = torch.nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
    return model.eval(), inputs((1, seq, width))


def recurrent(kind: str, input_size: int = 512, hidden: int = 512, layers: int = 2,
              seq: int = 100, state: bool = False):
    """A `kind` ("gru", "lstm") stack, batch first; it returns the output sequence, and
    also the final state when `state`."""
    torch = require("torch")
    cls = {"gru": torch.nn.GRU, "lstm": torch.nn.LSTM}[kind]

    class Recurrent(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.rnn = cls(input_size, hidden, num_layers=layers, batch_first=True)

        def forward(self, x):
            output = self.rnn(x)
            return output if state else output[0]

    torch.manual_seed(0)
    return Recurrent().eval(), inputs((1, seq, input_size))


def build(name: str, **options):
    """(model, example inputs) for a zoo name: a torchvision classification model,
    "bert_like_encoder", "gru" or "lstm"; `options` go to the builder."""
    if name == "bert_like_encoder":
        return bert_like_encoder(**options)
    if name in ("gru", "lstm"):
        return recurrent(name, **options)
    return torchvision_model(name, **options)
