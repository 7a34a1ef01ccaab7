"""Code generation driven by the fusion plan: one kernel per nn.fused group where the
generator can (prologues packed into a convolution's panels, epilogues in registers), the
fewest kernels and a record of the split where it cannot, and fusion off."""

import io

import numpy as np
import pytest

from sparsec.dialects import nn
from sparsec.dialects.nn.builder import FunctionBuilder
from sparsec.interpreters import interpret
from sparsec.runtime.compiled import compile as jit_compile
from sparsec.transforms.fusion import fuse

RTOL = ATOL = 1e-4  # as tests/property/test_jit_vs_interpreter.py


pytestmark = pytest.mark.usefixtures("private_jit_cache")


class Fn(FunctionBuilder):
    """Random constants (so no test passes by symmetry), and a few layers."""

    def const(self, shape, low=-1.0, high=1.0):
        return self.uniform(shape, low, high)

    def bn(self, x):
        c = (x.type.get_shape()[1],)
        return self(nn.BatchNormOp(x, self.const(c), self.const(c), self.const(c),
                                   self.const(c, 0.5, 2.0)))

    def conv(self, x, cout, k=3, stride=1, bias=True):
        cin = x.type.get_shape()[1]
        b = self.const((cout,)) if bias else None
        return self(nn.Conv2dOp(x, self.const((cout, cin, k, k)), b, stride=(stride, stride),
                                padding=(k // 2, k // 2)))


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
    """{conv2d, relu, max_pool2d} planned dense, then sparsified: the sparse kernel takes
    no pool epilogue, so the group becomes two kernels, and the report says so. (The
    planner forms no group it knows the generator would split.)"""
    from sparsec.lowering.pipelines import run_spec

    f = Fn((1, 8, 6, 6))
    module = fused(f.module(f(nn.MaxPool2dOp(f(nn.ReluOp(f.conv(f.args[0], 8))), (2, 2)))))
    run_spec(module, "sparsify{scheme=bcr block=4x4 rate=0.5}")
    compiled = run(module)
    (group,) = compiled.fusion_summary["groups"]
    assert group["ops"] == ["nn.conv2d", "nn.relu", "nn.max_pool2d"]
    assert len(group["kernels"]) == 2
    out = io.StringIO()
    compiled.report(runs=1, file=out)
    assert "fusion: plan" in out.getvalue()
    assert "split into 2 kernels" in out.getvalue()
    assert "layers: 3 -> 1" in out.getvalue()


def test_a_returned_prologue_value_keeps_the_convolution_out():
    """relu's result is also returned: the convolution could not apply it as a prologue
    (it stores nothing of its input), so it stays out of {batch_norm, relu}'s group."""
    f = Fn((1, 3, 6, 6))
    r = f(nn.ReluOp(f.bn(f.args[0])))
    compiled = run(fused(f.module(r, f.conv(r, 2))))
    (group,) = compiled.fusion_summary["groups"]
    assert group["ops"] == ["nn.batch_norm", "nn.relu"]
    assert len(group["kernels"]) == 1


@pytest.mark.parametrize("stride", [1, 2])
def test_depthwise_convolutions_apply_the_prologue_while_padding(stride):
    """MobileNet's {batch_norm, relu6, depthwise conv}: the prologue runs as each input
    plane is copied into its zero-bordered scratch plane (batch_norm(0) is not 0: the
    border must stay 0)."""
    f = Fn((1, 4, 7, 9))
    x = f(nn.ClampOp(f.bn(f.args[0]), 0.0, 6.0))
    dw = f(nn.Conv2dOp(x, f.const((4, 1, 3, 3)), None, stride=(stride, stride),
                       padding=(1, 1), groups=4))
    compiled = run(fused(f.module(dw)))
    assert [k["ops"] for k in compiled.kernels] == [["nn.batch_norm", "nn.clamp", "nn.conv2d"]]


# --- Reorganize / Shuffle folded into index maps -------------------------------------------


def test_transpose_and_reshape_are_read_through_the_consumers_index_map():
    """GPT-2's head split: matmul -> reshape -> transpose -> add. The group {reshape,
    transpose, add} is one element-wise kernel reading the matmul's result with permuted
    strides; nothing is copied."""
    f = Fn((1, 8, 16), (1, 2, 8, 8))
    x, y = f.args
    mm = f(nn.MatmulOp(x, f.const((16, 16))))
    heads = f(nn.TransposeOp(f(nn.ReshapeOp(mm, (1, 8, 2, 8))), (0, 2, 1, 3)))
    compiled = run(fused(f.module(f(nn.AddOp(heads, y)))))
    assert [k["ops"] for k in compiled.kernels] == [
        ["nn.matmul"], ["nn.reshape", "nn.transpose", "nn.add"]]


def key_path():
    """BERT's key path: slice -> relu -> reshape -> transpose -> reshape -> transpose,
    then Q . K^T."""
    f = Fn((3, 16, 1, 64), (1, 4, 16, 16))
    qkv, q = f.args
    s = f(nn.SliceOp(qkv, [1, 0, 0, 0], [2, 16, 1, 64]))
    r = f(nn.ReshapeOp(f(nn.ReluOp(s)), (16, 4, 16)))
    t = f(nn.ReshapeOp(f(nn.TransposeOp(r, (1, 0, 2))), (1, 4, 16, 16)))
    k = f(nn.TransposeOp(t, (0, 1, 3, 2)))
    return f.module(f(nn.MatmulOp(q, k)))


def test_a_chain_feeding_a_matmul_is_one_strided_copy():
    """The key path planned with yellow cells as breaks: the chain is its own group, one
    copy from the base, and an outside user of the first value keeps its own buffer."""
    compiled = run(fused(key_path()))
    ops = [k["ops"] for k in compiled.kernels]
    assert ["nn.slice", "nn.relu"] in ops  # relu reads the slice through its view
    assert ["nn.reshape", "nn.transpose", "nn.reshape", "nn.transpose"] in ops
    assert len(ops) == 3


def test_a_chain_in_the_matmuls_group_is_read_through_strides():
    """The key path when profiling fuses the yellow Shuffle -> Many-to-Many cell:
    the chain is in the matmul's group, and the matmul packs K^T straight from the relu's
    buffer through the composed strides; no copy."""
    module = key_path()
    fuse(module, oracle=FusionAlwaysPays())
    ops = [k["ops"] for k in run(module).kernels]
    assert ops == [["nn.slice", "nn.relu"],
                   ["nn.reshape", "nn.transpose", "nn.reshape", "nn.transpose", "nn.matmul"]]


@pytest.mark.parametrize(("dims", "strides", "new"), [
    ((4, 6), (6, 1), (2, 2, 3, 2)),      # contiguous: any shape
    ((6, 4), (1, 6), (6, 2, 2)),         # transposed: split the last dim
    ((6, 4), (1, 6), (24,)),             # transposed: cannot merge
    ((3, 1, 8), (64, 0, 1), (3, 2, 4)),  # a size-1 dim
    ((2, 3, 4), (48, 4, 1), (2, 12)),    # sliced rows: merge 3 x 4
    ((2, 3, 4), (48, 16, 1), (2, 12)),   # sliced columns: cannot merge
])
def test_reshape_strides_agree_with_numpy(dims, strides, new):
    from sparsec.lowering.kernels.views import reshape_strides

    base = np.arange(4096, dtype=np.float32)
    view = np.lib.stride_tricks.as_strided(base, dims, [4 * s for s in strides])
    got = reshape_strides(dims, strides, new)
    try:
        reshaped = view.view()
        reshaped.shape = new  # numpy raises when a copy would be needed
    except AttributeError:
        assert got is None
        return
    assert got is not None
    again = np.lib.stride_tricks.as_strided(base, new, [4 * s for s in got])
    np.testing.assert_array_equal(again, view.reshape(new))


def test_layer_norm_takes_the_residual_add_as_prologue():
    """{add, layer_norm}: the add is recomputed in each pass over a row instead of
    being stored; 20 columns leave a masked tail."""
    f = Fn((1, 5, 20), (1, 5, 20))
    x, y = f.args
    s = f(nn.AddOp(x, y))
    compiled = run(fused(f.module(f(nn.LayerNormOp(s, f.const((20,)), f.const((20,)))))))
    assert [k["ops"] for k in compiled.kernels] == [["nn.add", "nn.layer_norm"]]


def test_concat_inputs_are_written_in_place():
    """{conv2d, relu, sigmoid, concat, exp}: the conv kernel and the sigmoid kernel store
    straight into their slices of the concat's buffer; the concat is no kernel."""
    f = Fn((1, 3, 5, 6))
    x = f.args[0]
    r = f(nn.ReluOp(f.conv(x, 4)))
    s = f(nn.SigmoidOp(x))
    c = f(nn.ConcatOp([r, s], 1))
    compiled = run(fused(f.module(f(nn.ExpOp(c)))))
    ops = [k["ops"] for k in compiled.kernels]
    assert not any(k == ["nn.concat"] for k in ops)
    assert sum("nn.concat" in k for k in ops) == 1
    assert compiled.arena["total"] < 7 * 30 * 4 + 64  # the concat's buffer (aligned) alone


class FusionAlwaysPays:
    def latency(self, ops):
        return 1.0


def test_the_patterns_tvm_cannot_fuse_run_fused():
    """DNNFusion §5's three patterns, planned with every yellow cell fused, then compiled
    from the plan: ConvTranspose is not an nn op, so Conv+ReLU+Concat;
    MatMul+Reshape+Transpose+Add (the yellow cell fuses: one group, whose add reads the
    GEMM's result through the permuted view); Sub+Pow+ReduceMean+Add+Sqrt (TinyBERT's
    variance). Each is one group and the code matches the interpreter. The last group is
    two kernels, sub+pow and the reduction with add+sqrt as its epilogue: reductions take
    no prologue yet, and the summary records the split."""
    f = Fn((1, 3, 5, 6), (1, 3, 5, 6))
    x, y = f.args
    conv_relu_concat = f.module(f(nn.ConcatOp([f(nn.ReluOp(f.conv(x, 4))), y], 1)))

    f = Fn((1, 8, 16), (1, 2, 8, 8))
    x, y = f.args
    mm = f(nn.MatmulOp(x, f.const((16, 16))))
    heads = f(nn.TransposeOp(f(nn.ReshapeOp(mm, (1, 8, 2, 8))), (0, 2, 1, 3)))
    matmul_reshape_transpose_add = f.module(f(nn.AddOp(heads, y)))

    f = Fn((1, 8, 16), (1, 8, 16))
    x, mean = f.args
    d = f(nn.PowOp(f(nn.SubOp(x, mean)), f.const((), 2.0, 2.0)))
    var = f(nn.ReduceMeanOp(d, [-1], keepdim=True))
    sub_pow_mean_add_sqrt = f.module(f(nn.SqrtOp(f(nn.AddOp(var, f.const((), 1e-5, 1e-5))))))

    for module in (conv_relu_concat, matmul_reshape_transpose_add, sub_pow_mean_add_sqrt):
        fuse(module, oracle=FusionAlwaysPays())
        compiled = run(module)
        (group,) = compiled.fusion_summary["groups"]
        assert len(group["ops"]) >= 3
    assert [k["ops"] for k in compiled.kernels] == [
        ["nn.sub", "nn.pow"], ["nn.reduce_mean", "nn.add", "nn.sqrt"]]
    assert len(group["kernels"]) == 2



@pytest.mark.parametrize("axis", [-1, 1])
def test_a_reduction_takes_its_element_wise_epilogue(axis):
    """reduce_sum over the last dim (a row reduction, scalar results) or a middle one
    (neighbouring outputs in one vector), then + a tensor of the result's shape, then
    tanh: one kernel."""
    f = Fn((2, 6, 11), (2, 1, 11) if axis == 1 else (2, 6, 1))
    x, y = f.args
    r = f(nn.ReduceSumOp(f(nn.ExpOp(x)), [axis], keepdim=True))
    compiled = run(fused(f.module(f(nn.TanhOp(f(nn.AddOp(r, y)))))))
    assert ["nn.reduce_sum", "nn.add", "nn.tanh"] in [k["ops"] for k in compiled.kernels]
