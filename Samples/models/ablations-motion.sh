#!/usr/bin/env bash
# The retrained ablations of the motion model (Samples/models/README.md), at the shipped model's budget:
# 600 optimiser steps of batch 2 from the pure-noise checkpoint (runs/pn.safetensors), the recipe of the
# timed stage, without boundary frame guidance. (SEINE-like masking is refused with a residual anchor: the
# anchor of a frame is built from the boundary frames s and e, which random masking does not have.) The
# consecutive-noising, +BFG run of the same recipe is the shipped model itself.
# Run from the repository root; DATA is the training footage of the README's recipe (data/synth).
# About 45 minutes a run on a 2-core machine with nothing else to do; each run resumes where it stopped.
set -euo pipefail
MAVIN=${MAVIN:-.build/release/mavin}
DATA=${DATA:-data/synth}
PARENT=${PARENT:-runs/pn.safetensors}
ABL=${ABL:-runs/abl-motion}
mkdir -p "$ABL"
C=(--data "$DATA" --config motion --init-from "$PARENT" --steps 600 --decay-steps 300 --batch 2 --lr 1e-4
   --photometric 1000 --pure-noise 0.5 --seed 13 --eval-every 300 --save-every 100)
source "$(dirname "$0")/train-once.sh"
run nobfg --no-bfg
