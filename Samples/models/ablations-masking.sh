#!/usr/bin/env bash
# The retrained masking ablation of the motion model (Samples/models/README.md): consecutive noising (MAVIN)
# against SEINE-like random masking, the same budget, parent, seed and recipe: 300 optimiser steps of batch 2
# from the shipped model (the recipe of its 300-step fine-tune). With the residual anchor, SEINE-like masking
# keeps the boundary frames s and e clean (the anchor is built from them) and corrupts frames anywhere else in
# the window, outside the gap too (there the anchor carries the linear motion past the gap's ends); the
# photometric loss is taken on the corrupted frames of the gap. Inference is the same for both: the gap.
# Run from the repository root; DATA is the training footage of the README's recipe (data/synth).
# About 20 minutes a run on a 2-core machine with nothing else to do; each run resumes where it stopped.
set -euo pipefail
MAVIN=${MAVIN:-.build/release/mavin}
DATA=${DATA:-data/synth}
PARENT=${PARENT:-Samples/models/mavin-motion.safetensors}
ABL=${ABL:-runs/abl-masking}
mkdir -p "$ABL"
C=(--data "$DATA" --config motion --init-from "$PARENT" --steps 300 --decay-steps 150 --batch 2 --lr 1e-4
   --photometric 1000 --pure-noise 0.5 --seed 14 --eval-every 150 --save-every 50)
source "$(dirname "$0")/train-once.sh"
run consecutive --masking consecutive
run seine --masking seine
