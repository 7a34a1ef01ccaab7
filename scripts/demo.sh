#!/usr/bin/env bash
# `make demo`: the sparsec story end to end: a hand-written program, then ResNet-18
# imported, fused, interpreted, JIT-compiled (dense and pattern-sparse) against PyTorch, and
# compiled ahead of time for AArch64 and run under qemu.
set -euo pipefail
cd "$(dirname "$0")/.."
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "a ResNet basic block in the nn dialect, annotated with DNNFusion mapping types"
sparsec opt --pass classify examples/residual_block.mlir

step "the same program run by the numpy reference interpreter"
sparsec run examples/residual_block.mlir --seed 0

step "a real model: torchvision ResNet-18 (random weights) imported into the nn dialect"
mkdir -p build/demo
sparsec import torchvision:resnet18 -o build/demo/resnet18.mlir
ls -lh build/demo/resnet18.mlir
sparsec opt --pass fuse --fusion-report build/demo/resnet18.mlir -o build/demo/resnet18.fused.mlir

step "the imported ResNet-18 run by the reference interpreter"
sparsec run build/demo/resnet18.mlir --seed 0

step "the fused ResNet-18 JIT-compiled for this CPU: latency, and the error against the interpreter"
sparsec run build/demo/resnet18.fused.mlir --seed 0 --jit --bench

step "ResNet-18 pruned to PatDNN patterns (8 patterns, connectivity pruning, ~8x fewer conv weights): sparse kernels"
sparsec opt --pass 'sparsify{scheme=pattern patterns=8 connectivity=3.6}' build/demo/resnet18.mlir \
    -o build/demo/resnet18.pattern.mlir
sparsec run build/demo/resnet18.pattern.mlir --seed 0 --jit --bench

step "ResNet-18 through the Python API (interpreter and sparsec.compile), against PyTorch"
python scripts/demo_compare.py resnet18

step "ResNet-18 ahead of time for AArch64 (cortex-a76): model.o + model.h + model.weights"
aot=build/demo/resnet18-aarch64
sparsec compile build/demo/resnet18.mlir --target aarch64-linux-gnu --cpu cortex-a76 -o "$aot"
sed -n '/^ \* Usage:/,/^ \*\//p' "$aot/model.h"
echo "NEON vector FMAs in model.o: $(aarch64-linux-gnu-objdump -d "$aot/model.o" | grep -cE 'fmla\s+v[0-9]+\.4s')"

step "linked with aarch64-linux-gnu-gcc, run under qemu-aarch64, against the interpreter"
aarch64-linux-gnu-gcc -O2 -I "$aot" examples/aot/run_model.c "$aot/model.o" -lm -o "$aot/run_model"
python scripts/demo_aot.py build/demo/resnet18.mlir "$aot" "$aot/run_model"
