#!/usr/bin/env bash
# Tokenizer parity with Hugging Face's tokenizer (npm "tokenizers", the
# oracle in tests/oracle): every corpus below is tokenised by both, for
# cased, uncased, multilingual and Chinese WordPiece vocabularies and the
# byte-level BPE of RoBERTa (tokenizer.json, and vocab.json + merges.txt) and
# ModernBERT (NFC, added tokens, TemplateProcessing), and the Unigram of T5
# (precompiled charsmap, WhitespaceSplit + Metaspace) and of an XLM-R style
# variant of it (Metaspace alone, prepend "first", Replace, RobertaProcessing),
# singles and pairs, with
# and without truncation; every line must be identical (ids, tokens, type ids
# and byte offsets).
#
# usage: tests/parity/tokenizer_parity.sh BUILD_DIR
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
BUILD="$(realpath "$1")"
MODELGATE="$BUILD/apps/modelgate/modelgate"
WORK="$BUILD/parity"
ORACLE="$ROOT/tests/oracle"
VOCAB="$ROOT/tests/data/vocab"
COMMITTED="$ORACLE/corpora"

if [[ ! -d "$ORACLE/node_modules/tokenizers" ]]; then
  echo "the tokenizer oracle is not installed: run 'make setup' (npm ci in tests/oracle)" >&2
  exit 1
fi
mkdir -p "$WORK/corpora"
# The large corpora are generated from pinned packages and shipped reference files.
if [[ ! -s "$WORK/corpora/spam.jsonl" || ! -s "$WORK/corpora/reftok.jsonl" ]]; then
  (cd "$ORACLE" && node make_corpus.js "$WORK/corpora" --only spam,reftok >/dev/null)
fi
corpus_path() {
  if [[ -f "$COMMITTED/$1.jsonl" ]]; then echo "$COMMITTED/$1.jsonl"; else echo "$WORK/corpora/$1.jsonl"; fi
}

failures=0
total=1
# Every Unicode scalar value through the normalizer and pre-tokenizer.
node "$ORACLE/unicode_sweep.js" > "$WORK/sweep.hf.txt"
"$BUILD/tests/parity/unicode_sweep" > "$WORK/sweep.mg.txt"
if cmp -s "$WORK/sweep.hf.txt" "$WORK/sweep.mg.txt"; then
  echo "unicode sweep: $(wc -l < "$WORK/sweep.hf.txt")/$(wc -l < "$WORK/sweep.hf.txt") code points identical"
else
  echo "unicode sweep: code points differ:"
  diff "$WORK/sweep.hf.txt" "$WORK/sweep.mg.txt" | head -20
  failures=$((failures + 1))
fi
# name | modelgate options | oracle options | corpora
run_case() {
  local name="$1" mg_opts="$2" hf_opts="$3" corpora="$4"
  for corpus in $corpora; do
    local input expected actual
    input="$(corpus_path "$corpus")"
    expected="$WORK/$name.$corpus.hf.jsonl"
    actual="$WORK/$name.$corpus.mg.jsonl"
    # shellcheck disable=SC2086
    node "$ORACLE/hf_tokenize.js" $hf_opts "$input" > "$expected"
    # shellcheck disable=SC2086
    "$MODELGATE" tokenize $mg_opts --input "$input" --format jsonl --output "$actual"
    total=$((total + 1))
    if ! node "$ROOT/tests/parity/compare_jsonl.js" "$expected" "$actual" "$input" "$name/$corpus"; then
      failures=$((failures + 1))
    fi
  done
}

U="$VOCAB/bert-base-uncased"
run_case uncased-vocab "--model $U/vocab.txt" "--vocab $U/vocab.txt --lowercase true" "spam reftok multiscript edge"
run_case uncased-tokenizer-json "--model $U/tokenizer.json" "--tokenizer-json $U/tokenizer.json" "reftok multiscript edge"
run_case cased "--model $VOCAB/bert-base-cased/vocab.txt --lowercase false" \
  "--vocab $VOCAB/bert-base-cased/vocab.txt --lowercase false" "spam multiscript edge"
run_case multilingual-cased "--model $VOCAB/bert-base-multilingual-cased/vocab.txt --lowercase false" \
  "--vocab $VOCAB/bert-base-multilingual-cased/vocab.txt --lowercase false" "spam multiscript edge"
run_case chinese "--model $VOCAB/bert-base-chinese/vocab.txt --lowercase false" \
  "--vocab $VOCAB/bert-base-chinese/vocab.txt --lowercase false" "multiscript edge"
run_case chinese-lowercase "--model $VOCAB/bert-base-chinese/vocab.txt --lowercase true" \
  "--vocab $VOCAB/bert-base-chinese/vocab.txt --lowercase true" "multiscript edge"
run_case uncased-truncated "--model $U/vocab.txt --max-length 24" \
  "--vocab $U/vocab.txt --lowercase true --max-length 24" "multiscript edge reftok"
