"""sparsec.runtime: compiled code in this process.

    compiled.py  sparsec.compile -> CompiledModel (call, report, profile)
    jit.py       LLVM IR -> O3 machine code (llvmlite MCJIT), object files
    abi.py       the calling convention of @main and the input checks
    cache.py     the on-disk compile cache
    threads.py   libgomp, the OpenMP runtime compiled kernels call
"""
