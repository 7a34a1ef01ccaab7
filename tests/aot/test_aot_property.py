"""Hypothesis-generated small nn programs, ahead of time on both targets: each program is
compiled to an object, linked with the driver, run (AArch64 under qemu, x86-64 natively)
and compared with the reference interpreter (tolerance: conftest.RTOL / ATOL).

Programs are short chains, CNN-like (convolutions dense, grouped or depthwise with
strides and padding, batch norm, activations, pooling, a broadcast add, then a global
pool and a classifier with softmax) or MLP-like (linear layers, activations, a second
input added in). Each example costs a compile, a link and a run, so there are few.
"""

from __future__ import annotations

from itertools import count

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from xdsl.dialects import func
from xdsl.dialects.builtin import ModuleOp
from xdsl.ir import Block, Region

from sparsec.dialects import nn
from sparsec.dialects.resources import tensor_type_of
from sparsec.interpreters import interpret

_KEYS = count()


def _shape(value) -> tuple[int, ...]:
    return tuple(value.type.get_shape())


class ProgramBuilder:
    def __init__(self, draw, inputs: list[np.ndarray]):
        self.draw = draw
        self.inputs = inputs
        self.block = Block(arg_types=[tensor_type_of(a) for a in inputs])
        self.ops: list = []

    def array(self, shape, scale=0.5) -> np.ndarray:
        seed = self.draw(st.integers(0, 2**31 - 1))
        return np.asarray(np.random.default_rng(seed).standard_normal(shape) * scale,
                          np.float32)

    def constant(self, array: np.ndarray):
        op = nn.ConstantOp.from_array(array, f"p{next(_KEYS)}")
        self.ops.append(op)
        return op.result

    def add(self, op):
        self.ops.append(op)
        return op.results[0]

    def activation(self, value):
        kind = self.draw(st.sampled_from(["relu", "sigmoid", "tanh", "relu6", "none"]))
        if kind == "relu":
            return self.add(nn.ReluOp(value))
        if kind == "sigmoid":
            return self.add(nn.SigmoidOp(value))
        if kind == "tanh":
            return self.add(nn.TanhOp(value))
        if kind == "relu6":
            return self.add(nn.ClampOp(value, 0.0, 6.0))
        return value

    def module(self, result) -> ModuleOp:
        self.ops.append(func.ReturnOp(result))
        self.block.add_ops(self.ops)
        types = list(self.block.arg_types)
        return ModuleOp([func.FuncOp("main", (types, [result.type]), Region(self.block))])


def conv_layer(b: ProgramBuilder, value):
    _, cin, h, w = _shape(value)
    depthwise = b.draw(st.booleans())
    groups = cin if depthwise else 1
    cout = cin if depthwise else b.draw(st.integers(1, 12))
    k = b.draw(st.sampled_from([1, 3] if min(h, w) >= 3 else [1]))
    stride = b.draw(st.integers(1, 2))
    padding = b.draw(st.integers(0, k // 2))
    weight = b.constant(b.array((cout, cin // groups, k, k)))
    bias = b.constant(b.array((cout,))) if b.draw(st.booleans()) else None
    value = b.add(nn.Conv2dOp(value, weight, bias, stride=(stride, stride),
                              padding=(padding,) * 4, dilation=(1, 1), groups=groups))
    if b.draw(st.booleans()):
        c = _shape(value)[1]
        params = [b.constant(b.array((c,))), b.constant(b.array((c,))),
                  b.constant(b.array((c,), 0.1)),
                  b.constant(np.abs(b.array((c,))) + np.float32(0.5))]
        value = b.add(nn.BatchNormOp(value, *params, epsilon=1e-5))
    return b.activation(value)


@st.composite
def cnn_program(draw) -> tuple[ModuleOp, list[np.ndarray]]:
    shape = (1, draw(st.integers(1, 6)), draw(st.integers(3, 12)), draw(st.integers(3, 12)))
    x = np.random.default_rng(draw(st.integers(0, 2**31 - 1))).standard_normal(shape)
    b = ProgramBuilder(draw, [x.astype(np.float32)])
    value = b.block.args[0]
    for _ in range(draw(st.integers(1, 3))):
        value = conv_layer(b, value)
        if draw(st.booleans()):  # a per-channel broadcast add
            value = b.add(nn.AddOp(value, b.constant(b.array((_shape(value)[1], 1, 1)))))
        if min(_shape(value)[2:]) >= 4 and draw(st.booleans()):
            value = b.add(nn.MaxPool2dOp(value, (2, 2), (2, 2), (0, 0), (1, 1), False))
    if draw(st.booleans()):
        value = b.add(nn.AdaptiveAvgPool2dOp(value, (1, 1)))
        channels = _shape(value)[1]
        value = b.add(nn.ReshapeOp(value, (1, channels)))
        classes = draw(st.integers(1, 10))
        value = b.add(nn.LinearOp(value, b.constant(b.array((classes, channels))),
                                  b.constant(b.array((classes,)))))
        value = b.add(nn.SoftmaxOp(value, -1))
    return b.module(value), b.inputs


@st.composite
def mlp_program(draw) -> tuple[ModuleOp, list[np.ndarray]]:
    rows, features = draw(st.integers(1, 6)), draw(st.integers(1, 40))
    rng = np.random.default_rng(draw(st.integers(0, 2**31 - 1)))
    x = rng.standard_normal((rows, features)).astype(np.float32)
    layers = draw(st.integers(1, 3))
    width = [features] + [draw(st.integers(1, 40)) for _ in range(layers)]
    skip = rng.standard_normal((rows, width[-1])).astype(np.float32)
    b = ProgramBuilder(draw, [x, skip])
    value = b.block.args[0]
    for i in range(layers):
        bias = b.constant(b.array((width[i + 1],))) if draw(st.booleans()) else None
        value = b.add(nn.LinearOp(value, b.constant(b.array((width[i + 1], width[i]))), bias))
        value = b.activation(value)
    value = b.add(nn.AddOp(value, b.block.args[1]))
    return b.module(value), b.inputs


@settings(max_examples=8)
@given(program=st.one_of(cnn_program(), mlp_program()))
def test_generated_programs_match_interpreter(program, platform, tmp_path_factory, matches):
    module, inputs = program
    expected = interpret(module, *inputs)
    built = platform.build(module, tmp_path_factory.mktemp("generated"))
    run = built.run(inputs)
    assert run.returncode == 0, run.stderr
    matches(run.outputs, expected, f"on {platform.triple}")
