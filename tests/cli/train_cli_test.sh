#!/usr/bin/env bash
# modelgate train / eval end to end: a learnable synthetic task trained from
# scratch, the output folder read by classify and eval, bad rows named by
# line, same seed -> same weights, and SIGTERM + --resume -> the same weights
# as an uninterrupted run.
set -u
source "$(dirname "$0")/lib.sh" "$1"
VOCAB="$ROOT/tests/data/vocab/bert-base-uncased/vocab.txt"
export OMP_WAIT_POLICY=passive

# Intent data: the label is decided by which topic words appear.
make_data() {  # make_data FILE COUNT SEED
  awk -v n="$2" -v seed="$3" 'BEGIN {
    srand(seed);
    split("refund charged money invoice payment billing", pay, " ");
    split("crash error broken freezes bug fails", bug, " ");
    split("thanks great love wonderful happy excellent", joy, " ");
    split("the my a this it today again please", filler, " ");
    for (i = 0; i < n; i++) {
      k = int(rand() * 3); t = "";
      for (j = 0; j < 6; j++) {
        if (rand() < 0.5) { w = int(rand() * 6) + 1; t = t (k == 0 ? pay[w] : k == 1 ? bug[w] : joy[w]) " " }
        else { t = t filler[int(rand() * 8) + 1] " " }
      }
      lab = k == 0 ? "billing" : k == 1 ? "bug" : "praise";
      printf "{\"id\":\"r%d\",\"text\":\"%s\",\"label\":\"%s\"}\n", i, t, lab;
    }
  }' > "$1"
}
make_data "$TMP/train.jsonl" 240 1
make_data "$TMP/test.jsonl" 60 2
TRAIN=(train --train "$TMP/train.jsonl" --init tiny --vocab "$VOCAB" --epochs 4 --batch-size 8
       --lr 2e-3 --max-length 32 --threads 2)

run "${TRAIN[@]}" --out "$TMP/model"
check "train exits 0" [ "$(rc)" = 0 ]
check "one JSON line per epoch off a terminal" [ "$(grep -c '"epoch":' "$TMP/out")" = 4 ]
for f in config.json model.safetensors vocab.txt tokenizer_config.json; do
  check "output has $f" [ -s "$TMP/model/$f" ]
done
check "checkpoint removed after a finished run" [ ! -e "$TMP/model/checkpoint" ]
check "config names the classifier" grep -q '"BertForSequenceClassification"' "$TMP/model/config.json"
check "config has id2label" grep -q '"2": "praise"' "$TMP/model/config.json"
check "config has label2id" grep -q '"billing": 0' "$TMP/model/config.json"
check "config has problem_type" grep -q '"single_label_classification"' "$TMP/model/config.json"

run classify --model "$TMP/model" --input "$TMP/test.jsonl"
check "classify reads the trained folder" [ "$(rc)" = 0 ]
check "classify gives a label per line" [ "$(grep -c '"label"' "$TMP/out")" = 60 ]

run eval --model "$TMP/model" --data "$TMP/test.jsonl"
check "eval exits 0" [ "$(rc)" = 0 ]
cp "$TMP/out" "$TMP/eval.json"
check "eval reports the metrics" grep -q '"macro_f1".*"per_label".*"confusion"' "$TMP/eval.json"
accuracy=$(sed 's/.*"accuracy":\([0-9.e-]*\).*/\1/' "$TMP/eval.json")
check "the task is learnt (accuracy $accuracy >= 0.9)" awk -v a="$accuracy" 'BEGIN { exit !(a >= 0.9) }'
confusion_total=$(sed 's/.*"confusion":\[\(.*\)\]}/\1/' "$TMP/eval.json" | tr -c '0-9\n' ' ' |
  awk '{ for (i = 1; i <= NF; i++) s += $i } END { print s }')
check "confusion counts every example" [ "$confusion_total" = 60 ]

# Fine-tuning from the trained folder keeps its head (same labels) and its skill.
run train --train "$TMP/train.jsonl" --base "$TMP/model" --out "$TMP/tuned" --epochs 1 \
  --batch-size 8 --lr 1e-5 --max-length 32 --threads 2
check "fine-tune from --base exits 0" [ "$(rc)" = 0 ]
run eval --model "$TMP/tuned" --data "$TMP/test.jsonl"
tuned=$(sed 's/.*"accuracy":\([0-9.e-]*\).*/\1/' "$TMP/out")
check "fine-tuned model keeps accuracy ($tuned >= 0.9)" awk -v a="$tuned" 'BEGIN { exit !(a >= 0.9) }'

