"""The code generator's pieces: the arena planner, targets and their register blocking,
the named pipelines, and the machine code (vector FMAs in the convolution kernel)."""

from __future__ import annotations

import re

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from xdsl.dialects import func
from xdsl.dialects.builtin import ModuleOp, TensorType, f32
from xdsl.ir import Block, Region

from sparsec.dialects import nn
from sparsec.lowering.llvm_ir import to_llvm_ir
from sparsec.lowering.memory import Interval, aligned, live_floor, plan_arena
from sparsec.lowering.pipelines import PIPELINES, pipeline_spec, run_spec
from sparsec.lowering.target import PRESETS, get_target, host_target
from sparsec.runtime.jit import assembly

# --- the arena --------------------------------------------------------------------------

intervals = st.lists(
    st.tuples(st.integers(1, 5000), st.integers(0, 20), st.integers(0, 8)).map(
        lambda t: Interval(t[0], t[1], t[1] + t[2])),
    max_size=30)


@given(intervals)
def test_arena_plan_never_overlaps_live_buffers(buffers):
    plan = plan_arena(buffers)
    for i, a in enumerate(buffers):
        lo_a = plan.offsets[i]
        assert lo_a % 64 == 0 and lo_a + aligned(a.size) <= plan.size
        for j in range(i):
            b = buffers[j]
            if a.overlaps(b):
                lo_b = plan.offsets[j]
                assert lo_a + aligned(a.size) <= lo_b or lo_b + aligned(b.size) <= lo_a
    assert live_floor(buffers) <= plan.size <= plan.total


def test_arena_plan_of_a_chain_is_the_floor():
    chain = [Interval(1000, i, i + 1) for i in range(10)]
    plan = plan_arena(chain)
    assert plan.size == plan.floor == 2 * aligned(1000)
    assert plan.total == 10 * aligned(1000)


# --- targets ----------------------------------------------------------------------------


def test_register_blocking_follows_the_target():
    assert PRESETS["avx2"].gemm_block == (6, 2)      # 12 accumulators + 2 + 1 of 16 ymm
    assert PRESETS["avx512"].gemm_block == (8, 2)    # of 32 zmm
    assert PRESETS["neon"].gemm_block == (8, 2)      # of 32 q registers
    assert [PRESETS[n].vector_lanes for n in ("avx512", "avx2", "neon")] == [16, 8, 4]
    host = host_target()
    assert host.vector_lanes in (4, 8, 16) and get_target("host") is host
    with pytest.raises(ValueError, match="unknown target"):
        get_target("vax")


def test_every_named_pipeline_is_a_registered_pass():
    from sparsec.universe import all_passes

    passes = all_passes()
    for name in PIPELINES:
        assert name in passes
        for step in pipeline_spec(name, 2, "avx2").split(","):
            assert step.split("{")[0] in passes, step


# --- machine code -----------------------------------------------------------------------


def conv_module(cin=32, cout=32, size=14) -> ModuleOp:
    rng = np.random.default_rng(0)
    weight = rng.standard_normal((cout, cin, 3, 3)).astype(np.float32)
    block = Block(arg_types=[TensorType(f32, (1, cin, size, size))])
    w = nn.ConstantOp.from_array(weight, "w")
    conv = nn.Conv2dOp(block.args[0], w.result, None, padding=(1, 1))
    relu = nn.ReluOp(conv.result)
    block.add_ops([w, conv, relu, func.ReturnOp(relu.result)])
    return ModuleOp([func.FuncOp("main", ([block.args[0].type], [relu.result.type]),
                                 Region(block))])


@pytest.mark.skipif(not host_target().triple.startswith("x86_64"), reason="x86-64 assembly")
def test_convolution_kernel_is_vector_fmas():
    """The micro-kernel's inner loop: mr * nv vector FMAs on ymm (AVX2) or zmm (AVX-512)
    registers, broadcasting A from memory."""
    module = conv_module()
    run_spec(module, pipeline_spec("lower-to-llvm"))
    target = host_target()
    code = assembly(to_llvm_ir(module, target), target)
    register = "zmm" if target.vector_lanes == 16 else "ymm"
    fmas = re.findall(rf"vfmadd\d+ps\s+%{register}\d+, %{register}\d+, %{register}\d+", code)
    rows, vectors = target.gemm_block
    assert len(fmas) >= rows * vectors
    assert re.search(rf"vbroadcastss\s+-?\d*\(%\w+(,%\w+)?\), %{register}", code)


def test_avx512_code_for_another_machine():
    """Code for a target other than the host: LLVM IR with 16-lane vectors."""
    module = conv_module(8, 8, 6)
    run_spec(module, pipeline_spec("lower-to-llvm", target="avx512"))
    ir = to_llvm_ir(module, PRESETS["avx512"])
    assert "<16 x float>" in ir and "llvm.fma.v16f32" in ir
