"""Lowering of packed weights: what the sparse kernels reject (located errors), the
target-generic code (AArch64 NEON `fmla` from the same kernels), `sparsec.compile(...,
sparsity=)` and `sparsec run --jit` on a sparsified module."""

from __future__ import annotations

import re

import numpy as np
import pytest
from xdsl.dialects import func
from xdsl.dialects.builtin import ModuleOp, TensorType
from xdsl.ir import Block, Region
from xdsl.passes import PassPipeline

from sparsec.dialects import nn
from sparsec.dialects.resources import tensor_type_of
from sparsec.dialects.sparse import AssembleOp, BCRAttr, BSRAttr, CSRAttr, PatternAttr, pack
from sparsec.lowering.kernels.base import LoweringError
from sparsec.lowering.llvm_ir import to_llvm_ir
from sparsec.lowering.pipelines import pipeline_spec, run_spec
from sparsec.lowering.target import PRESETS
from sparsec.textio import print_module
from sparsec.transforms.sparsity.sparsify import SparsifyPass
from sparsec.universe import all_passes

RNG = np.random.default_rng(0)


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("SPARSEC_CACHE_DIR", str(tmp_path / "cache"))


def packed(weight: np.ndarray, encoding, arrays=None) -> tuple[list, AssembleOp]:
    arrays = pack(encoding, weight) if arrays is None else arrays
    constants = [nn.ConstantOp.from_array(a, f"w.{name}") for name, a in arrays.items()]
    type = TensorType(tensor_type_of(weight).get_element_type(), weight.shape, encoding)
    return constants, AssembleOp([c.result for c in constants], type)


def linear_module(encoding, weight=None, arrays=None) -> ModuleOp:
    weight = RNG.standard_normal((8, 12)).astype(np.float32) if weight is None else weight
    weight = np.where(np.abs(weight) > 0.5, weight, 0).astype(np.float32)
    x_type = TensorType(tensor_type_of(weight).get_element_type(), [3, weight.shape[1]])
    block = Block(arg_types=[x_type])
    constants, assemble = packed(weight, encoding, arrays)
    linear = nn.LinearOp(block.args[0], assemble.result)
    block.add_ops([*constants, assemble, linear, func.ReturnOp(linear.result)])
    return ModuleOp([func.FuncOp("main", ([x_type], [linear.result.type]), Region(block))])


def lower(module: ModuleOp, target: str = "host") -> None:
    run_spec(module, pipeline_spec("lower-to-llvm", target=target))


def test_bsr_weights_are_rejected_with_a_location():
    with pytest.raises(LoweringError, match=r"nn\.linear: no kernel for "
                       r"#sparse\.bsr<block = \[4, 4\]> weights \(the code generator has "
                       r"kernels for #sparse\.bcr, #sparse\.pattern and #sparse\.csr\)"):
        lower(linear_module(BSRAttr((4, 4))))


def test_invalid_packed_arrays_are_rejected_by_name():
    """Arrays of the right shapes (so sparse.assemble verifies) whose contents break the
    layout: a column index past the matrix."""
    weight = np.zeros((8, 12), np.float32)
    weight[0, 3] = 1.0
    arrays = pack(CSRAttr(), weight)
    arrays["indices"] = np.array([12], np.int32)
    with pytest.raises(LoweringError, match=r"nn\.linear: invalid packed weight: "
                       r"#sparse\.csr: indices\[0\] = 12 is outside the columns 0\.\.11"):
        lower(linear_module(CSRAttr(), weight, arrays))


def test_an_encoding_on_a_non_weight_operand_is_rejected():
    weight = np.where(RNG.random((8, 12)) > 0.5, 1.0, 0.0).astype(np.float32)
    constants, assemble = packed(weight, CSRAttr())
    block = Block(arg_types=[tensor_type_of(weight)])
    add = nn.AddOp(block.args[0], assemble.result)
    block.add_ops([*constants, assemble, add, func.ReturnOp(add.result)])
    module = ModuleOp([func.FuncOp("main", ([tensor_type_of(weight)], [add.result.type]),
                                   Region(block))])
    with pytest.raises(LoweringError, match=r"nn\.add: a sparse encoding is lowered on the "
                       r"weight of nn\.conv2d / nn\.linear"):
        lower(module)


