#!/usr/bin/env bash
# Trigger-set fingerprints at a realistic shape: a size-preset classifier
# (default tiny: 2 layers, hidden 128) over the bert-base-uncased vocabulary
# (30,522 tokens, about 21,000 whole words to draw trigger texts from), trained
# on a synthetic three-topic task, released for two recipients, then attacked
# (F16, BF16, int8 per-channel, Gaussian noise at 0.01-0.2 of each tensor's
# std, 20 % magnitude pruning, averaging the two copies, one epoch of
# fine-tuning on other data) and traced. Prints a markdown table: who is named,
# matches and p-value per recipient, clean accuracy of every copy; and the
# false positives on the plain release and an independently trained model.
# The same script as the CTest test tests/release/fingerprint_attacks.py,
# larger.
#
# usage: bench/fingerprint_attacks.sh BUILD_DIR [PRESET tiny] [ROWS 2000] [TRIGGERS 100] [THREADS 2] [WORK /tmp/fingerprint_bench]
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BUILD="$(realpath "$1")"
PRESET="${2:-tiny}"
ROWS="${3:-2000}"
TRIGGERS="${4:-100}"
THREADS="${5:-2}"
WORK="${6:-/tmp/fingerprint_bench}"
export OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-passive}"
/usr/bin/python3 "$ROOT/tests/release/fingerprint_attacks.py" "$BUILD/apps/modelgate/modelgate" "$WORK" \
  --size "$PRESET" --vocab "$ROOT/tests/data/vocab/bert-base-uncased/vocab.txt" --rows "$ROWS" \
  --triggers "$TRIGGERS" --epochs 4 --lr 1e-3 --fp-epochs 5 --fp-lr 3e-4 --attack-lr 1e-3 \
  --max-drop 0.5 --threads "$THREADS" --report "$WORK/report.md"