run_case multilingual-truncated-padded "--model $VOCAB/bert-base-multilingual-cased/vocab.txt --lowercase false --max-length 40 --pad-to 40" \
  "--vocab $VOCAB/bert-base-multilingual-cased/vocab.txt --lowercase false --max-length 40 --pad-to 40" "multiscript edge"
F="$ROOT/tests/data/fixtures/tiny-bert-model-safetensors/tokenizer.json"
run_case whitespace-no-normalizer "--model $F" "--tokenizer-json $F" "multiscript edge reftok"
run_case uncased-no-special "--model $U/vocab.txt --no-special-tokens" \
  "--vocab $U/vocab.txt --lowercase true --no-special" "multiscript edge"

R="$VOCAB/roberta-base"
run_case roberta "--model $R" "--tokenizer-json $R/tokenizer.json" "spam reftok multiscript edge"
run_case roberta-vocab-json "--model $R/vocab.json" "--tokenizer-json $R/tokenizer.json" "multiscript edge"
run_case roberta-truncated-padded "--model $R --max-length 24 --pad-to 32" \
  "--tokenizer-json $R/tokenizer.json --max-length 24 --pad-to 32 --pad-token <pad>" "multiscript edge reftok"
run_case roberta-no-special "--model $R --no-special-tokens" "--tokenizer-json $R/tokenizer.json --no-special" \
  "multiscript edge"
MB="$VOCAB/ModernBERT-large"
T5="$VOCAB/t5-small"
run_case modernbert "--model $MB" "--tokenizer-json $MB/tokenizer.json" "spam reftok multiscript edge"
run_case modernbert-truncated "--model $MB --max-length 24" \
  "--tokenizer-json $MB/tokenizer.json --max-length 24" "multiscript edge reftok"
# Short budgets, where which text counts as the longer one decides most
# cuts: it is judged on each text's tokens up to the first word end at or
# past max-length (docs/tokenizers.md, "How it is checked").
for len in 11 16; do
  run_case "uncased-truncated-$len" "--model $U/vocab.txt --max-length $len" \
    "--vocab $U/vocab.txt --lowercase true --max-length $len" "multiscript edge"
  run_case "roberta-truncated-$len" "--model $R --max-length $len" \
    "--tokenizer-json $R/tokenizer.json --max-length $len" "multiscript edge"
  run_case "modernbert-truncated-$len" "--model $MB --max-length $len" \
    "--tokenizer-json $MB/tokenizer.json --max-length $len" "multiscript edge"
  run_case "t5-truncated-$len" "--model $T5 --max-length $len" \
    "--tokenizer-json $T5/tokenizer.json --max-length $len" "multiscript edge"
done

run_case t5 "--model $T5" "--tokenizer-json $T5/tokenizer.json" "spam reftok multiscript edge"
run_case t5-truncated-padded "--model $T5 --max-length 24 --pad-to 32" \
  "--tokenizer-json $T5/tokenizer.json --max-length 24 --pad-to 32 --pad-token <pad>" "multiscript edge reftok"
run_case t5-no-special "--model $T5 --no-special-tokens" "--tokenizer-json $T5/tokenizer.json --no-special" \
  "multiscript edge"
# The XLM-RoBERTa pipeline on T5's vocabulary and charsmap: Metaspace alone
# (prepend_scheme "first"), runs of spaces collapsed, <s> A </s></s> B </s>.
X="$WORK/t5-xlmr-style"
mkdir -p "$X"
node -e '
const fs = require("fs");
const t = JSON.parse(fs.readFileSync(process.argv[1], "utf8"));
t.normalizer = { type: "Sequence", normalizers: [t.normalizer,
  { type: "Replace", pattern: { Regex: " {2,}" }, content: " " }, { type: "Strip", strip_left: false, strip_right: true }] };
t.pre_tokenizer = { type: "Metaspace", replacement: "\u2581", prepend_scheme: "first", split: true };
t.post_processor = { type: "RobertaProcessing", sep: ["</s>", 1], cls: ["<pad>", 0], trim_offsets: true, add_prefix_space: true };
fs.writeFileSync(process.argv[2], JSON.stringify(t));
' "$T5/tokenizer.json" "$X/tokenizer.json"
run_case t5-xlmr-style "--model $X" "--tokenizer-json $X/tokenizer.json" "spam reftok multiscript edge"
run_case t5-xlmr-style-truncated "--model $X --max-length 24" \
  "--tokenizer-json $X/tokenizer.json --max-length 24" "multiscript edge"
run_case t5-xlmr-style-truncated-11 "--model $X --max-length 11" \
  "--tokenizer-json $X/tokenizer.json --max-length 11" "multiscript edge"

echo "tokenizer parity: $((total - failures)) passed, $failures failed"
[[ $failures -eq 0 ]]
