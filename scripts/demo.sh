#!/usr/bin/env bash
# demo.sh: the README's first command — set up, build, and run today's most complete demo:
# a synthetic dataset, a small Stage-1 model, a Stage-2 Conv-Adapter model on its frozen backbone
# (narrow backbone, width 16, so it runs in a few minutes on 2 cores), and its validation predictions.
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/setup.sh
swift build -c release --product ablate
ABLATE="$(swift build -c release --show-bin-path)/ablate"
OUT=out/demo
rm -rf "$OUT"
mkdir -p "$OUT"

"$ABLATE" data synth --out "$OUT/block16.h5" --train 24000 --val 6000 --seed 42
"$ABLATE" data inspect "$OUT/block16.h5"
"$ABLATE" train --data "$OUT/block16.h5" --stage 1 --out "$OUT/stage1" --width 16 --epochs 4 \
    --max-train-rows 8000 --max-val-rows 3000
"$ABLATE" train --data "$OUT/block16.h5" --stage 2 --stage1-checkpoint "$OUT/stage1/best.h5" --out "$OUT/stage2" \
    --width 16 --epochs 6 --loss cb_focal --backbone-bn eval
"$ABLATE" predict --checkpoint "$OUT/stage2/best.h5" --data "$OUT/block16.h5" --split val --out "$OUT/stage2/predictions.h5"
echo "outputs in $OUT: metrics.jsonl, best.h5, best.slim.h5, last.h5, summary.json per stage; predictions.h5"
