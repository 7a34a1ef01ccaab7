"""sparsec.lowering: nn dialect -> loops -> llvm dialect -> LLVM IR.

    convert-nn-to-loops      nn_to_loops.py   bufferize @main, one kernel per op group
                                              (kernels/: GEMM micro-kernels, windows,
                                              reductions, element-wise maps)
    convert-scf-to-cf        (xDSL)
    convert-vector-to-llvm   vector_to_llvm.py
    convert-memref-to-llvm   memref_to_llvm.py  static memrefs are bare pointers
    convert-math-to-llvm     math_to_llvm.py    polynomial exp/log/tanh/erf
    convert-arith-to-llvm    arith_to_llvm.py   and index -> i64
    convert-cf-to-llvm       cf_to_llvm.py
    convert-func-to-llvm     func_to_llvm.py
    convert-parallel-to-gomp parallel_to_gomp.py  threads through libgomp
    reconcile-unrealized-casts (xDSL)
    llvm_ir.to_llvm_ir       the llvm dialect as LLVM IR text (xDSL's llvmlite translator)

The named pipelines that chain them (`lower-to-llvm`, ...) are in pipelines.py; the
target (vector width, registers) in target.py.
"""
