"""A pooling fused into its convolution's group (`table.CONV_POOL`, DNNFusion's Table 5
counts): which pairs the planner fuses, which it leaves alone, and that the code
generator makes one kernel of every such group."""

import numpy as np
import pytest

from sparsec.dialects import nn
from sparsec.dialects.nn.builder import FunctionBuilder as Fn
from sparsec.interpreters import interpret
from sparsec.runtime.compiled import compile as jit_compile
from sparsec.transforms.fusion import fuse, plan_module
from sparsec.transforms.fusion.plan import Outcome
from sparsec.transforms.fusion.table import Colour

SHAPE = (1, 4, 6, 6)


pytestmark = pytest.mark.usefixtures("small_kernels_in_parallel")


def conv(f, x, cout=None, groups=1):
    cin = x.type.get_shape()[1]
    cout = cout or cin
    return f(nn.Conv2dOp(x, f.uniform((cout, cin // groups, 3, 3)), None, padding=(1, 1),
                         groups=groups))


def max_pool(f, x):
    return f(nn.MaxPool2dOp(x, (2, 2)))


def names(module):
    (plan,) = plan_module(module)
    return [[op.name.removeprefix("nn.") for op in g.ops] for g in plan.groups], plan


def outcomes(plan, candidate):
    return [(d.colour, d.outcome) for d in plan.decisions if d.candidate.name == candidate]


def test_conv_relu_max_pool_is_one_group():
    f = Fn(SHAPE)
    groups, plan = names(f.module(max_pool(f, f(nn.ReluOp(conv(f, f.args[0]))))))
    assert groups == [["conv2d", "relu", "max_pool2d"]]
    assert (Colour.GREEN, Outcome.FUSED) in outcomes(plan, "nn.conv2d")


def test_conv_then_pool_without_an_element_wise_op_between():
    """No One-to-One seed reaches conv -> max_pool: step 4 offers the pool to the conv."""
    f = Fn(SHAPE)
    groups, plan = names(f.module(max_pool(f, conv(f, f.args[0]))))
    assert groups == [["conv2d", "max_pool2d"]]
    assert outcomes(plan, "nn.max_pool2d") == [(Colour.GREEN, Outcome.FUSED)]


def test_squeeze_excite_pool_joins_the_depthwise_conv_with_two_outputs():
    """dwconv -> bn -> silu -> {global pool -> ... -> sigmoid, mul}: the pool joins the
    depthwise group; silu's result leaves the group too (the multiply reads it)."""
    f = Fn(SHAPE)
    c = SHAPE[1]
    s = f(nn.SiluOp(f(nn.BatchNormOp(conv(f, f.args[0], groups=c), f.const((c,), 1.0),
                                     f.const((c,), 0.1), f.const((c,), 0.0),
                                     f.const((c,), 1.0)))))
    gate = f(nn.SigmoidOp(f(nn.Conv2dOp(f(nn.AdaptiveAvgPool2dOp(s, (1, 1))),
                                        f.uniform((c, c, 1, 1)), None))))
    module = f.module(f(nn.MulOp(gate, s)))
    groups, _ = names(module)
    assert ["conv2d", "batch_norm", "silu", "adaptive_avg_pool2d"] in groups
    fuse(module)
    fused = [op for op in module.walk() if isinstance(op, nn.FusedOp)]
    pooled = next(op for op in fused if any(isinstance(o, nn.AdaptiveAvgPool2dOp)
                                            for o in op.body.walk()))
    assert len(pooled.outputs) == 2


def test_conv_conv_and_pool_conv_stay_red():
    """conv -> max_pool -> conv: the pool joins the first conv; the second conv meets a
    Many-to-Many group (red), as pool -> conv and conv -> conv always do."""
    f = Fn(SHAPE)
    groups, plan = names(f.module(conv(f, max_pool(f, conv(f, f.args[0])))))
    assert groups == [["conv2d", "max_pool2d"]]
    f = Fn(SHAPE)
    groups, plan = names(f.module(conv(f, conv(f, f.args[0]))))
    assert groups == []


def test_linear_linear_stays_red():
    f = Fn((2, 8))
    x = f(nn.LinearOp(f.args[0], f.const((8, 8), 0.1)))
    groups, _ = names(f.module(f(nn.LinearOp(f(nn.ReluOp(x)), f.const((8, 8), 0.1)))))
    assert len(groups) == 1 and groups[0].count("linear") == 1


def test_pool_after_a_conv_with_another_user_between_is_left_alone():
    """conv -> relu -> pool, where conv's result also feeds an add: the kernel's epilogue
    chain stops at the conv (two uses), so relu -> pool cannot be its pool epilogue."""
    f = Fn(SHAPE)
    c = conv(f, f.args[0])
    pooled = max_pool(f, f(nn.ReluOp(c)))
    module = f.module(pooled, f(nn.AddOp(c, f.args[0])))
    groups, _ = names(module)
    assert not any("conv2d" in g and "max_pool2d" in g for g in groups)


def test_a_sparse_convolution_keeps_its_pool_apart():
    """The sparse kernels take no pool epilogue: a conv whose weight is already sparse
    (sparsify before fuse) stays unfused from its pooling."""
    from sparsec.lowering.pipelines import run_spec

    f = Fn((1, 8, 6, 6))
    module = f.module(max_pool(f, conv(f, f.args[0], cout=8)))
    run_spec(module, "sparsify{scheme=bcr block=4x4 rate=0.5}")
    groups, plan = names(module)
    assert groups == []
    assert outcomes(plan, "nn.max_pool2d") == [(Colour.RED, Outcome.RED)]


def test_a_pool_after_the_group_ends_it():
    """conv -> max_pool -> relu: the relu (seeded first) may not take the convolution's
    pooling, nothing after the pooling joins the conv's group (the kernel ends there)."""
    f = Fn(SHAPE)
    module = f.module(f(nn.ReluOp(max_pool(f, conv(f, f.args[0])))))
    groups, plan = names(module)
    assert groups == [["conv2d", "max_pool2d"]]
    assert outcomes(plan, "nn.max_pool2d") == [(Colour.GREEN, Outcome.POOLED),
                                               (Colour.GREEN, Outcome.FUSED)]


# --- code generation: one kernel per such group -----------------------------------------


def models():
    f = Fn((1, 3, 11, 13))
    vgg = f.module(max_pool(f, f(nn.ReluOp(conv(f, f.args[0], cout=20)))))
    f = Fn((1, 6, 9, 10))
    c = 6
    s = f(nn.SiluOp(conv(f, f.args[0], groups=c)))
    gate = f(nn.SigmoidOp(f(nn.Conv2dOp(f(nn.AdaptiveAvgPool2dOp(s, (1, 1))),
                                        f.uniform((c, c, 1, 1)), None))))
    se = f.module(f(nn.MulOp(gate, s)))
    return {"conv_relu_max_pool": vgg, "squeeze_excite": se}


@pytest.mark.parametrize("name", ["conv_relu_max_pool", "squeeze_excite"])
@pytest.mark.parametrize("threads", [1, 2])
def test_each_pooled_group_is_one_kernel_and_matches_the_interpreter(name, threads):
    module = models()[name]
    rng = np.random.default_rng(0)
    inputs = [rng.standard_normal(t.get_shape()).astype(np.float32)
              for t in module.ops.first.function_type.inputs.data]
    expected = interpret(module, *inputs)
    fuse(module)
    compiled = jit_compile(module, threads=threads)
    got = compiled(*inputs)
    scale = max(1.0, float(np.max(np.abs(expected[0]))))
    np.testing.assert_allclose(got, expected[0], rtol=1e-4, atol=1e-4 * scale)
    groups = compiled.fusion_summary["groups"]
    pooled = [g for g in groups if any("pool" in op for op in g["ops"])]
    assert len(pooled) == 1 and len(pooled[0]["kernels"]) == 1, groups
    (kernel,) = [k for k in compiled.kernels if k["name"] == pooled[0]["kernels"][0]]
    assert threads == 1 or kernel["tiles"] > 1  # 20 or 6 channels: tiles for the threads


def test_sparsified_after_fuse_the_group_splits_and_matches():
    """sparsify after fuse (`compile(passes=..., sparsity=...)`): the group was planned
    with a dense conv; the sparse kernel takes no pool epilogue, so the generator splits
    the group into the sparse conv's kernel and the pooling's, and says so."""
    import sparsec
    from sparsec.lowering.pipelines import run_spec

    f = Fn((1, 8, 9, 10))
    module = f.module(max_pool(f, f(nn.ReluOp(conv(f, f.args[0], cout=16)))))
    fuse(module)
    run_spec(module, "sparsify{scheme=bcr block=4x4 rate=0.5}")
    x = np.random.default_rng(0).standard_normal((1, 8, 9, 10)).astype(np.float32)
    expected = interpret(module, x)[0]
    compiled = sparsec.compile(module)
    np.testing.assert_allclose(compiled(x), expected, rtol=1e-4,
                               atol=1e-4 * max(1.0, float(np.abs(expected).max())))
    (group,) = compiled.fusion_summary["groups"]
    assert len(group["kernels"]) == 2, group


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("pool", ["max 3x3/2 pad 1", "avg 2x2/2"])
def test_a_pooled_convolution_keeps_its_rows_in_a_ring(pool, threads):
    """conv -> batch_norm -> pooling, the pooling its value's only reader (ResNet's stem,
    VGG's block ends) on a plane taller than the ring: the kernel never stores the
    convolution's value (nothing in the arena), keeps each channel's latest rows in a
    ring (`gemm.pool_ring`) and pools the rows each chunk of panels completes, with
    overlapping windows, padding and a ring that wraps; the numbers are the
    interpreter's."""
    from sparsec.lowering.kernels.gemm import pool_ring

    f = Fn((1, 3, 48, 44))
    y = f(nn.Conv2dOp(f.args[0], f.uniform((10, 3, 3, 3)), f.uniform((10,)), padding=(1, 1)))
    y = f(nn.BatchNormOp(y, f.uniform((10,)), f.uniform((10,)), f.uniform((10,)),
                         f.uniform((10,), 0.5, 2.0)))
    if pool.startswith("max"):
        pooling = nn.MaxPool2dOp(y, (3, 3), (2, 2), (1, 1))
    else:
        pooling = nn.AvgPool2dOp(y, (2, 2), (2, 2))
    module = f.module(f(pooling))
    convolution = next(op for op in module.walk() if isinstance(op, nn.Conv2dOp))
    assert pool_ring(convolution, pooling) < 48  # the ring wraps
    x = np.random.default_rng(1).standard_normal((1, 3, 48, 44)).astype(np.float32)
    expected = interpret(module, x)[0]
    fuse(module)
    compiled = jit_compile(module, threads=threads)
    np.testing.assert_allclose(compiled(x), expected, rtol=1e-4,
                               atol=1e-4 * max(1.0, float(np.abs(expected).max())))
    assert compiled.arena["bytes"] == 0, compiled.arena
    (group,) = compiled.fusion_summary["groups"]
    assert len(group["kernels"]) == 1, group
