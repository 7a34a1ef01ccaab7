#!/usr/bin/env bash
# `make demo`: the sparsec story so far, end to end, on a hand-written program.
set -euo pipefail
cd "$(dirname "$0")/.."
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "a ResNet basic block in the nn dialect, annotated with DNNFusion mapping types"
sparsec opt --pass classify examples/residual_block.mlir

step "the same program run by the numpy reference interpreter"
sparsec run examples/residual_block.mlir --seed 0
