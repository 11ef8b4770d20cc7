#!/usr/bin/env bash
# Tokenizer throughput, modelgate vs Hugging Face's tokenizer (npm
# "tokenizers", Rust core), on one thread each, on the same corpus and
# vocabulary, in one run. Prints both JSON lines and the ratio for each model.
#
# usage: bench/tokenizer_vs_hf.sh BUILD_DIR [CORPUS.jsonl] [MODEL_DIR...]
# Default corpus: the ~6,000 SpamAssassin mails (32.5 MB); default models:
# bert-base-uncased (WordPiece, vocab.txt, lower-cased) and roberta-base
# (byte-level BPE, tokenizer.json). A model folder with tokenizer.json is read
# through it by both sides; one with only vocab.txt as BertTokenizerFast
# (lower-cased) does.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BUILD="$(realpath "$1")"
CORPUS="${2:-}"
shift $(($# < 2 ? $# : 2))
MODELS=("$@")
if [[ ${#MODELS[@]} -eq 0 ]]; then
  MODELS=("$ROOT/tests/data/vocab/bert-base-uncased" "$ROOT/tests/data/vocab/roberta-base")
fi
if [[ -z "$CORPUS" ]]; then
  CORPUS="$BUILD/parity/corpora/spam.jsonl"
  if [[ ! -s "$CORPUS" ]]; then
    mkdir -p "$BUILD/parity/corpora"
    (cd "$ROOT/tests/oracle" && node make_corpus.js "$BUILD/parity/corpora" --only spam >/dev/null)
  fi
fi

echo "corpus: $CORPUS"
for model in "${MODELS[@]}"; do
  if [[ -f "$model/tokenizer.json" && ! -f "$model/vocab.txt" ]]; then
    echo "model: $model/tokenizer.json, special tokens added, one thread each"
    hf="$(node "$ROOT/tests/oracle/hf_bench.js" --tokenizer-json "$model/tokenizer.json" "$CORPUS")"
    mg="$(taskset -c 0 "$BUILD/bench/tokenizer_bench" --model "$model" "$CORPUS")"
  else
    echo "model: $model/vocab.txt (lower-cased), special tokens added, one thread each"
    hf="$(node "$ROOT/tests/oracle/hf_bench.js" --vocab "$model/vocab.txt" --lowercase true "$CORPUS")"
    mg="$(taskset -c 0 "$BUILD/bench/tokenizer_bench" --model "$model/vocab.txt" "$CORPUS")"
  fi
  echo "$hf"
  echo "$mg"
  node -e '
    const hf = JSON.parse(process.argv[1]), mg = JSON.parse(process.argv[2]);
    if (hf.tokens !== mg.tokens) console.log(`warning: token counts differ (${hf.tokens} vs ${mg.tokens})`);
    console.log(`modelgate / hf-tokenizers: ${(mg.tokens_per_s / hf.tokens_per_s).toFixed(1)}x tokens/s ` +
                `(${(mg.tokens_per_s / 1e6).toFixed(2)} M vs ${(hf.tokens_per_s / 1e6).toFixed(2)} M tokens/s)`);
  ' "$hf" "$mg"
done
