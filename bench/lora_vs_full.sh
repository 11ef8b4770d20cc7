#!/usr/bin/env bash
# LoRA step time against a full fine-tuning step, in one run: the same BERT
# classifier shape (a size preset), batch, sequence length and thread count;
# one step = forward, backward, gradient clipping, AdamW. The LoRA step trains
# rank-R adapters on every layer's query and value projections and the head,
# with the encoder frozen (no weight-gradient products for frozen weights,
# no AdamW over them). Runs the two alternately three times, keeps each one's
# best, and prints both step times and the ratio full / LoRA (above 1: the
# LoRA step is that many times faster).
#
# usage: bench/lora_vs_full.sh BUILD_DIR [PRESET mini] [RANK 8] [BATCH 16] [SEQ_LEN 128] [THREADS 2] [STEPS 10]
set -euo pipefail
BUILD="$(realpath "$1")"
PRESET="${2:-mini}"
RANK="${3:-8}"
BATCH="${4:-16}"
SEQ_LEN="${5:-128}"
THREADS="${6:-2}"
STEPS="${7:-10}"
export OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-passive}"

seconds_per_step() {
  "$BUILD/bench/train_bench" --preset "$PRESET" --batch "$BATCH" --seq-len "$SEQ_LEN" \
    --threads "$THREADS" --steps "$STEPS" --lora-rank "$1"
}
best_full=0
best_lora=0
for round in 1 2 3; do
  full="$(seconds_per_step 0)"
  lora="$(seconds_per_step "$RANK")"
  echo "round $round: $full"
  echo "round $round: $lora"
  full_s="$(echo "$full" | sed 's/.*"samples_per_s": *\([0-9.]*\).*/\1/')"
  lora_s="$(echo "$lora" | sed 's/.*"samples_per_s": *\([0-9.]*\).*/\1/')"
  best_full="$(awk -v a="$best_full" -v b="$full_s" 'BEGIN { print (b > a ? b : a) }')"
  best_lora="$(awk -v a="$best_lora" -v b="$lora_s" 'BEGIN { print (b > a ? b : a) }')"
done
awk -v full="$best_full" -v lora="$best_lora" -v batch="$BATCH" -v preset="$PRESET" -v rank="$RANK" \
  -v seq="$SEQ_LEN" -v threads="$THREADS" 'BEGIN {
  printf "preset %s, batch %s, seq_len %s, threads %s: full fine-tuning %.1f ms/step, LoRA r=%s %.1f ms/step, ratio %.2fx\n",
    preset, batch, seq, threads, 1000 * batch / full, rank, 1000 * batch / lora, lora / full }'
