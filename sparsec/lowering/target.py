"""What the code generator needs to know about a CPU: vector width, register count, and the
triple / CPU name / features LLVM compiles for.

One code generator serves every target: kernels read `vector_lanes` (f32 lanes per vector
register) and `vector_registers`, and derive their register blocking from them
(`gemm_block`). `host_target()` asks llvmlite what this machine is.

Ahead-of-time targets are named by a GNU triple and an optional CPU,
`aarch64-linux-gnu` or `aarch64-linux-gnu:cortex-a76` (`aot_target`): the CPU decides the
vector width (NEON: 4 f32 lanes in 32 registers; AVX2: 8 in 16; AVX-512: 16 in 32) and
LLVM's instruction selection and scheduling model. `get_target` accepts every spelling, so
the `target=` option of `convert-nn-to-loops` / `lower-to-llvm` takes them too.
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


@dataclass(frozen=True)
class CpuModel:
    """What a CPU name means to the code generator: extra LLVM features (the CPU name
    implies the rest), f32 lanes per vector register, vector registers."""

    features: str
    vector_lanes: int
    vector_registers: int


TRIPLES = {
    "aarch64-linux-gnu": "aarch64-unknown-linux-gnu",
    "aarch64-unknown-linux-gnu": "aarch64-unknown-linux-gnu",
    "x86_64-linux-gnu": "x86_64-unknown-linux-gnu",
    "x86_64-unknown-linux-gnu": "x86_64-unknown-linux-gnu",
}
"""Ahead-of-time triples (as users spell them) -> LLVM's normalised triple."""

_NEON = "+neon,+fp-armv8"
_AVX2 = "+avx2,+fma,+avx"
_AVX512 = "+avx512f,+avx512vl,+avx2,+fma,+avx"
CPUS: dict[str, dict[str, CpuModel]] = {
    # NEON is 128 bits on every AArch64 core (SVE's wider vectors are not used): 4 lanes,
    # 32 registers, fused multiply-add (`fmla v.4s`) in the base ISA.
    "aarch64-unknown-linux-gnu": {
        "generic": CpuModel(_NEON, 4, 32),
        "cortex-a53": CpuModel(_NEON, 4, 32),
        "cortex-a72": CpuModel(_NEON, 4, 32),
        "cortex-a76": CpuModel(_NEON, 4, 32),
        "neoverse-n1": CpuModel(_NEON, 4, 32),
        "neoverse-v1": CpuModel(_NEON, 4, 32),
        "apple-m1": CpuModel(_NEON, 4, 32),
    },
    # AVX2 + FMA is the floor: the kernels use fused multiply-adds, which SSE-only CPUs
    # would run as libm calls.
    "x86_64-unknown-linux-gnu": {
        "x86-64-v3": CpuModel(_AVX2, 8, 16),
        "haswell": CpuModel(_AVX2, 8, 16),
        "znver2": CpuModel(_AVX2, 8, 16),
        "znver3": CpuModel(_AVX2, 8, 16),
        "x86-64-v4": CpuModel(_AVX512, 16, 32),
        "skylake-avx512": CpuModel(_AVX512, 16, 32),
        "znver4": CpuModel(_AVX512, 16, 32),
    },
}
DEFAULT_CPU = {"aarch64-unknown-linux-gnu": "generic", "x86_64-unknown-linux-gnu": "x86-64-v3"}


def aot_target(triple: str, cpu: str | None = None) -> Target:
    """The Target for a triple (`aarch64-linux-gnu`, `x86_64-linux-gnu`) and CPU (default:
    `generic` on AArch64, `x86-64-v3` on x86-64). Its name, `TRIPLE:CPU`, is accepted by
    `get_target`. Unknown names raise ValueError listing the known ones."""
    if triple not in TRIPLES:
        raise ValueError(f"unknown target triple {triple!r} (known: "
                         f"{', '.join(t for t in TRIPLES if '-unknown-' not in t)})")
    llvm_triple = TRIPLES[triple]
    cpu = cpu or DEFAULT_CPU[llvm_triple]
    models = CPUS[llvm_triple]
    if cpu not in models:
        raise ValueError(f"unknown CPU {cpu!r} for {triple} (known: {', '.join(models)})")
    model = models[cpu]
    return Target(f"{triple}:{cpu}", llvm_triple, cpu, model.features, model.vector_lanes,
                  model.vector_registers)


def get_target(name: str) -> Target:
    """`host` (this machine), a preset (avx512, avx2, neon), or an ahead-of-time target
    `TRIPLE[:CPU]` such as `aarch64-linux-gnu:cortex-a76`."""
    if name == "host":
        return host_target()
    if name in PRESETS:
        return PRESETS[name]
    triple, _, cpu = name.partition(":")
    if triple in TRIPLES:
        return aot_target(triple, cpu or None)
    known = ", ".join(["host", *PRESETS, "TRIPLE[:CPU] with TRIPLE one of "
                       + ", ".join(t for t in TRIPLES if "-unknown-" not in t)])
    raise ValueError(f"unknown target {name!r} (known: {known})")