def conv_module() -> ModuleOp:
    """conv2d (pattern weight) -> relu -> linear (BCR weight)."""
    x_type = TensorType(tensor_type_of(np.zeros(1, np.float32)).get_element_type(),
                        [1, 4, 6, 7])
    block = Block(arg_types=[x_type])
    conv_w = RNG.standard_normal((8, 4, 3, 3)).astype(np.float32)
    conv_w.reshape(8, 4, 9)[:, :, [0, 2, 6, 8]] = 0  # pattern [1, 3, 4, 5] ... and more
    conv_w.reshape(8, 4, 9)[:, :, 7] = 0
    patterns = PatternAttr([[1, 3, 4, 5]])
    conv_consts, conv_assemble = packed(conv_w, patterns)
    conv = nn.Conv2dOp(block.args[0], conv_assemble.result, padding=(1, 1, 1, 1))
    relu = nn.ReluOp(conv.result)
    flat = nn.ReshapeOp(relu.result, [1, 8 * 6 * 7])
    fc_w = RNG.standard_normal((16, 8 * 6 * 7)).astype(np.float32)
    fc_w[:, ::2] = 0
    fc_consts, fc_assemble = packed(fc_w, BCRAttr((8, 4)))
    fc = nn.LinearOp(flat.result, fc_assemble.result)
    block.add_ops([*conv_consts, conv_assemble, conv, relu, flat, *fc_consts, fc_assemble, fc,
                   func.ReturnOp(fc.result)])
    return ModuleOp([func.FuncOp("main", ([x_type], [fc.result.type]), Region(block))])


def test_neon_code_from_the_same_kernels():
    """The sparse kernels read the target's vector width: for NEON, LLVM IR with 4-lane
    vectors that llvmlite turns into AArch64 `fmla` on q registers."""
    import llvmlite.binding as llvm

    module = conv_module()
    lower(module, "neon")
    target = PRESETS["neon"]
    ir = to_llvm_ir(module, target)
    assert "<4 x float>" in ir and "llvm.fma.v4f32" in ir
    llvm.initialize_all_targets()
    llvm.initialize_all_asmprinters()
    parsed = llvm.parse_assembly(ir)
    machine = llvm.Target.from_triple(target.triple).create_target_machine(
        cpu=target.cpu, features=target.features, opt=2)
    code = machine.emit_assembly(parsed)
    assert re.search(r"fmla\s+v\d+\.4s, v\d+\.4s, v\d+\.(4s|s\[\d\])", code)


def test_compile_with_sparsity_runs_the_sparse_kernels():
    import torch

    import sparsec

    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Conv2d(8, 16, 3, padding=1), torch.nn.ReLU(),
                                torch.nn.Conv2d(16, 16, 1), torch.nn.Flatten(),
                                torch.nn.Linear(16 * 5 * 5, 8)).eval()
    x = torch.randn(1, 8, 5, 5)
    for scheme in (sparsec.BCR((8, 4), 0.8), sparsec.Pattern(patterns=4, connectivity=2.0)):
        sparsec.prune(model, scheme)  # masks applied in place: PyTorch runs the same weights
        fn = sparsec.compile(model, (x,), sparsity=scheme)
        assert "sparsify{" in fn.passes
        encoded = [op for op in fn.module.walk() if isinstance(op, AssembleOp)]
        assert not encoded  # the module given is left alone; the pass runs on a copy
        with torch.no_grad():
            want = model(x).numpy()
        got = fn(x.numpy())
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5 * np.abs(want).max())
        # the report counts the multiply-adds of the kept weights: 2 per kept weight and
        # output position, plus one bias add per output
        [linear] = [k for k in fn.kernels if k["ops"][0] == "nn.linear"]
        kept = int(np.count_nonzero(model[4].weight.detach().numpy()))
        assert linear["flops"] == 2 * kept + 8
        conv3 = next(k for k in fn.kernels if k["ops"][0] == "nn.conv2d")
        kept = int(np.count_nonzero(model[0].weight.detach().numpy()))
        relu = 16 * 25 if "nn.relu" in conv3["ops"] else 0  # fused epilogue: 1 per output
        assert conv3["flops"] == 2 * kept * 25 + 16 * 25 + relu