run "${TRAIN[@]}" --out "$TMP/again"
check "same seed, same weights" cmp -s "$TMP/model/model.safetensors" "$TMP/again/model.safetensors"
run "${TRAIN[@]}" --out "$TMP/other" --seed 7
differs() { ! cmp -s "$1" "$2"; }
check "another seed, other weights" differs "$TMP/model/model.safetensors" "$TMP/other/model.safetensors"

# Bad rows are named by line; nothing is written.
{ head -4 "$TMP/train.jsonl"; echo '{"text":"no label here"}'; } > "$TMP/bad.jsonl"
run train --train "$TMP/bad.jsonl" --init tiny --vocab "$VOCAB" --out "$TMP/bad"
check "missing label rejected" [ "$(rc)" != 0 ]
check "error names the line" grep -q "bad.jsonl line 5" "$TMP/err"

# Non-finite or out-of-range hyper-parameters are refused before training.
for opt in "--lr nan" "--lr 0" "--lr -inf" "--weight-decay nan" "--warmup nan" \
  "--max-grad-norm inf" "--eval-fraction nan"; do
  # shellcheck disable=SC2086
  run train --train "$TMP/train.jsonl" --init tiny --vocab "$VOCAB" --out "$TMP/nan" $opt
  check "train $opt refused" [ "$(rc)" != 0 ]
  check "train $opt names the option" grep -q "^error: ${opt%% *} must be a finite number" "$TMP/err"
  check "train $opt writes nothing" [ ! -e "$TMP/nan" ]
done
check "no output folder for bad data" [ ! -e "$TMP/bad" ]
check "no crash on bad data" no_crash
run train --train "$TMP/train.jsonl" --init huge --vocab "$VOCAB" --out "$TMP/huge"
check "unknown preset rejected" grep -q "unknown size preset" "$TMP/err"
run eval --model "$TMP/model" --data "$TMP/bad.jsonl"
check "eval names an unlabelled line" grep -q "line 5" "$TMP/err"

# SIGTERM mid-run, then --resume: the same weights as the uninterrupted run.
LONG=(train --train "$TMP/train.jsonl" --init tiny --vocab "$VOCAB" --epochs 6 --batch-size 8
      --lr 1e-3 --max-length 32 --threads 2 --save-steps 20)
"$MG" "${LONG[@]}" --out "$TMP/whole" > /dev/null 2>&1
"$MG" "${LONG[@]}" --out "$TMP/cut" > /dev/null 2> "$TMP/cut.err" &
pid=$!
for _ in $(seq 1 600); do
  [ -e "$TMP/cut/checkpoint/trainer_state.safetensors" ] && break
  sleep 0.05
done
kill -TERM "$pid"
wait "$pid"
cut_rc=$?
check "SIGTERM stops the run with status 130 (got $cut_rc)" [ "$cut_rc" = 130 ]
check "stop message points at --resume" grep -q "resume" "$TMP/cut.err"
check "checkpoint left for --resume" [ -s "$TMP/cut/checkpoint/trainer_state.safetensors" ]
check "the folder is a usable model meanwhile" [ -s "$TMP/cut/config.json" ]
run "${LONG[@]}" --out "$TMP/cut"
check "a second start without --resume is refused" grep -q "resume" "$TMP/err"
# A damaged step in the checkpoint is refused, never taken for a finished run.
refused_with_step_error() { [ "$(rc)" = 1 ] && grep -q "step" "$TMP/err" && no_crash; }
for bad_step in 99999999999999999999 9223372036854775807 " 5" 0x10; do
  rm -rf "$TMP/badstep"
  cp -r "$TMP/cut" "$TMP/badstep"
  python3 - "$TMP/badstep/checkpoint/trainer_state.safetensors" "$bad_step" <<'PY'
import json, struct, sys
path, step = sys.argv[1], sys.argv[2]
blob = open(path, "rb").read()
n = struct.unpack("<Q", blob[:8])[0]
header = json.loads(blob[8:8 + n])
header["__metadata__"]["step"] = step
text = json.dumps(header).encode()
open(path, "wb").write(struct.pack("<Q", len(text)) + text + blob[8 + n:])
PY
  run "${LONG[@]}" --out "$TMP/badstep" --resume
  check "checkpoint step '$bad_step' refused" refused_with_step_error
done
rm -rf "$TMP/badstep"
run "${LONG[@]}" --out "$TMP/cut" --resume
check "resume finishes" [ "$(rc)" = 0 ]
check "resumed weights equal uninterrupted weights" \
  cmp -s "$TMP/whole/model.safetensors" "$TMP/cut/model.safetensors"
run train --train "$TMP/train.jsonl" --init tiny --vocab "$VOCAB" --out "$TMP/nothing" --resume
check "resume without a checkpoint is an error" grep -q "no checkpoint" "$TMP/err"

finish
