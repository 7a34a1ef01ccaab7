"""LLVM IR -> a relocatable object file for another machine: llvmlite's TargetMachine for
the target's triple, CPU and features, position-independent (`reloc="pic"`, so the object
links into executables and shared libraries alike), not for the JIT (`jit=False`), with
the same O3 pipeline the JIT runs (`sparsec.runtime.jit.optimise`).

    module = link(model_ir, capi_ir)       # @main renamed, everything but the C API internal
    data = emit_object(module, target)     # bytes of an ELF .o

"Same lowering, different target machine": the IR comes from the very pipeline the JIT
uses (`lower-to-llvm{target=...}`); only the machine it is compiled for differs.
"""

from __future__ import annotations

from functools import cache

import llvmlite.binding as llvm

from sparsec.lowering.target import Target
from sparsec.runtime.jit import _LOCK, optimise

from .capi import API, MAIN


@cache
def _initialise() -> None:
    llvm.initialize_all_targets()
    llvm.initialize_all_asmprinters()


def target_machine(target: Target) -> llvm.TargetMachine:
    _initialise()
    machine = llvm.Target.from_triple(target.triple)
    return machine.create_target_machine(cpu=target.cpu, features=target.features, opt=3,
                                         reloc="pic", codemodel="default", jit=False)


def link(model_ir: str, capi_ir: str) -> llvm.ModuleRef:
    """The model's module with the C API linked in. The model's `@main` becomes `MAIN`;
    every definition but the C API gets internal linkage, so the object exports exactly
    `API` (kernel names such as `conv2d_0` cannot clash with the user's symbols)."""
    _initialise()
    with _LOCK:
        model = llvm.parse_assembly(model_ir)
        model.get_function("main").name = MAIN
        api = llvm.parse_assembly(capi_ir)
        model.link_in(api)
        for function in model.functions:
            if not function.is_declaration and function.name not in API:
                function.linkage = llvm.Linkage.internal
        for variable in model.global_variables:
            if not variable.is_declaration:
                variable.linkage = llvm.Linkage.internal
        model.verify()
    return model


def emit_object(module: llvm.ModuleRef, target: Target) -> bytes:
    machine = target_machine(target)
    with _LOCK:
        module.triple = target.triple
        module.data_layout = str(machine.target_data)
        optimise(module, machine)
        return machine.emit_object(module)


def emit_assembly(module: llvm.ModuleRef, target: Target) -> str:
    """Assembly text of an optimised module (for inspection; tests disassemble the .o)."""
    machine = target_machine(target)
    with _LOCK:
        return machine.emit_assembly(module)