def test_sparsify_spec_round_trips_the_options():
    for options in (SparsifyPass("bcr", "8x4", 0.8), SparsifyPass("csr", None, 0.5),
                    SparsifyPass("pattern", "4x4", None, 6, 2.5)):
        spec = options.spec()
        [parsed] = PassPipeline.parse_spec(all_passes(), spec).passes
        assert parsed == options, spec


def test_cli_runs_a_sparsified_module(tmp_path, capsys):
    from sparsec.tools.cli import main

    module = linear_module(BCRAttr((4, 4)))
    path = tmp_path / "sparse.mlir"
    path.write_text(print_module(module))
    assert main(["run", str(path), "--bench", "--runs", "2"]) == 0
    out = capsys.readouterr().out
    error = float(re.search(r"output 0: ([0-9.e+-]+)", out.split("max |jit")[1]).group(1))
    assert error < 1e-5

    bad = linear_module(BSRAttr((4, 4)))
    path.write_text(print_module(bad))
    assert main(["run", str(path), "--jit"]) == 1
    assert "no kernel for #sparse.bsr" in capsys.readouterr().err


def test_bcr_tiles_too_tall_for_the_registers_accumulate_in_memory():
    """16-row tiles do not fit 16 AVX2 registers with their columns (and tiles keeping
    few rows are better off without): the kernel keeps a block row's sums in a stack
    block instead (one body per kept rows x columns)."""
    from sparsec.interpreters import interpret
    from sparsec.lowering.kernels.sparse.bcr import in_registers, row_chunks
    from sparsec.runtime.compiled import compile as jit_compile

    assert not in_registers(BCRAttr((16, 4)), PRESETS["avx2"], 16)
    assert in_registers(BCRAttr((8, 4)), PRESETS["avx2"], 8)
    assert not in_registers(BCRAttr((8, 4)), PRESETS["avx2"], 3)  # 5 of 8 FMAs wasted
    # a tile's kept rows in chunks whose sums, one column and a weight fit 16 registers:
    # 3 vectors per row leave room for 4 rows
    assert row_chunks(5, 3, PRESETS["avx2"]) == [range(0, 2), range(2, 5)]
    assert row_chunks(4, 3, PRESETS["avx2"]) == [range(0, 4)]
    assert row_chunks(16, 2, PRESETS["avx2"]) == [range(0, 5), range(5, 10), range(10, 16)]
    rng = np.random.default_rng(1)
    weight = rng.standard_normal((32, 20)).astype(np.float32)
    tiles = weight.reshape(2, 16, 5, 4)
    tiles[:, rng.random(16) < 0.5] = 0  # some rows of every tile row
    tiles[..., rng.random(4) < 0.5] = 0  # some columns
    module = linear_module(BCRAttr((16, 4)), weight.reshape(32, 20))
    x = rng.standard_normal((3, 20)).astype(np.float32)
    want = interpret(module, x)[0]
    got = jit_compile(module, threads=2)(x)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5 * np.abs(want).max())


