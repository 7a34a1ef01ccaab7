"""Code generation driven by the fusion plan: one kernel per nn.fused group where the
generator can (prologues packed into a convolution's panels, epilogues in registers), the
fewest kernels and a record of the split where it cannot, and fusion off."""

import io

import numpy as np
import pytest
from xdsl.dialects.builtin import ModuleOp, TensorType, f32
from xdsl.dialects.func import FuncOp, ReturnOp
from xdsl.ir import Block, Region

from sparsec.dialects import nn
from sparsec.interpreters import interpret
from sparsec.runtime.compiled import compile as jit_compile
from sparsec.transforms.fusion import fuse

RTOL = ATOL = 1e-4  # as tests/property/test_jit_vs_interpreter.py


@pytest.fixture(autouse=True, scope="module")
def private_cache(tmp_path_factory):
    patch = pytest.MonkeyPatch()
    patch.setenv("SPARSEC_CACHE_DIR", str(tmp_path_factory.mktemp("jit-cache")))
    patch.setenv("SPARSEC_VERIFY", "1")
    yield
    patch.undo()


class Fn:
    def __init__(self, *shapes):
        self.block = Block(arg_types=[TensorType(f32, s) for s in shapes])
        self.rng = np.random.default_rng(0)
        self.keys = 0

    @property
    def args(self):
        return self.block.args

    def __call__(self, op):
        self.block.add_op(op)
        return op.results[0]

    def const(self, shape, low=-1.0, high=1.0):
        self.keys += 1
        array = self.rng.uniform(low, high, shape).astype(np.float32)
        return self(nn.ConstantOp.from_array(array, f"w{self.keys}"))

    def bn(self, x):
        c = (x.type.get_shape()[1],)
        return self(nn.BatchNormOp(x, self.const(c), self.const(c), self.const(c),
                                   self.const(c, 0.5, 2.0)))

    def conv(self, x, cout, k=3, stride=1, bias=True):
        cin = x.type.get_shape()[1]
        b = self.const((cout,)) if bias else None
        return self(nn.Conv2dOp(x, self.const((cout, cin, k, k)), b, stride=(stride, stride),
                                padding=(k // 2, k // 2)))

    def module(self, *outputs):
        self.block.add_op(ReturnOp(*outputs))
        signature = ([a.type for a in self.block.args], [o.type for o in outputs])
        return ModuleOp([FuncOp("main", signature, Region(self.block))])


def bn_relu_conv_relu_add(stride):
    """DNNFusion's conv+bias+relu+add with a batch_norm+relu prologue: one group."""
    f = Fn((1, 3, 9, 11), (1, 4, 9 // stride + 9 % stride, 11 // stride + 11 % stride))
    x, y = f.args
    c = f.conv(f(nn.ReluOp(f.bn(x))), 4, stride=stride)
    return f.module(f(nn.AddOp(f(nn.ReluOp(c)), y)))


def add_relu_conv():
    """A two-input prologue head: add(x, y) -> relu6 -> 1x1 conv (MobileNet's shape)."""
    f = Fn((1, 8, 5, 7), (1, 8, 5, 7))
    x, y = f.args
    return f.module(f.conv(f(nn.ClampOp(f(nn.AddOp(x, y)), 0.0, 6.0)), 5, k=1, bias=False))


def run(module, **options):
    rng = np.random.default_rng(1)
    function = module.ops.first
    inputs = [rng.standard_normal(t.get_shape()).astype(np.float32)
              for t in function.function_type.inputs.data]
    expected = interpret(module, *inputs)
    compiled = jit_compile(module, **options)
    actual = compiled(*inputs)
    actual = actual if isinstance(actual, tuple) else (actual,)
    for got, want in zip(actual, expected, strict=True):
        scale = max(1.0, float(np.max(np.abs(want))))
        np.testing.assert_allclose(got, want, rtol=RTOL, atol=ATOL * scale)
    return compiled


def fused(module):
    fuse(module)
    return module


@pytest.mark.parametrize("stride", [1, 2])
def test_a_group_with_prologue_and_epilogue_is_one_kernel(stride):
    compiled = run(fused(bn_relu_conv_relu_add(stride)))
    assert [k["ops"] for k in compiled.kernels] == [
        ["nn.batch_norm", "nn.relu", "nn.conv2d", "nn.relu", "nn.add"]]
    summary = compiled.fusion_summary
    assert summary["mode"] == "plan"
    assert summary["layers_before"] == 5 and summary["layers_after"] == 1
    assert summary["bytes_after"] < summary["bytes_before"]
    assert compiled.arena["bytes"] == 0  # no intermediate is stored


def test_same_module_without_groups_and_with_fusion_off():
    greedy = run(bn_relu_conv_relu_add(1))
    assert [k["ops"] for k in greedy.kernels] == [
        ["nn.batch_norm", "nn.relu"], ["nn.conv2d", "nn.relu", "nn.add"]]
    assert greedy.fusion_summary["mode"] == "greedy"
    off = run(bn_relu_conv_relu_add(1), fusion=False)
    assert [len(k["ops"]) for k in off.kernels] == [1] * 5
    assert off.fusion_summary["mode"] == "off"
    off_fused = run(fused(bn_relu_conv_relu_add(1)), fusion=False)
    (group,) = off_fused.fusion_summary["groups"]
    assert len(group["kernels"]) == 5  # the group is there, fusion is off: five kernels


def test_a_two_input_prologue_head():
    compiled = run(fused(add_relu_conv()))
    assert [k["ops"] for k in compiled.kernels] == [["nn.add", "nn.clamp", "nn.conv2d"]]


def test_a_split_group_is_recorded_and_reported():
    """relu's result is also returned, so it is stored and the convolution reads it: the
    group {batch_norm, relu, conv2d} becomes two kernels, and the report says so."""
    f = Fn((1, 3, 6, 6))
    r = f(nn.ReluOp(f.bn(f.args[0])))
    module = fused(f.module(r, f.conv(r, 2)))
    compiled = run(module)
    (group,) = compiled.fusion_summary["groups"]
    assert group["ops"] == ["nn.batch_norm", "nn.relu", "nn.conv2d"]
    assert len(group["kernels"]) == 2
    out = io.StringIO()
    compiled.report(runs=1, file=out)
    assert "fusion: plan" in out.getvalue()
    assert "split into 2 kernels" in out.getvalue()
    assert "layers: 3 -> 1" in out.getvalue()


def test_depthwise_convolutions_take_no_prologue():
    f = Fn((1, 4, 6, 6))
    x = f(nn.ReluOp(f.args[0]))
    dw = f(nn.Conv2dOp(x, f.const((4, 1, 3, 3)), None, padding=(1, 1), groups=4))
    compiled = run(fused(f.module(dw)))
    assert [k["ops"] for k in compiled.kernels] == [["nn.relu"], ["nn.conv2d"]]
