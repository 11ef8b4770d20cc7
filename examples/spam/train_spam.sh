#!/usr/bin/env bash
# Trains a spam filter from scratch on the SpamAssassin public corpus and
# scores it on a fixed 20 % test split (by file id; see export_spam.js):
# the `tiny` preset (2 layers, 128 hidden) with the bert-base-uncased
# vocabulary and train's from-scratch defaults (lr 1e-3, 3 epochs, 256 tokens
# per mail, batch 16, seed 42), 2 threads. Prints the epoch lines, the test
# metrics and the wall time of training.
#
# Needs the npm corpus: cp -r /work/main/tests/oracle/node_modules tests/oracle/
# (or `npm ci` in tests/oracle).
#
# MG_TRAIN_FLAGS adds flags to `train`, e.g. "--dtype bf16".
#
# usage: examples/spam/train_spam.sh MODELGATE_BINARY WORK_DIR
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
MG="$(realpath "$1")"
WORK="$2"
mkdir -p "$WORK"
# Both threads sleep rather than spin while waiting: several-fold faster on a
# machine shared with other work, no slower on a quiet one at 2 threads.
export OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-passive}"

node "$ROOT/examples/spam/export_spam.js" "$WORK/data"
rm -rf "$WORK/model"
start=$(date +%s.%N)
"$MG" train --train "$WORK/data/train.jsonl" --init tiny \
  --vocab "$ROOT/tests/data/vocab/bert-base-uncased/vocab.txt" --out "$WORK/model" --threads 2 ${MG_TRAIN_FLAGS:-}
end=$(date +%s.%N)
"$MG" eval --model "$WORK/model" --data "$WORK/data/test.jsonl" --threads 2 | tee "$WORK/test_metrics.json"
awk -v s="$start" -v e="$end" 'BEGIN { printf "training wall time: %.0f s\n", e - s }'
