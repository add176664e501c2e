#!/usr/bin/env bash
# Reproduces the tables in Samples/models/README.md (run from the repository root).
# OUT receives the held-out data, reports, charts and contact sheets.
set -euo pipefail
# The sampler's default (1 step, strength 1) was chosen on two tuning sets (seeds 80000+ and 81000+), never on these cases:
#   for S in 80000 81000; do mavin synth-dataset --out T$S --minutes 3 --take-seconds 30 --seed $S --fps 15
#     mavin eval --synthetic T$S --length 12 --max-cases 60 --methods model,repeat,crossfade,flow,ffmpeg-minterpolate \
#       --variant strength=0.9 --variant strength=1 --variant strength=1.1 --variant strength=1.2 --report T$S.md; done
OUT=${1:-/tmp/mavin-eval}
MAVIN=${MAVIN:-.build/release/mavin}
MODEL=${MODEL:-Samples/models/mavin-small.safetensors}
CASES=${CASES:-20}
mkdir -p "$OUT"
# Held-out synthetic footage: seeds 90000+ (training used 1000–1035), 15 fps = the training frame spacing.
[ -f "$OUT/eval/manifest.json" ] || "$MAVIN" synth-dataset --out "$OUT/eval" --minutes 3 --take-seconds 30 --seed 90000 --fps 15
for L in 12 8; do
  "$MAVIN" eval --synthetic "$OUT/eval" --length $L --model "$MODEL" --max-cases "$CASES" \
    --methods model,repeat,crossfade,flow,ffmpeg-minterpolate --title "Held-out synthetic, l = $L" \
    --report "$OUT/synthetic-l$L.md" --json "$OUT/synthetic-l$L.json" --sheets "$OUT/sheets-l$L" --overwrite
done
# Real footage the model never saw (test-auto, Eq. 8), when ../shared/footage is present.
if ls ../shared/footage/*.mp4 >/dev/null 2>&1; then
  "$MAVIN" eval --auto ../shared/footage/*.mp4 --length 12 --model "$MODEL" --max-cases "$CASES" \
    --methods model,repeat,crossfade,flow,ffmpeg-minterpolate --title "Real footage (test-auto), l = 12" \
    --report "$OUT/real-l12.md" --json "$OUT/real-l12.json" --sheets "$OUT/sheets-real" --overwrite
fi
# Ablations on the same held-out cases (inference-only: GFM off, the f0/λ sweep, detail carry off, strength, DDIM steps).
"$MAVIN" eval --synthetic "$OUT/eval" --length 12 --model "$MODEL" --max-cases "$CASES" --methods model \
  --variant gfm=off --variant f0=0.3,lambda=0.1 --variant f0=0.9,lambda=0.1 --variant f0=0.6,lambda=0.2 \
  --variant detail=off --variant strength=0.8 --variant strength=1.2 --variant steps=2 --variant steps=8 --variant steps=25 \
  --title "Ablations, l = 12" --report "$OUT/ablations-l12.md" --json "$OUT/ablations-l12.json" --overwrite
# The previous default model on the same cases, when PREV names it (e.g. git show 9605a03:Samples/models/mavin-small.safetensors > prev.safetensors).
if [ -n "${PREV:-}" ] && [ -f "$PREV" ]; then
  "$MAVIN" eval --synthetic "$OUT/eval" --length 12 --model "$MODEL" --max-cases "$CASES" --methods model \
    --compare "previous default (phase 3, plain loss)=$PREV" \
    --title "Previous default model, l = 12" --report "$OUT/previous-l12.md" --json "$OUT/previous-l12.json" --overwrite
fi
# Retrained ablations (same budget; made by Samples/models/ablations.sh into ABL), when all three have finished.
ABL=${ABL:-runs/abl}
if [ -f "$ABL/consec.done" ] && [ -f "$ABL/seine.done" ] && [ -f "$ABL/nobfg.done" ]; then
  "$MAVIN" eval --synthetic "$OUT/eval" --length 12 --model "$MODEL" --max-cases "$CASES" --methods none \
    --compare "consecutive noising=$ABL/consec.safetensors" --compare "SEINE-like random masking=$ABL/seine.safetensors" \
    --compare "consecutive, −BFG=$ABL/nobfg.safetensors" \
    --title "Retrained ablations, l = 12" --report "$OUT/retrained-l12.md" --json "$OUT/retrained-l12.json" --overwrite
fi
