"""Ahead-of-time compilation: an nn module -> `model.o` (a relocatable object for AArch64
or x86-64 Linux, exporting a small C API), `model.h` (the API, shapes and sizes as
constants, how to link) and `model.weights` (the weights buffer behind a checked header).

    from sparsec.aot import save
    save(module, "build/resnet18", target="aarch64-linux-gnu", cpu="cortex-a76")

Files: `objects` (llvmlite TargetMachine, linking, emission), `capi` (the C entry points
as LLVM IR), `header` (model.h), `weights_file` (the weights file format), `save` (the
stages in order).
"""

from .save import AotResult, save

__all__ = ["AotResult", "save"]
