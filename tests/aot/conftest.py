"""Shared by the ahead-of-time tests: the toolchains (an AArch64 cross compiler run under
qemu-aarch64, and the host's gcc), and building, linking and running a model's object with
the reusable driver examples/aot/run_model.c.

The toolchain is required: a missing tool FAILS these tests with the command that installs
it (`make test` installs it through scripts/env.sh); they never skip.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from sparsec.aot import AotResult, save

ROOT = Path(__file__).resolve().parents[2]
DRIVER = ROOT / "examples" / "aot" / "run_model.c"
SYSROOT = Path("/usr/aarch64-linux-gnu")
INSTALL = ("install the toolchain: apt-get install gcc-aarch64-linux-gnu "
           "binutils-aarch64-linux-gnu qemu-user gcc g++ (make test does it via scripts/env.sh)")

RTOL = 1e-4
ATOL = 1e-4
"""Against the reference interpreter (float64 numpy): |got - want| <= ATOL * max(1, max|want|)
+ RTOL * |want|, as for the JIT: the compiled kernels sum in float32, in another order."""


@dataclass(frozen=True)
class Run:
    returncode: int
    outputs: list[np.ndarray]
    stderr: str


@dataclass(frozen=True)
class Program:
    """A model's object linked with the driver."""

    result: AotResult
    executable: Path
    platform: Platform

    def run(self, inputs: list[np.ndarray], memory: bool = False,
            weights: Path | None = None) -> Run:
        directory = self.result.directory
        in_path, out_path = directory / "inputs.bin", directory / "outputs.bin"
        out_path.unlink(missing_ok=True)
        specs = self.result.facts.inputs
        assert len(inputs) == len(specs)
        with open(in_path, "wb") as f:
            for array, spec in zip(inputs, specs, strict=True):
                f.write(np.ascontiguousarray(array, np.dtype(spec["dtype"])).tobytes())
        command = [*self.platform.runner, str(self.executable),
                   str(weights or self.result.weights_path), str(in_path), str(out_path)]
        done = subprocess.run(command + (["--memory"] if memory else []), capture_output=True,
                              text=True, timeout=900)
        outputs = []
        if done.returncode == 0:
            data, offset = out_path.read_bytes(), 0
            for spec in self.result.facts.outputs:
                dtype = np.dtype(spec["dtype"])
                count = int(np.prod(spec["shape"], dtype=np.int64))
                outputs.append(np.frombuffer(data, dtype, count, offset).reshape(spec["shape"]))
                offset += count * dtype.itemsize
            assert offset == len(data)
        return Run(done.returncode, outputs, done.stderr)


@dataclass(frozen=True)
class Platform:
    triple: str
    cc: str
    runner: tuple[str, ...]
    tools: tuple[str, ...]
    objdump: str
    nm: str

    def require(self) -> None:
        missing = [tool for tool in self.tools if shutil.which(tool) is None]
        if self.runner and not SYSROOT.is_dir():
            missing.append(str(SYSROOT))
        if missing:
            pytest.fail(f"missing {', '.join(missing)}: {INSTALL}", pytrace=False)

    def compile(self, module, directory: Path, **options) -> AotResult:
        return save(module, directory, target=self.triple, **options)

    def link(self, result: AotResult, source: Path = DRIVER, name: str = "run") -> Path:
        executable = result.directory / name
        command = [self.cc, "-O2", "-Wall", "-Wextra", "-Werror", "-std=c11",
                   f"-I{result.directory}", str(source), str(result.object_path),
                   *result.libraries, "-o", str(executable)]
        done = subprocess.run(command, capture_output=True, text=True)
        assert done.returncode == 0, f"{' '.join(command)}\n{done.stderr}"
        return executable

    def build(self, module, directory: Path, **options) -> Program:
        result = self.compile(module, directory, **options)
        return Program(result, self.link(result), self)

    def disassemble(self, path: Path) -> str:
        return subprocess.run([self.objdump, "-d", str(path)], capture_output=True, text=True,
                              check=True).stdout

    def symbols(self, path: Path, *flags: str) -> set[str]:
        text = subprocess.run([self.nm, *flags, str(path)], capture_output=True, text=True,
                              check=True).stdout
        return {line.split()[-1] for line in text.splitlines() if line.strip()}


AARCH64 = Platform("aarch64-linux-gnu", "aarch64-linux-gnu-gcc",
                   ("qemu-aarch64", "-L", str(SYSROOT)),
                   ("aarch64-linux-gnu-gcc", "qemu-aarch64", "aarch64-linux-gnu-objdump",
                    "aarch64-linux-gnu-nm"),
                   "aarch64-linux-gnu-objdump", "aarch64-linux-gnu-nm")
X86_64 = Platform("x86_64-linux-gnu", "gcc", (), ("gcc", "g++", "objdump", "nm"), "objdump", "nm")
PLATFORMS = {"aarch64": AARCH64, "x86_64": X86_64}


@pytest.fixture(scope="session", params=list(PLATFORMS))
def platform(request) -> Platform:
    """Each test using it runs for AArch64 (under qemu) and x86-64 (natively)."""
    chosen = PLATFORMS[request.param]
    chosen.require()
    return chosen


@pytest.fixture(scope="session")
def aarch64() -> Platform:
    AARCH64.require()
    return AARCH64


@pytest.fixture(scope="session")
def x86_64() -> Platform:
    X86_64.require()
    return X86_64


@pytest.fixture(autouse=True, scope="package")
def verified_lowering():
    """Every lowered module must verify (as in the JIT tests)."""
    patch = pytest.MonkeyPatch()
    patch.setenv("SPARSEC_VERIFY", "1")
    yield
    patch.undo()


def assert_matches(got: list[np.ndarray], want, label: str = "") -> float:
    """Check outputs against the reference; return the largest error relative to scale."""
    assert len(got) == len(want), label
    worst = 0.0
    for index, (g, w) in enumerate(zip(got, want, strict=True)):
        assert g.shape == w.shape, f"{label} output {index}: {g.shape} != {w.shape}"
        if w.dtype.kind != "f":
            np.testing.assert_array_equal(g, w, err_msg=f"{label} output {index}")
            continue
        scale = max(1.0, float(np.max(np.abs(w), initial=0.0)))
        np.testing.assert_allclose(g, w, rtol=RTOL, atol=ATOL * scale,
                                   err_msg=f"{label} output {index}")
        worst = max(worst, float(np.max(np.abs(g - w), initial=0.0)) / scale)
    return worst


@pytest.fixture(scope="session")
def matches():
    return assert_matches


@pytest.fixture(scope="session")
def platform_type():
    return Platform
