"""Ahead-of-time pieces that need no toolchain: targets by triple and CPU, the pipeline
spec that carries them, the weights file format, the C API's IR and the header text.
(Linking and running objects: tests/aot/.)"""

from __future__ import annotations

import zlib

import llvmlite.binding as llvm
import numpy as np
import pytest

from sparsec.aot import weights_file
from sparsec.aot.capi import API, ModelFacts, capi_ir
from sparsec.aot.header import c_identifier, model_header
from sparsec.aot.weights_file import Status, WeightsFileError
from sparsec.lowering.pipelines import pipeline_spec
from sparsec.lowering.target import aot_target, get_target


def test_triples_and_cpus_give_vector_widths():
    neon = aot_target("aarch64-linux-gnu")
    assert (neon.triple, neon.cpu, neon.vector_lanes, neon.vector_registers) == \
        ("aarch64-unknown-linux-gnu", "generic", 4, 32)
    assert neon.gemm_block == (8, 2) and "+neon" in neon.features
    assert aot_target("aarch64-linux-gnu", "neoverse-n1").cpu == "neoverse-n1"
    avx2 = aot_target("x86_64-linux-gnu")
    assert (avx2.cpu, avx2.vector_lanes, avx2.gemm_block) == ("x86-64-v3", 8, (6, 2))
    assert aot_target("x86_64-linux-gnu", "skylake-avx512").vector_lanes == 16
    assert get_target("aarch64-linux-gnu:cortex-a76") == aot_target("aarch64-linux-gnu",
                                                                   "cortex-a76")
    assert get_target("x86_64-unknown-linux-gnu").cpu == "x86-64-v3"


def test_unknown_triple_or_cpu_is_a_clean_error():
    with pytest.raises(ValueError, match=r"unknown target triple 'riscv64-linux-gnu' \(known: "
                                         r"aarch64-linux-gnu, x86_64-linux-gnu\)"):
        aot_target("riscv64-linux-gnu")
    with pytest.raises(ValueError, match="unknown CPU 'skylake-avx512' for aarch64-linux-gnu"):
        aot_target("aarch64-linux-gnu", "skylake-avx512")
    with pytest.raises(ValueError, match="unknown target 'aarch64-apple-darwin'"):
        get_target("aarch64-apple-darwin")


def test_every_cpu_is_known_to_llvm(capfd):
    """Each CPU name and feature string makes an LLVM TargetMachine, and LLVM does not warn
    about it ("'x' is not a recognized processor for this target", on stderr)."""
    from sparsec.aot.objects import target_machine
    from sparsec.lowering.target import CPUS

    for triple, models in CPUS.items():
        for cpu in models:
            target = aot_target(triple, cpu)
            machine = target_machine(target)
            assert str(machine.target_data)
            assert llvm.Target.from_triple(triple).name in ("aarch64", "x86-64")
            module = llvm.parse_assembly("define void @f() {\n  ret void\n}\n")
            module.triple = target.triple
            machine.emit_object(module)
    assert "not a recognized" not in capfd.readouterr().err


def test_pipeline_spec_quotes_targets_with_a_cpu():
    assert pipeline_spec("lower-to-loops", 2, "host") == \
        "convert-nn-to-loops{threads=2 target=host fusion=true}"
    assert pipeline_spec("lower-to-loops", 1, "aarch64-linux-gnu:cortex-a76") == \
        'convert-nn-to-loops{threads=1 target="aarch64-linux-gnu:cortex-a76" fusion=true}'


def test_weights_file_round_trip_and_errors():
    payload = np.arange(100, dtype=np.float32)
    data = weights_file.encode(payload, model_id=42)
    assert len(data) == weights_file.HEADER_BYTES + payload.nbytes
    assert data[:8] == b"SPARSECW"
    header, body = weights_file.decode(data, payload.nbytes, 42)
    assert body == payload.tobytes()
    assert header.crc32 == zlib.crc32(payload.tobytes()) and header.model_id == 42
    for damaged, status in ((data[:-1], Status.TRUNCATED), (data + b"x", Status.TRAILING_DATA),
                            (b"NOTSPRSC" + data[8:], Status.BAD_MAGIC)):
        with pytest.raises(WeightsFileError) as caught:
            weights_file.decode(damaged, payload.nbytes, 42)
        assert caught.value.status == status
    with pytest.raises(WeightsFileError, match="SIZE_MISMATCH"):
        weights_file.decode(data, payload.nbytes + 4, 42)
    with pytest.raises(WeightsFileError, match="MODEL_MISMATCH"):
        weights_file.decode(data, payload.nbytes, 43)


FACTS = ModelFacts(
    inputs=[{"name": "input.1", "shape": [2, 3], "dtype": "<f4"},
            {"name": "ids", "shape": [4], "dtype": "<i8"}],
    outputs=[{"name": "output0", "shape": [4, 3], "dtype": "<f4"}],
    weights_bytes=128, workspace_bytes=256, model_id=2**64 - 5, index_bounds={1: 10})


def test_capi_ir_parses_and_defines_the_api():
    model = "define void @main(ptr %a, ptr %b, ptr %c, ptr %w, ptr %s) {\n  ret void\n}\n"
    from sparsec.aot.objects import link

    module = link(model, capi_ir(FACTS))
    exported = {f.name for f in module.functions
                if not f.is_declaration and f.linkage == llvm.Linkage.external}
    assert exported == set(API)
    assert "sc.in_range_si64" in str(module)


def test_header_names_and_constants():
    text = model_header(FACTS, target="x86_64-linux-gnu", cpu="x86-64-v3", threads=2,
                        libraries=["-fopenmp", "-lm"])
    assert "int sc_model_run(sc_model *model, const float *input_1, const int64_t *ids, " \
           "float *output0);" in text
    assert "#define SC_MODEL_INPUT1_TYPE int64_t" in text
    assert "#define SC_MODEL_OUTPUT0_BYTES 48u" in text
    assert "#define SC_MODEL_ID 0xfffffffffffffffbull" in text
    assert "input 1 holds gather indices: every value must be in [0, 10)" in text
    assert "cc app.c model.o -fopenmp -lm" in text and "libgomp" in text
    assert c_identifier("3d", "input0") == "input0"
    assert c_identifier("model", "input0") == "input0"
    assert c_identifier("output1", "input0") == "input0"
