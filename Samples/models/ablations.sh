#!/usr/bin/env bash
# The retrained ablations of Samples/models/README.md (paper Table 1/3 analogues), same budget each:
# 500 optimiser steps of batch 2 from the phase-1 checkpoint (plain target, consecutive noising, BFG),
# continued with consecutive noising, with SEINE-like random masking, and without boundary frame guidance.
# Run from the repository root; DATA is the training footage of the README's recipe. About 40 minutes
# on a 2-core machine that has nothing else to do.
set -euo pipefail
MAVIN=${MAVIN:-.build/release/mavin}
DATA=${DATA:-data/train}
ABL=${ABL:-runs/abl}
mkdir -p "$ABL"
[ -f "$ABL/x0-2300.safetensors" ] || git show 8e7da5d:Samples/models/mavin-small.safetensors > "$ABL/x0-2300.safetensors"
C=(--data "$DATA" --init-from "$ABL/x0-2300.safetensors" --prediction sample --steps 500 --decay-steps 200
   --batch 2 --lr 2e-4 --seed 7 --eval-every 250 --save-every 250)
source "$(dirname "$0")/train-once.sh"
run consec
run seine --masking seine
run nobfg --no-bfg
