#!/usr/bin/env bash
# Training throughput, modelgate vs PyTorch (Debian's python3-torch), in one
# run: the same BERT classifier shape (a size preset), batch, sequence length
# and thread count; one step = forward, backward, gradient clipping, AdamW
# (dropout 0.1 on both sides). Runs the two engines alternately three times and
# keeps each one's best, then prints samples/s of both and the ratio.
#
# OMP_WAIT_POLICY=passive is set for both (both use OpenMP): on a machine
# shared with other work, spinning threads cost either engine several-fold.
#
# MG_TRAIN_BENCH_FLAGS adds flags to modelgate's side, e.g.
# "--last-layer-cls-only 0" to compute every row of the last encoder layer as
# PyTorch does (by default only the [CLS] rows the pooler reads).
#
# usage: bench/train_vs_torch.sh BUILD_DIR [PRESET mini] [BATCH 16] [SEQ_LEN 128] [THREADS 2] [STEPS 10]
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BUILD="$(realpath "$1")"
PRESET="${2:-mini}"
BATCH="${3:-16}"
SEQ_LEN="${4:-128}"
THREADS="${5:-2}"
STEPS="${6:-10}"
export OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-passive}"

best_mg=0
best_pt=0
for round in 1 2 3; do
  mg="$("$BUILD/bench/train_bench" --preset "$PRESET" --batch "$BATCH" --seq-len "$SEQ_LEN" \
    --threads "$THREADS" --steps "$STEPS" ${MG_TRAIN_BENCH_FLAGS:-})"
  pt="$(/usr/bin/python3 "$ROOT/bench/train_bench_torch.py" "$PRESET" "$BATCH" "$SEQ_LEN" "$THREADS" "$STEPS")"
  echo "round $round: $mg"
  echo "round $round: $pt"
  mg_s="$(echo "$mg" | sed 's/.*"samples_per_s": *\([0-9.]*\).*/\1/')"
  pt_s="$(echo "$pt" | sed 's/.*"samples_per_s": *\([0-9.]*\).*/\1/')"
  best_mg="$(awk -v a="$best_mg" -v b="$mg_s" 'BEGIN { print (b > a ? b : a) }')"
  best_pt="$(awk -v a="$best_pt" -v b="$pt_s" 'BEGIN { print (b > a ? b : a) }')"
done
ratio="$(awk -v a="$best_mg" -v b="$best_pt" 'BEGIN { printf "%.2f", a / b }')"
echo "preset $PRESET, batch $BATCH, seq_len $SEQ_LEN, threads $THREADS:" \
  "modelgate $best_mg samples/s, PyTorch $best_pt samples/s, ratio ${ratio}x"
