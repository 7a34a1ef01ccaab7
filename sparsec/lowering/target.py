"""What the code generator needs to know about a CPU: vector width, register count, and the
triple / CPU name / features LLVM compiles for.

One code generator serves every target: kernels read `vector_lanes` (f32 lanes per vector
register) and `vector_registers`, and derive their register blocking from them
(`gemm_block`). `Target.host()` asks llvmlite what this machine is.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache


@dataclass(frozen=True)
class Target:
    name: str
    triple: str
    cpu: str
    features: str
    vector_lanes: int
    """f32 lanes per vector register: 16 (AVX-512), 8 (AVX2), 4 (NEON)."""
    vector_registers: int
    """Architectural vector registers: 32 (AVX-512, NEON), 16 (AVX2)."""

    @property
    def gemm_block(self) -> tuple[int, int]:
        """(rows, vectors) of the GEMM micro-kernel's register block: `vectors` B vectors
        per k step (2), and as many broadcast rows as leave room for them and for the
        broadcast register (AVX2: 6 x 2 vectors = 12 accumulators of 16 registers)."""
        vectors = 2
        rows = min(8, (self.vector_registers - vectors - 1) // vectors)
        return rows, vectors

    def key(self) -> str:
        return f"{self.triple}/{self.cpu}/{self.features}"


def _x86(name: str, cpu: str, features: str, lanes: int, registers: int) -> Target:
    return Target(name, "x86_64-unknown-linux-gnu", cpu, features, lanes, registers)


PRESETS = {
    "avx512": _x86("avx512", "skylake-avx512", "+avx512f,+avx2,+fma,+avx", 16, 32),
    "avx2": _x86("avx2", "haswell", "+avx2,+fma,+avx", 8, 16),
    "neon": Target("neon", "aarch64-unknown-linux-gnu", "generic", "+neon", 4, 32),
}


@cache
def host_target() -> Target:
    import llvmlite.binding as llvm

    llvm.initialize_native_target()
    llvm.initialize_native_asmprinter()
    triple = llvm.get_process_triple()
    cpu = llvm.get_host_cpu_name()
    flags = llvm.get_host_cpu_features()
    features = flags.flatten()
    if triple.startswith(("x86_64", "i686")):
        if flags.get("avx512f", False):
            lanes, registers = 16, 32
        elif flags.get("avx2", False) or flags.get("avx", False):
            lanes, registers = 8, 16
        else:
            lanes, registers = 4, 16
    elif triple.startswith(("aarch64", "arm64")):
        lanes, registers = 4, 32
    else:
        lanes, registers = 4, 16
    return Target("host", triple, cpu, features, lanes, registers)


def get_target(name: str) -> Target:
    """`host` (this machine) or a preset: avx512, avx2, neon."""
    if name == "host":
        return host_target()
    if name in PRESETS:
        return PRESETS[name]
    known = ", ".join(["host", *PRESETS])
    raise ValueError(f"unknown target {name!r} (known: {known})")
