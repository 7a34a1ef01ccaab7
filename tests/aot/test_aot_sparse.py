"""Sparse kernels ahead of time: a small CNN and an MLP whose weights are packed in each
format (BCR, pattern, CSR) by `sparsify`, compiled to an object for AArch64 (run under
qemu) and x86-64 (run natively), against the reference interpreter on the same packed
module (which unpacks and runs the dense op). Same tolerance as the other AOT tests."""

from __future__ import annotations

import numpy as np
import pytest
from xdsl.passes import PassPipeline

from sparsec.dialects import nn
from sparsec.dialects.nn.builder import FunctionBuilder
from sparsec.interpreters import interpret
from sparsec.universe import all_passes, make_context

SCHEMES = {
    "bcr": "sparsify{scheme=bcr block=4x4 rate=0.75}",
    "pattern": "sparsify{scheme=pattern patterns=4 connectivity=2.0}",
    "csr": "sparsify{scheme=csr rate=0.8}",
}


def cnn_and_mlp():
    """conv3x3 + bias + relu -> conv3x3 + residual add -> linear on the flattened map."""
    f = FunctionBuilder((1, 8, 6, 6), seed=1)
    (x,) = f.args
    a = f(nn.ReluOp(f(nn.Conv2dOp(x, f.uniform((8, 8, 3, 3)), f.uniform((8,)),
                                  padding=(1, 1)))))
    b = f(nn.AddOp(f(nn.Conv2dOp(a, f.uniform((8, 8, 3, 3)), padding=(1, 1))), x))
    flat = f(nn.ReshapeOp(b, (1, 288)))
    return f.module(f(nn.LinearOp(flat, f.uniform((16, 288)), f.uniform((16,)))))


@pytest.mark.parametrize("scheme", list(SCHEMES))
def test_sparse_model_matches_interpreter(platform, matches, tmp_path, scheme):
    module = cnn_and_mlp()
    PassPipeline.parse_spec(all_passes(), SCHEMES[scheme]).apply(make_context(), module)
    encoded = [op for op in module.walk() if op.name == "sparse.assemble"]
    assert encoded, "sparsify packed no weight"
    x = np.random.default_rng(2).standard_normal((1, 8, 6, 6)).astype(np.float32)
    want = interpret(module, x)
    run = platform.build(module, tmp_path).run([x])
    assert run.returncode == 0, run.stderr
    matches(run.outputs, want, f"{scheme} on {platform.triple}")
