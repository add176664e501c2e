#!/usr/bin/env bash
# Reproduces the motion-space tables in Samples/models/README.md (run from the repository root).
# OUT receives the data, reports and contact sheets. PY: a Python with opencv-python (the opencv-dis row).
set -euo pipefail
OUT=${1:-/tmp/mavin-motion-eval}
MAVIN=${MAVIN:-.build/release/mavin}
MODEL=${MODEL:-Samples/models/mavin-motion.safetensors}
CASES=${CASES:-40}
export MAVIN_PYTHON=${PY:-${MAVIN_PYTHON:-python3}}
mkdir -p "$OUT"
ROWS=model,repeat,crossfade,flow,dis,ffmpeg-minterpolate,opencv-dis
# Tuning set (seeds 80000+; the sampler's strength and steps were chosen here) and held-out set (90000+);
# training used seeds 1000–1011. 15 fps = the training frame spacing.
for S in 80000 90000; do
  [ -f "$OUT/T$S/manifest.json" ] || "$MAVIN" synth-dataset --out "$OUT/T$S" --minutes 3 --take-seconds 30 --seed $S --fps 15
done
"$MAVIN" eval --synthetic "$OUT/T80000" --length 12 --model "$MODEL" --max-cases 60 --methods model \
  --variant strength=0.25 --variant strength=0.5 --variant strength=1 --variant gfm=on,strength=0.5 \
  --variant steps=2,strength=0.5 --variant steps=4,strength=0.5 --variant steps=8,strength=0.5 \
  --variant steps=25,strength=0.5 \
  --title "Tuning set (seeds 80000+), l = 12" --report "$OUT/tuning-l12.md" --overwrite
for L in 12 8; do
  "$MAVIN" eval --synthetic "$OUT/T90000" --length $L --model "$MODEL" --max-cases "$CASES" --methods $ROWS \
    --variant strength=0.5 --title "Held-out synthetic, l = $L" --report "$OUT/synthetic-l$L.md" \
    --json "$OUT/synthetic-l$L.json" --sheets "$OUT/sheets-l$L" --overwrite
done
# Lengths beyond the trained 2…12 (the motion decided at 12 frames and resampled in time).
for L in 16 20 22; do
  "$MAVIN" eval --synthetic "$OUT/T90000" --length $L --model "$MODEL" --max-cases "$CASES" \
    --methods model,repeat,crossfade,opencv-dis --variant strength=0.5 --title "Held-out synthetic, l = $L" \
    --report "$OUT/synthetic-l$L.md" --json "$OUT/synthetic-l$L.json" --overwrite
done
# Real footage never trained or tuned on (test-auto, Eq. 8), at the model's square and at each clip's own size.
if ls ../shared/footage/*.mp4 >/dev/null 2>&1; then
  for SIZE in model native; do
    "$MAVIN" eval --auto ../shared/footage/*.mp4 --length 12 --model "$MODEL" --max-cases "$CASES" --methods $ROWS \
      --variant strength=0.5 --size $SIZE --title "Real footage (test-auto), l = 12, size $SIZE" \
      --report "$OUT/real-$SIZE.md" --json "$OUT/real-$SIZE.json" --overwrite
  done
fi
# Inference-only ablations on the held-out cases, with the network's correction on (at the default strength 0
# the noise, and so GFM, does not reach the frames): GFM on, the f0/λ sweep.
N=strength=0.5,gfm=on
"$MAVIN" eval --synthetic "$OUT/T90000" --length 12 --model "$MODEL" --max-cases "$CASES" --methods model \
  --variant strength=0.5 --variant $N --variant $N,f0=0.3,lambda=0.1 --variant $N,f0=0.9,lambda=0.1 \
  --variant $N,f0=0.6,lambda=0.2 \
  --title "Ablations, l = 12" --report "$OUT/ablations-l12.md" --overwrite
