#!/usr/bin/env bash
# modelgate train --dtype bf16 end to end: a learnable synthetic task trained
# from scratch with bf16 products; the loss falls, the folder is F32 and
# loads in classify and eval, the summary names the dtype, and a CPU without
# AVX512_BF16 (oneDNN capped at AVX512_CORE) is refused with a clear message.
set -u
source "$(dirname "$0")/lib.sh" "$1"
VOCAB="$ROOT/tests/data/vocab/bert-base-uncased/vocab.txt"
export OMP_WAIT_POLICY=passive

make_data() {  # make_data FILE COUNT SEED: the label is decided by topic words
  awk -v n="$2" -v seed="$3" 'BEGIN {
    srand(seed);
    split("refund charged money invoice payment billing", pay, " ");
    split("crash error broken freezes bug fails", bug, " ");
    split("the my a this it today again please", filler, " ");
    for (i = 0; i < n; i++) {
      k = int(rand() * 2); t = "";
      for (j = 0; j < 6; j++) {
        if (rand() < 0.5) { w = int(rand() * 6) + 1; t = t (k == 0 ? pay[w] : bug[w]) " " }
        else { t = t filler[int(rand() * 8) + 1] " " }
      }
      printf "{\"id\":\"r%d\",\"text\":\"%s\",\"label\":\"%s\"}\n", i, t, k == 0 ? "billing" : "bug";
    }
  }' > "$1"
}
make_data "$TMP/train.jsonl" 160 1
make_data "$TMP/test.jsonl" 40 2
TRAIN=(train --train "$TMP/train.jsonl" --init tiny --vocab "$VOCAB" --epochs 3 --batch-size 8
       --lr 2e-3 --max-length 32 --threads 2 --dtype bf16)

if ONEDNN_MAX_CPU_ISA=AVX512_CORE "$MG" "${TRAIN[@]}" --out "$TMP/capped" >"$TMP/out" 2>"$TMP/err"; then
  check "bf16 refused without AVX512_BF16" false
else
  check "bf16 refused without AVX512_BF16, saying so" grep -q "AVX512_BF16.*--dtype f32" "$TMP/err"
  check "no crash when refused" no_crash
fi

run "${TRAIN[@]}" --out "$TMP/model"
if grep -q "AVX512_BF16" "$TMP/err"; then
  echo "this CPU lacks AVX512_BF16: the bf16 training checks are skipped"
  finish
  exit $?
fi
check "train --dtype bf16 exits 0" [ "$(rc)" = 0 ]
check "summary names the dtype" grep -q "dtype bf16" "$TMP/err"
first=$(grep '"epoch":1,' "$TMP/out" | sed 's/.*"train_loss":\([0-9.e-]*\).*/\1/')
last=$(grep '"epoch":3,' "$TMP/out" | sed 's/.*"train_loss":\([0-9.e-]*\).*/\1/')
check "the loss falls ($first -> $last)" awk -v a="$first" -v b="$last" 'BEGIN { exit !(a != "" && b != "" && b < 0.7 * a) }'
# The tensor dtypes named in the safetensors header: F32 only.
dtypes=$(head -c 8192 "$TMP/model/model.safetensors" | tr -c '[:print:]' ' ' |
  grep -o '"dtype":"[A-Z0-9]*"' | sort -u | tr '\n' ' ')
check "weights written as F32 only ($dtypes)" [ "$dtypes" = '"dtype":"F32" ' ]
run eval --model "$TMP/model" --data "$TMP/test.jsonl"
check "eval reads the folder" [ "$(rc)" = 0 ]
accuracy=$(sed 's/.*"accuracy":\([0-9.e-]*\).*/\1/' "$TMP/out")
check "the task is learnt (accuracy $accuracy >= 0.9)" awk -v a="$accuracy" 'BEGIN { exit !(a >= 0.9) }'
run classify --model "$TMP/model" --input "$TMP/test.jsonl"
check "classify gives a label per line" [ "$(grep -c '"label"' "$TMP/out")" = 40 ]

run train --train "$TMP/train.jsonl" --init tiny --vocab "$VOCAB" --out "$TMP/bad" --dtype fp8
check "unknown dtype refused" [ "$(rc)" != 0 ]
check "error names the flag" grep -q -- "--dtype" "$TMP/err"
finish