def test_segment_columns_cuts_k_only_for_a_large_chunk_of_x():
    """K is cut when the tile's chunk of X exceeds the tile budget, into segments of
    about X_SEGMENT_BYTES of X (at least MIN_SEGMENT block columns), unless the sums of
    every (block row, panel) would not fit SUMS_BYTES."""
    from sparsec.lowering.kernels.sparse.bcr import (
        MIN_SEGMENT,
        SUMS_BYTES,
        X_SEGMENT_BYTES,
        XP_BYTES,
        segment_columns,
    )

    # VGG-16's 512@28 band: 75.6 bytes of X per K row, 288 block columns of 16
    per_k = 5 * 34 * 4 / 9
    assert 288 * 16 * per_k > XP_BYTES
    columns = segment_columns(per_k, 16, 288, 32 * 4 * 16 * 24 * 4)
    assert columns == int(X_SEGMENT_BYTES // per_k) // 16 == 13
    # its 64@224 band: 502 bytes per K row, so a segment of 16 KB would hold 2 columns
    assert segment_columns(5 * 226 * 4 / 9, 16, 36, 4 * 28 * 16 * 24 * 4) == MIN_SEGMENT
    assert segment_columns(per_k, 16, 288, SUMS_BYTES + 1) == 288  # sums too large
    small = XP_BYTES / (36 * 16)  # a chunk within the budget: K whole
    assert segment_columns(small, 16, 36, 1024) == 36
    assert segment_columns(small * 1.01, 16, 36, 1024) < 36


def test_a_wide_deep_layer_runs_its_bcr_kernel_in_k_segments(monkeypatch):
    """A 64-channel 3x3 layer on 112 x 112 (the band of three output rows is 146 KB):
    the BCR 16x16 kernel cuts K into segments and still matches PyTorch."""
    import torch

    import sparsec
    from sparsec.lowering.kernels.sparse import bcr

    segments = []
    prepare = bcr.BCRProgram.prepare

    def recording(self, k, units, panels):
        prepare(self, k, units, panels)
        segments.append(self.segments)
    monkeypatch.setattr(bcr.BCRProgram, "prepare", recording)
    torch.manual_seed(0)
    conv = torch.nn.Conv2d(64, 64, 3, padding=1).eval()
    x = torch.randn(1, 64, 112, 112)
    scheme = sparsec.BCR((16, 16), 0.9)
    sparsec.prune(conv, scheme)
    fn = sparsec.compile(conv, (x,), sparsity=scheme, threads=2)
    assert segments == [9]  # 36 block columns, MIN_SEGMENT = 4 per segment
    with torch.no_grad():
        want = conv(x).numpy()
    np.testing.assert_allclose(fn(x.numpy()), want, rtol=1e-5, atol=1e-5 * np.abs(want).max())


@pytest.mark.parametrize("scheme", ["bcr block=4x4 rate=0.5", "pattern patterns=4",
                                    "csr rate=0.5"])
def test_fused_group_with_a_sparse_convolution(scheme):
    """fuse puts relu -> conv in one group, where a dense convolution would apply the relu
    while packing its input (a prologue); the sparse kernels read their input as it is,
    so the relu stays a kernel of its own and the result is still the interpreter's."""
    import sparsec
    from sparsec.dialects.nn.builder import FunctionBuilder
    from sparsec.interpreters import interpret
    from sparsec.universe import make_context

    f = FunctionBuilder((1, 4, 7, 7))
    (x,) = f.args
    module = f.module(f(nn.Conv2dOp(f(nn.ReluOp(x)), f.uniform((8, 4, 3, 3)), padding=(1, 1))))

    passes = f"fuse,sparsify{{scheme={scheme}}}"
    fn = sparsec.compile(module, passes=passes)
    assert [k["name"].split("_")[0] for k in fn.kernels] == ["relu", "conv2d"]
    sparse_module = module.clone()
    PassPipeline.parse_spec(all_passes(), passes).apply(make_context(), sparse_module)
    x = RNG.standard_normal((1, 4, 7, 7)).astype(np.float32)
    (want,) = interpret(sparse_module, x)
    scale = max(1.0, float(np.abs(want).max()))
    np.testing.assert_allclose(fn(x), want, rtol=1e-5, atol=1e-5 * scale)
