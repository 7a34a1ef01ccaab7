"""A pooling fused into its convolution's kernel (`table.CONV_POOL`, the pool epilogue of
`lowering/kernels/pooling.per_plane`) computes what the interpreter computes.

Each example draws a dense, grouped or depthwise convolution (kernel, stride, padding,
channels, odd sizes), an element-wise epilogue (none, relu, batch_norm + silu), a
pooling (max or average with kernel, stride, padding, ceil_mode, count_include_pad;
adaptive average: global, even bins, uneven bins), whether the pooling's input is also
used after the pool (squeeze-excite, or an output: the group has two outputs), and 1 or
2 threads (with no minimum work, so the kernel really is split over both). The plan must
make the convolution and its pooling one group and the code generator one kernel of it.

Tolerance as tests/property/test_jit_vs_interpreter.py: |jit - interpreter| <= 1e-4 *
max(1, max|interpreter|) plus rtol 1e-4 (sums in a different order).
"""

import numpy as np
import pytest
from hypothesis import assume, event, given, settings
from hypothesis import strategies as st
from xdsl.utils.exceptions import DiagnosticException, VerifyException

from sparsec.dialects import nn
from sparsec.dialects.nn.builder import FunctionBuilder
from sparsec.interpreters import interpret
from sparsec.lowering.target import get_target
from sparsec.runtime.compiled import compile as jit_compile
from sparsec.transforms.fusion import fuse

RTOL = ATOL = 1e-4


pytestmark = pytest.mark.usefixtures("small_kernels_in_parallel")


