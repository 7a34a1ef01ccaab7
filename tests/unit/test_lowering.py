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


# --- registration and small helpers -----------------------------------------------------


@pytest.mark.parametrize("module, cls, name", [
    ("nn_to_loops", "ConvertNNToLoopsPass", "convert-nn-to-loops"),
    ("vector_to_llvm", "ConvertVectorToLLVMPass", "convert-vector-to-llvm"),
    ("memref_to_llvm", "ConvertMemRefToLLVMPass", "convert-memref-to-llvm"),
    ("math_to_llvm", "ConvertMathToLLVMPass", "convert-math-to-llvm"),
    ("arith_to_llvm", "ConvertArithToLLVMPass", "convert-arith-to-llvm"),
    ("cf_to_llvm", "ConvertCfToLLVMPass", "convert-cf-to-llvm"),
    ("func_to_llvm", "ConvertFuncToLLVMPass", "convert-func-to-llvm"),
    ("parallel_to_gomp", "ConvertParallelToGompPass", "convert-parallel-to-gomp"),
])
def test_conversion_passes_are_registered_by_name(module, cls, name):
    from importlib import import_module

    from sparsec.universe import all_passes

    pass_class = getattr(import_module(f"sparsec.lowering.{module}"), cls)
    assert pass_class.name == name and all_passes()[name]() is pass_class


def test_emitter_folds_what_is_known_at_compile_time():
    from xdsl.dialects import arith, scf
    from xdsl.ir import Block

    from sparsec.lowering.emitter import Emitter

    block = Block()
    E = Emitter(block)
    assert E.iadd(3, 4) == 7 and E.imul(5, 0) == 0 and E.idiv(9, 2) == 4
    x = E.index(E.iadd(E.index(2), 1))  # a run-time value: ops are emitted
    assert E.iadd(x, 0) is x and E.imul(x, 1) is x
    with E.loop(0, 1) as loop:  # a single trip is inlined: no scf.for
        assert loop.iv == 0
    with E.loop(0, 10, 4) as loop:
        pass
    assert sum(isinstance(op, scf.ForOp) for op in block.ops) == 1
    constants = [op for op in block.ops if isinstance(op, arith.ConstantOp)]
    assert len({c.value for c in constants}) == len(constants)  # shared, hoisted


def test_broadcast_strides_and_dim_merging():
    from sparsec.lowering.kernels.elementwise import _collapse, broadcast_strides

    assert broadcast_strides((3, 1), (2, 3, 4)) == (0, 1, 0)
    assert broadcast_strides((4,), (2, 3, 4)) == (0, 0, 1)
    # a contiguous 2x3x4 output read by a contiguous input merges into one dim of 24
    assert _collapse([2, 3, 4], [[12, 4, 1], [12, 4, 1]]) == ([24], [[1], [1]])
    # a per-channel operand keeps the channel dim apart
    assert _collapse([2, 3, 4], [[12, 4, 1], [0, 1, 0]]) == ([2, 3, 4],
                                                             [[12, 4, 1], [0, 1, 0]])


def test_epilogue_chains_stop_where_fusing_would_change_the_result():
    from xdsl.dialects.builtin import TensorType, f32
    from xdsl.ir import Block

    from sparsec.lowering.kernels.epilogue import can_extend

    block = Block(arg_types=[TensorType(f32, (2, 3)), TensorType(f32, (3,))])
    x, bias = block.args
    relu = nn.ReluOp(x)
    square = nn.MulOp(relu.result, relu.result)  # reads the chain value twice
    add = nn.AddOp(relu.result, bias)  # broadcast other operand: fine
    unrelated = nn.AddOp(bias, x)  # does not read the chain value

    def resolve(value):
        return value

    assert can_extend(add, relu.result, resolve)
    assert not can_extend(square, relu.result, resolve)
    assert not can_extend(unrelated, relu.result, resolve)


def test_intrinsic_names_are_mangled_by_type():
    from xdsl.dialects.builtin import VectorType, f32, i32

    from sparsec.lowering.llvm_builder import intrinsic_suffix

    assert intrinsic_suffix(f32) == "f32"
    assert intrinsic_suffix(VectorType(f32, [8])) == "v8f32"
    assert intrinsic_suffix(VectorType(i32, [16])) == "v16i32"
