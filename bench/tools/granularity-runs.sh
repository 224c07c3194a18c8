#!/usr/bin/env bash
# Issue 16's numbers in one sitting (run it on a quiet machine: nothing else running):
#   the three 30-epoch searches (Fashion-MNIST ResNet20, class 0 vs rest, the settings of the SeaM
#   search issue: lr_mask 0.05, lr_head 0.1, alpha 1, batch 64, seed 0) at weight, kernel and
#   channel granularity; the compacted ONNX export of each; bench-model of each (our engines and
#   onnxruntime-node at 1 and 2 threads, batch 16), for channel and kernel also with channel counts
#   kept at multiples of 8 and 16 (onnxruntime's NCHWc convolutions want those); the research table.
# Usage: bench/tools/granularity-runs.sh [OUT_DIR]      (default runs/granularity)
# Env:   SEAM_SHARED (default ../shared), EPOCHS (default 30), REPS (default 50),
#        MAIN_CHECKOUT=/path/to/a/built/main to also run the weight search there and check that its
#        masks.pt is byte for byte the same ("weight unchanged").
# Needs: npm ci done (addon and dist built), onnxruntime-node installed (npm ci installs it).
set -euo pipefail
cd "$(dirname "$0")/../.."
SHARED=${SEAM_SHARED:-../shared}
OUT=${1:-runs/granularity}
EPOCHS=${EPOCHS:-30}
REPS=${REPS:-50}
MODEL=$SHARED/data/fmnist_resnet20.pt
DATA=fashion-mnist:$SHARED/data/fashion-mnist
SEARCH=(--model "$MODEL" --data "$DATA" --target-class 0 --lr-mask 0.05 --lr-head 0.1 --alpha 1 --batch-size 64 --seed 0 --epochs "$EPOCHS")
mkdir -p "$OUT"
log() { echo "== $*" | tee -a "$OUT/sitting.log"; }

npm run build:ts >/dev/null
log "start $(date -Is) on $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2), load: $(cut -d' ' -f1-3 /proc/loadavg)"
log "commit $(git rev-parse --short HEAD)$(git diff --quiet || echo ' (with uncommitted changes)')"

for g in weight kernel channel; do
  log "reengineer --granularity $g"
  node bin/seam.js reengineer "${SEARCH[@]}" --granularity "$g" --out "$OUT/$g" --json | tee "$OUT/$g.summary.json"
done

if [ -n "${MAIN_CHECKOUT:-}" ]; then
  log "weight search on main ($MAIN_CHECKOUT)"
  node "$MAIN_CHECKOUT/bin/seam.js" reengineer "${SEARCH[@]}" --out "$OUT/weight-main" --json | tee "$OUT/weight-main.summary.json"
  if cmp -s "$OUT/weight/masks.pt" "$OUT/weight-main/masks.pt"; then log "weight unchanged: masks.pt identical to main's"; else log "weight CHANGED: masks.pt differs from main's"; fi
fi
sha256sum "$OUT"/*/masks.pt | tee -a "$OUT/sitting.log"

for g in weight kernel channel; do
  log "export $g (compacted ONNX)"
  node bin/seam.js export --model "$MODEL" --masks "$OUT/$g/masks.pt" --format onnx --compact-channels --input-size 28 --out "$OUT/$g/compacted.onnx" --json \
    | tail -1 | tee "$OUT/$g/export.json"
done

for g in kernel channel; do
  for m in 1 8 16; do
    log "bench-model $g, channel multiple $m, load: $(cut -d' ' -f1-3 /proc/loadavg)"
    node bin/seam.js bench-model --model "$MODEL" --masks "$OUT/$g/masks.pt" --input-size 28 --reps "$REPS" --channel-multiple "$m" | tee "$OUT/$g/bench-m$m.txt"
  done
done

for m in 1 16; do
  log "compare, channel multiple $m"
  node bin/seam.js compare "$OUT/weight" "$OUT/kernel" "$OUT/channel" --reps "$REPS" --channel-multiple "$m" --out "$OUT/table-m$m" | tee "$OUT/table-m$m.txt"
done
log "end $(date -Is), load: $(cut -d' ' -f1-3 /proc/loadavg)"