@st.composite
def cases(draw):
    depthwise = draw(st.booleans())
    groups = 1 if depthwise else draw(st.sampled_from([1, 1, 2]))  # grouped: GEMM per group
    c_in = draw(st.integers(1, 6)) * groups
    c_out = c_in if depthwise else draw(st.integers(1, 17)) * groups
    h, w = draw(st.integers(3, 12)), draw(st.integers(3, 17))
    k = draw(st.sampled_from([1, 3]))
    stride = draw(st.integers(1, 2))
    pad = k // 2 if draw(st.booleans()) else 0
    epilogue = draw(st.sampled_from(["none", "relu", "bn_silu"]))
    pool = draw(st.sampled_from(["max", "avg", "adaptive"]))
    if pool == "adaptive":
        params = {"size": (draw(st.integers(1, 3)), draw(st.integers(1, 3)))}
    else:
        pk = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
        params = {"kernel": pk, "stride": (draw(st.integers(1, 3)), draw(st.integers(1, 3))),
                  "padding": (draw(st.integers(0, pk[0] // 2)), draw(st.integers(0, pk[1] // 2))),
                  "ceil_mode": draw(st.booleans()), "count_include_pad": draw(st.booleans())}
    return dict(depthwise=depthwise, groups=groups, c_in=c_in, c_out=c_out, h=h, w=w, k=k, stride=stride,
                pad=pad, epilogue=epilogue, pool=pool, params=params,
                second_user=draw(st.booleans()), threads=draw(st.integers(1, 2)),
                seed=draw(st.integers(0, 2**16)))


def build(case):
    f = FunctionBuilder((1, case["c_in"], case["h"], case["w"]), seed=case["seed"])
    groups = case["c_in"] if case["depthwise"] else case["groups"]
    k = case["k"]
    y = f(nn.Conv2dOp(f.args[0], f.uniform((case["c_out"], case["c_in"] // groups, k, k)),
                      f.uniform((case["c_out"],)), stride=(case["stride"],) * 2,
                      padding=(case["pad"],) * 2, groups=groups))
    c = case["c_out"]
    if case["epilogue"] == "relu":
        y = f(nn.ReluOp(y))
    elif case["epilogue"] == "bn_silu":
        y = f(nn.SiluOp(f(nn.BatchNormOp(y, f.uniform((c,)), f.uniform((c,)), f.uniform((c,)),
                                         f.uniform((c,), 0.5, 2.0)))))
    p = case["params"]
    try:  # the op infers its shape when built: a window that does not fit raises
        if case["pool"] == "adaptive":
            pool = nn.AdaptiveAvgPool2dOp(y, p["size"])
        elif case["pool"] == "max":
            pool = nn.MaxPool2dOp(y, p["kernel"], p["stride"], p["padding"],
                                  ceil_mode=p["ceil_mode"])
        else:
            pool = nn.AvgPool2dOp(y, p["kernel"], p["stride"], p["padding"],
                                  ceil_mode=p["ceil_mode"],
                                  count_include_pad=p["count_include_pad"])
    except (DiagnosticException, VerifyException):
        return None
    pooled = f(pool)
    if not case["second_user"]:
        return f.module(pooled)
    # the convolution's output is needed after the pool too: squeeze-excite's multiply
    # by a gate computed from the global pool, or an output of @main
    if pooled.type.get_shape()[2:] == (1, 1):
        return f.module(pooled, f(nn.MulOp(f(nn.SigmoidOp(pooled)), y)))
    return f.module(pooled, y)


@settings(max_examples=max(5, settings.default.max_examples))
@given(case=cases())
def test_conv_with_its_pooling_in_one_kernel_matches_the_interpreter(case):
    module = build(case)
    assume(module is not None)
    rng = np.random.default_rng(case["seed"])
    x = rng.standard_normal((1, case["c_in"], case["h"], case["w"])).astype(np.float32)
    expected = interpret(module, x)
    (plan,) = fuse(module)
    pooled = [g for g in plan.groups
              if any(isinstance(op, nn.Conv2dOp) for op in g.ops)
              and any("pool" in op.name for op in g.ops)]
    assert len(pooled) == 1, [[op.name for op in g.ops] for g in plan.groups]
    compiled = jit_compile(module, threads=case["threads"])
    actual = compiled(x)
    actual = actual if isinstance(actual, tuple) else (actual,)
    for got, want in zip(actual, expected, strict=True):
        assert got.shape == want.shape
        scale = max(1.0, float(np.max(np.abs(want))))
        np.testing.assert_allclose(got, want, rtol=RTOL, atol=ATOL * scale)
    groups = [g for g in compiled.fusion_summary["groups"]
              if any("pool" in op for op in g["ops"])]
    assert len(groups) == 1 and len(groups[0]["kernels"]) == 1, groups
    (kernel,) = [k for k in compiled.kernels if k["name"] == groups[0]["kernels"][0]]
    assert kernel["tiles"] >= 1
    rows = get_target("host").gemm_block[0]  # channels per GEMM row block
    if case["threads"] == 2 and case["c_out"] > (1 if case["depthwise"] else rows):
        assert kernel["tiles"] > 1  # whole channels (blocks of them) split over threads
    # a window pooling that is the only reader of a GEMM convolution's value: the kernel
    # keeps that value in a ring of rows, so nothing is left for the arena
    conv_dims = [op.results[0].type.get_shape() for op in module.walk()
                 if isinstance(op, nn.Conv2dOp)][0]
    pooled_dims = expected[0].shape
    window = case["pool"] != "adaptive" or (  # (global: one window over the plane)
        conv_dims[2] % pooled_dims[2] == 0 and conv_dims[3] % pooled_dims[3] == 0)
    groups = case["c_in"] if case["depthwise"] else case["groups"]
    gemm = groups == 1 or case["c_in"] != groups  # else the depthwise window kernel
    if window and not case["second_user"] and gemm:
        assert compiled.arena["bytes"] == 0, compiled.arena
        event("banded: the convolution's value never stored")


class FusionAlwaysPays:
    """Every yellow cell fuses (as `fuse{profile=true}` may decide): only then does the
    excitation's 1x1 convolution share a group with the broadcast that applies it."""

    def latency(self, ops):
        return 1.0


@settings(max_examples=max(5, settings.default.max_examples))
@given(data=st.data())
def test_squeeze_excite_scaling_is_its_convolutions_plane_epilogue(data):
    """Squeeze-excite: s = sigmoid(conv(act(conv(mean over H, W of x)))), then x * s
    broadcast over each plane (drawn: *, +, -, / in either operand order). The binary op
    is the excitation convolution's plane epilogue (`pooling.per_plane`): one kernel
    computes s for its channels and then their planes of the result, with 1 or 2
    threads, and matches the interpreter."""
    c = data.draw(st.integers(1, 20))
    squeezed = data.draw(st.integers(1, 6))
    h, w = data.draw(st.integers(1, 9)), data.draw(st.integers(1, 11))
    threads = data.draw(st.integers(1, 2))
    seed = data.draw(st.integers(0, 2**16))
    f = FunctionBuilder((1, c, h, w), seed=seed)
    x = f(nn.ExpOp(f.args[0]))  # never 0: s / x is finite
    pooled = f(nn.AdaptiveAvgPool2dOp(x, (1, 1)))
    hidden = f(nn.SiluOp(f(nn.Conv2dOp(pooled, f.uniform((squeezed, c, 1, 1)),
                                       f.uniform((squeezed,))))))
    scale = f(nn.SigmoidOp(f(nn.Conv2dOp(hidden, f.uniform((c, squeezed, 1, 1)),
                                         f.uniform((c,))))))
    kind = data.draw(st.sampled_from([nn.MulOp, nn.AddOp, nn.SubOp, nn.DivOp]))
    operands = (scale, x) if data.draw(st.booleans()) else (x, scale)
    module = f.module(f(kind(*operands)))
    x_in = np.random.default_rng(seed).standard_normal((1, c, h, w)).astype(np.float32)
    (expected,) = interpret(module, x_in)
    fuse(module, oracle=FusionAlwaysPays())
    compiled = jit_compile(module, threads=threads)
    got = compiled(x_in)
    scale_max = max(1.0, float(np.max(np.abs(expected))))
    assert np.isfinite(scale_max)
    np.testing.assert_allclose(got, expected, rtol=RTOL, atol=ATOL * scale_max)
    name = kind.name
    (group,) = [g for g in compiled.fusion_summary["groups"] if name in g["ops"]]
    if "nn.conv2d" in group["ops"] and "nn.sigmoid" in group["ops"]:
        (kernel,) = [k for k in compiled.kernels if name in k["ops"]]
        assert "nn.conv2d" in kernel["ops"] and len(group["kernels"]) == 1
        event("the excitation's group: one kernel")
