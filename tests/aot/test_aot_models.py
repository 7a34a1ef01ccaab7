"""Real models ahead of time: PyTorch model -> nn module -> AArch64 object linked with
aarch64-linux-gnu-gcc and run under qemu-aarch64, and x86-64 object linked with gcc and
run natively -> compared with the reference interpreter on the same input.

Models: ResNet-18 and MobileNetV2 (torchvision, random weights and batch-norm statistics,
1x3x224x224) and a 2-layer GRU (64 -> 128, 20 steps), each imported once per module.
Tolerance: `conftest.RTOL` / `ATOL` (1e-4 of the output's scale, as for the JIT).
"""

from __future__ import annotations

import re
from functools import cache

import numpy as np
import pytest

torch = pytest.importorskip("torch")
torchvision = pytest.importorskip("torchvision")
pytest.importorskip("torch_mlir")

from sparsec.aot.capi import API  # noqa: E402
from sparsec.frontend import import_model  # noqa: E402
from sparsec.interpreters import interpret  # noqa: E402

pytestmark = pytest.mark.model

LIBC = {"fopen", "fread", "fgetc", "fclose", "malloc", "posix_memalign", "free", "memcpy",
        "memset", "memmove"}
LIBM = {"expf", "logf", "tanhf", "sqrtf", "powf", "erff", "fmaf", "fmaxf", "fminf", "floorf",
        "ceilf", "roundf", "exp", "log"}
GOMP = {"GOMP_parallel", "omp_get_thread_num", "omp_get_num_threads"}


def randomized(model):
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for layer in model.modules():
            if isinstance(layer, torch.nn.modules.batchnorm._BatchNorm):
                layer.running_mean.uniform_(-0.1, 0.1, generator=generator)
                layer.running_var.uniform_(0.5, 1.5, generator=generator)
                layer.weight.uniform_(0.5, 1.5, generator=generator)
                layer.bias.uniform_(-0.1, 0.1, generator=generator)
    return model.eval()


class Recurrent(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.rnn = torch.nn.GRU(64, 128, num_layers=2, batch_first=True)

    def forward(self, x):
        return self.rnn(x)[0]


def build(name: str):
    torch.manual_seed(0)
    if name == "gru":
        return Recurrent().eval(), torch.randn(1, 20, 64)
    return randomized(torchvision.models.get_model(name, weights=None)), \
        torch.randn(1, 3, 224, 224)


@cache
def imported(name: str):
    """(name, nn module, input, reference outputs), once per model and process."""
    torch_model, x = build(name)
    module = import_model(torch_model, (x,))
    array = x.numpy()
    return name, module, array, interpret(module, array)


@pytest.fixture(scope="module", params=["resnet18", "mobilenet_v2", "gru"])
def model(request):
    return imported(request.param)


@pytest.fixture(scope="module")
def programs(tmp_path_factory):
    """(model, platform) -> linked program, shared by the tests of this module."""
    return {}


def program_for(programs, model, platform, tmp_path_factory):
    key = (model[0], platform.triple)
    if key not in programs:
        directory = tmp_path_factory.mktemp(f"{model[0]}-{platform.triple}")
        programs[key] = platform.build(model[1], directory, source=model[0])
    return programs[key]


def test_model_matches_interpreter(model, platform, programs, tmp_path_factory, matches):
    name, _, x, expected = model
    program = program_for(programs, model, platform, tmp_path_factory)
    run = program.run([x])
    assert run.returncode == 0, run.stderr
    error = matches(run.outputs, expected, f"{name} on {platform.triple}")
    print(f"{name} {platform.triple}: max |aot - interpreter| / scale = {error:.3g}")


def test_weights_from_memory_give_the_same_outputs(platform, programs, tmp_path_factory):
    """sc_model_create_from_memory (weights copied: the driver's buffer is not 64-byte
    aligned) computes what sc_model_create does; on the GRU, the cheapest real model."""
    model = imported("gru")
    program = program_for(programs, model, platform, tmp_path_factory)
    from_file = program.run([model[2]])
    from_memory = program.run([model[2]], memory=True)
    assert from_file.returncode == from_memory.returncode == 0, from_memory.stderr
    for a, b in zip(from_file.outputs, from_memory.outputs, strict=True):
        np.testing.assert_array_equal(a, b)


def test_object_exports_the_api_and_needs_only_libc(model, platform, programs,
                                                    tmp_path_factory):
    program = program_for(programs, model, platform, tmp_path_factory)
    path = program.result.object_path
    assert platform.symbols(path, "-g", "--defined-only") == set(API)
    undefined = platform.symbols(path, "-u")
    assert undefined <= LIBC | LIBM, undefined - LIBC - LIBM


def functions(disassembly: str) -> dict[str, str]:
    """objdump -d text split by function: name -> its instructions."""
    parts = re.split(r"^[0-9a-f]+ <([^>]+)>:$", disassembly, flags=re.MULTILINE)
    return dict(zip(parts[1::2], parts[2::2], strict=True))


def test_aarch64_object_uses_neon_vector_fmas(aarch64, tmp_path_factory):
    """The kernels take their vector width and register block from the target: NEON has 4
    f32 lanes and 32 registers, so the GEMM micro-kernel is 8 rows x 2 vectors (8 columns)
    of `fmla vD.4s, vN.4s, vM.s[i]` (or `vM.4s` after a broadcast load): 16 vector FMAs
    per k step."""
    module = imported("resnet18")[1]
    result = aarch64.compile(module, tmp_path_factory.mktemp("neon"), cpu="cortex-a76")
    target = result.target
    assert (target.vector_lanes, target.vector_registers, target.gemm_block) == (4, 32, (8, 2))
    rows, vectors = target.gemm_block
    code = functions(aarch64.disassemble(result.object_path))
    name = f"gemm_{rows}x{vectors * target.vector_lanes}_set"
    kernels = {n: text for n, text in code.items() if n.startswith(name)}
    assert kernels, f"no {name}* micro-kernel in {sorted(code)}"
    for kernel, text in kernels.items():
        fmla = re.findall(r"\bfmla\s+v\d+\.4s, v\d+\.4s, v\d+\.(?:4s|s\[\d\])", text)
        assert len(fmla) >= rows * vectors, f"{kernel}: {len(fmla)} NEON FMAs"
    total = sum(len(re.findall(r"\bfmla\s+v\d+\.4s", text)) for text in code.values())
    print(f"resnet18 aarch64 cortex-a76: {total} fmla .4s in the object")


def test_x86_64_object_uses_avx2_fmas(x86_64, model, programs, tmp_path_factory):
    program = program_for(programs, model, x86_64, tmp_path_factory)
    text = x86_64.disassemble(program.result.object_path)
    assert re.search(r"\bvfmadd\d+ps\s+.*%ymm", text), "no 8-lane FMA in the x86-64 object"


def test_two_threads_link_libgomp(platform, tmp_path_factory, matches):
    """threads=2: the kernels call GOMP_parallel; linked with -fopenmp (model.h says so)."""
    name, module, x, expected = imported("mobilenet_v2")
    program = platform.build(module, tmp_path_factory.mktemp("threads"), threads=2)
    assert "GOMP_parallel" in platform.symbols(program.result.object_path, "-u")
    assert "-fopenmp" in program.result.header_path.read_text()
    run = program.run([x])
    assert run.returncode == 0, run.stderr
    matches(run.outputs, expected, f"{name} threads=2 on {platform.triple}")
