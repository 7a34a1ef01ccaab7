"""LLVM IR -> machine code in this process: llvmlite's MCJIT, optimised at O3 for the
host CPU (its name and features from llvmlite), plus the object file for the compile cache.

    native = NativeModule.from_ir(ir_text, target)     # compile
    native = NativeModule.from_object(obj_bytes, target)  # or load a cached object file
    address = native.address("main")
"""

from __future__ import annotations

import threading
from functools import cache

import llvmlite.binding as llvm

from sparsec.lowering.target import Target

from . import threads as omp

_LOCK = threading.Lock()  # llvmlite's global state is not thread-safe


@cache
def _initialise() -> None:
    llvm.initialize_native_target()
    llvm.initialize_native_asmprinter()
    llvm.initialize_native_asmparser()


def target_machine(target: Target) -> llvm.TargetMachine:
    _initialise()
    machine = llvm.Target.from_triple(target.triple)
    return machine.create_target_machine(cpu=target.cpu, features=target.features, opt=3,
                                         reloc="default", codemodel="jitdefault", jit=True)


def optimise(module: llvm.ModuleRef, machine: llvm.TargetMachine) -> None:
    """LLVM's O3 module pipeline without loop unrolling and the loop vectoriser: the
    kernels are vectorised and register-blocked by hand. Unrolling took 90% of O3's
    time, and the loop vectoriser of llvmlite's LLVM (built with assertions) aborts the
    process on some scalar loops ("VPlan cost model and legacy cost model disagreed")."""
    options = llvm.create_pipeline_tuning_options(speed_level=3)
    options.loop_vectorization = False
    options.slp_vectorization = True
    options.loop_unrolling = False
    builder = llvm.create_pass_builder(machine, options)
    builder.getModulePassManager().run(module, builder)


def compile_ir(ir: str, target: Target) -> tuple[llvm.ModuleRef, llvm.TargetMachine]:
    _initialise()
    with _LOCK:
        module = llvm.parse_assembly(ir)
        module.verify()
        machine = target_machine(target)
        module.triple = target.triple
        module.data_layout = str(machine.target_data)
        optimise(module, machine)
    return module, machine


def assembly(ir: str, target: Target) -> str:
    """The optimised module's assembly (tests look for vector FMAs in it)."""
    module, machine = compile_ir(ir, target)
    with _LOCK:
        return machine.emit_assembly(module)


class NativeModule:
    """Machine code loaded into this process; keeps the execution engine alive."""

    def __init__(self, engine: llvm.ExecutionEngine, object_code: bytes | None):
        self.engine = engine
        self.object_code = object_code

    @staticmethod
    def from_ir(ir: str, target: Target) -> NativeModule:
        module, machine = compile_ir(ir, target)
        with _LOCK:
            object_code = machine.emit_object(module)
        return NativeModule.from_object(object_code, target)

    @staticmethod
    def from_object(object_code: bytes, target: Target) -> NativeModule:
        _initialise()
        omp.register_symbols()
        with _LOCK:
            machine = target_machine(target)
            empty = llvm.parse_assembly("")
            empty.triple = target.triple
            engine = llvm.create_mcjit_compiler(empty, machine)
            engine.add_object_file(llvm.ObjectFileRef.from_data(object_code))
            engine.finalize_object()
        return NativeModule(engine, object_code)

    def address(self, name: str) -> int:
        with _LOCK:
            address = self.engine.get_function_address(name)
        if not address:
            raise KeyError(f"the compiled module has no function {name!r}")
        return address
