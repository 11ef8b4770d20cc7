#!/usr/bin/env bash
# Financial sentiment monitoring, end to end: train a headline sentiment
# classifier (positive / negative / neutral) on the synthetic headlines in
# data/, batch-classify a stream of headlines with `modelgate classify`
# (progress and throughput on stderr), release the model hybrid (open encoder,
# closed classifier head) and serve the hybrid pair over HTTP.
#
# usage: examples/financial-sentiment/run.sh [MODELGATE_BINARY] [WORK_DIR]
#   defaults: build/apps/modelgate/modelgate, out/financial-sentiment
# Knobs (environment): EPOCHS (12), THREADS (2), STREAM_REPEAT (25: the
# 120-headline stream is classified this many times over, for a steady rate),
# PRESET (tiny: the --init size and family, e.g. modernbert-tiny) and VOCAB
# (bert-base-uncased's vocab.txt; a ModernBERT or RoBERTa preset needs a
# byte-level BPE tokenizer, e.g. tests/data/vocab/ModernBERT-large).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
# VOCAB may be relative to where the scenario was started from.
if [[ -n "${VOCAB:-}" ]]; then VOCAB="$(realpath "$VOCAB")"; fi
source "$ROOT/examples/lib.sh"
scenario_setup financial-sentiment "$@"
EPOCHS="${EPOCHS:-12}"
THREADS="${THREADS:-2}"
STREAM_REPEAT="${STREAM_REPEAT:-25}"
PRESET="${PRESET:-tiny}"
VOCAB="${VOCAB:-$ROOT/tests/data/vocab/bert-base-uncased/vocab.txt}"
DATA="$ROOT/examples/financial-sentiment/data"

section "1. data: synthetic headlines shipped in examples/financial-sentiment/data"
wc -l "$DATA"/train.jsonl "$DATA"/test.jsonl "$DATA"/stream.jsonl | sed '$d'

section "2. train a sentiment classifier from scratch ($PRESET preset, $EPOCHS epochs)"
t0=$(date +%s)
"$MG" train --train "$DATA/train.jsonl" --eval "$DATA/test.jsonl" --init "$PRESET" \
  --vocab "$VOCAB" --out sentiment \
  --epochs "$EPOCHS" --batch-size 16 --lr 1e-3 --max-length 32 --seed 42 --threads "$THREADS" |
  tail -n 1
echo "training took $(($(date +%s) - t0)) s"

section "3. evaluate on the test headlines (companies not seen in training)"
"$MG" eval --model sentiment --data "$DATA/test.jsonl" --threads "$THREADS" >metrics.json
node -e '
const m = JSON.parse(require("fs").readFileSync("metrics.json", "utf8"));
console.log(`test accuracy ${(100 * m.accuracy).toFixed(1)} %, macro-F1 ${m.macro_f1.toFixed(3)}`);'

section "4. batch-classify the headline stream ($STREAM_REPEAT x 120 headlines)"
for _ in $(seq 1 "$STREAM_REPEAT"); do cat "$DATA/stream.jsonl"; done >stream.jsonl
"$MG" classify --model sentiment --input stream.jsonl --output labels.jsonl --batch-size 64 \
  --threads "$THREADS" --progress on
node -e '
const fs = require("fs");
const texts = fs.readFileSync("stream.jsonl", "utf8").trim().split("\n").map((l) => JSON.parse(l).text);
const labels = fs.readFileSync("labels.jsonl", "utf8").trim().split("\n").map((l) => JSON.parse(l));
const counts = {};
for (const l of labels) counts[l.label] = (counts[l.label] || 0) + 1;
console.log("labels:", JSON.stringify(counts));
for (let i = 0; i < 6; ++i) console.log(`  ${labels[i].label.padEnd(8)} ${labels[i].score.toFixed(2)}  ${texts[i]}`);'

section "5. release hybrid: open encoder (Apache-2.0), closed head for the trading desk"
"$MG" keygen --out vendor
"$MG" keygen --out desk --type deploy
"$MG" release hybrid --model sentiment --base-out base --head-out head.mgb --sign vendor.key \
  --to desk.pub --license Apache-2.0 --model-id fin-sentiment
"$MG" verify base --pub vendor.pub
"$MG" verify head.mgb --pub vendor.pub

section "6. the hybrid pair gives the same labels as the trained model"
head -n 120 stream.jsonl >sample.jsonl
"$MG" classify --model head.mgb --base base --key desk.key --vendor-pub vendor.pub \
  --input sample.jsonl --threads "$THREADS" >hybrid_labels.jsonl
head -n 120 labels.jsonl | cut -d, -f1 >a.txt
cut -d, -f1 hybrid_labels.jsonl >b.txt
if cmp -s a.txt b.txt; then echo "hybrid labels identical on 120 headlines"; else
  echo "hybrid labels differ"; exit 1; fi

section "7. serve the hybrid pair and call /predict"
start_server --model head.mgb --base base --key desk.key --vendor-pub vendor.pub \
  --threads "$THREADS"
echo "serving at $URL"
# A batch is a list of sequences, each [text] (a flat list of two strings is
# one text pair, of more a 422, as in text-embeddings-inference).
BODY='{"inputs": [["Quantum Robotics beats profit estimates as revenue jumps 30%"],
                  ["Quantum Robotics shares tumble 12% after profit warning"],
                  ["Quantum Robotics will report quarterly results on May 14"]]}'
curl -s -H 'Content-Type: application/json' -d "$BODY" "$URL/predict" >answer.json
node -e '
const body = JSON.parse(process.argv[1]);
const answer = JSON.parse(require("fs").readFileSync("answer.json", "utf8"));
body.inputs.forEach(([t], i) => console.log(`  ${answer[i][0].label.padEnd(8)} ${answer[i][0].score.toFixed(2)}  ${t}`));' "$BODY"

section "8. stop the server"
stop_server
echo "server stopped"
echo
echo "financial-sentiment scenario done in $(($(date +%s) - started)) s"
