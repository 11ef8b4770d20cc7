#!/usr/bin/env bash
# Training throughput, modelgate vs PyTorch (Debian's python3-torch), in one
# run: the same BERT classifier shape (a size preset), batch, sequence length
# and thread count; one step = forward, backward, gradient clipping, AdamW
# (dropout 0.1 on both sides). Runs the engines alternately three times and
# keeps each one's best, then prints samples/s of each and the ratios.
#
# DTYPES lists modelgate's precisions to run side by side (train_bench
# --dtype): "f32" (default), "bf16", or "f32 bf16". PyTorch always trains in
# F32.
#
# OMP_WAIT_POLICY=passive is set for both (both use OpenMP): on a machine
# shared with other work, spinning threads cost either engine several-fold.
#
# MG_TRAIN_BENCH_FLAGS adds flags to modelgate's side, e.g.
# "--last-layer-cls-only 0" to compute every row of the last encoder layer as
# PyTorch does (by default only the [CLS] rows the pooler reads).
#
# PRESET may name a family (modernbert-mini: ModernBERT on both sides).
#
# usage: bench/train_vs_torch.sh BUILD_DIR [PRESET mini] [BATCH 16] [SEQ_LEN 128] [THREADS 2] [STEPS 10] [DTYPES f32]
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BUILD="$(realpath "$1")"
PRESET="${2:-mini}"
BATCH="${3:-16}"
SEQ_LEN="${4:-128}"
THREADS="${5:-2}"
STEPS="${6:-10}"
DTYPES="${7:-f32}"
export OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-passive}"

samples_per_s() { echo "$1" | sed 's/.*"samples_per_s": *\([0-9.]*\).*/\1/'; }
max() { awk -v a="$1" -v b="$2" 'BEGIN { print (b > a ? b : a) }'; }

declare -A best_mg
for dtype in $DTYPES; do best_mg[$dtype]=0; done
best_pt=0
for round in 1 2 3; do
  for dtype in $DTYPES; do
    mg="$("$BUILD/bench/train_bench" --preset "$PRESET" --batch "$BATCH" --seq-len "$SEQ_LEN" \
      --threads "$THREADS" --steps "$STEPS" --dtype "$dtype" ${MG_TRAIN_BENCH_FLAGS:-})"
    echo "round $round: $mg"
    best_mg[$dtype]="$(max "${best_mg[$dtype]}" "$(samples_per_s "$mg")")"
  done
  pt="$(/usr/bin/python3 "$ROOT/bench/train_bench_torch.py" "$PRESET" "$BATCH" "$SEQ_LEN" "$THREADS" "$STEPS")"
  echo "round $round: $pt"
  best_pt="$(max "$best_pt" "$(samples_per_s "$pt")")"
done
line="preset $PRESET, batch $BATCH, seq_len $SEQ_LEN, threads $THREADS: PyTorch f32 $best_pt samples/s"
for dtype in $DTYPES; do
  ratio="$(awk -v a="${best_mg[$dtype]}" -v b="$best_pt" 'BEGIN { printf "%.2f", a / b }')"
  line+="; modelgate $dtype ${best_mg[$dtype]} samples/s, ratio ${ratio}x"
done
echo "$line"
