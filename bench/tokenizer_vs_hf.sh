#!/usr/bin/env bash
# Tokenizer throughput, modelgate vs Hugging Face's tokenizer (npm
# "tokenizers", Rust core), on one thread each, on the same corpus and
# vocabulary, in one run. Prints both JSON lines and the ratio.
#
# usage: bench/tokenizer_vs_hf.sh BUILD_DIR [CORPUS.jsonl] [VOCAB_DIR]
# Default corpus: the ~6,000 SpamAssassin mails (32.5 MB); default
# vocabulary: bert-base-uncased.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BUILD="$(realpath "$1")"
CORPUS="${2:-}"
VOCAB="${3:-$ROOT/tests/data/vocab/bert-base-uncased}"
if [[ -z "$CORPUS" ]]; then
  CORPUS="$BUILD/parity/corpora/spam.jsonl"
  if [[ ! -s "$CORPUS" ]]; then
    mkdir -p "$BUILD/parity/corpora"
    (cd "$ROOT/tests/oracle" && node make_corpus.js "$BUILD/parity/corpora" --only spam >/dev/null)
  fi
fi

echo "corpus: $CORPUS"
echo "vocabulary: $VOCAB/vocab.txt (lower-cased), special tokens added, one thread each"
hf="$(node "$ROOT/tests/oracle/hf_bench.js" --vocab "$VOCAB/vocab.txt" --lowercase true "$CORPUS")"
mg="$(taskset -c 0 "$BUILD/bench/tokenizer_bench" --model "$VOCAB/vocab.txt" "$CORPUS")"
echo "$hf"
echo "$mg"
node -e '
  const hf = JSON.parse(process.argv[1]), mg = JSON.parse(process.argv[2]);
  if (hf.tokens !== mg.tokens) console.log(`warning: token counts differ (${hf.tokens} vs ${mg.tokens})`);
  console.log(`modelgate / hf-tokenizers: ${(mg.tokens_per_s / hf.tokens_per_s).toFixed(1)}x tokens/s ` +
              `(${(mg.tokens_per_s / 1e6).toFixed(2)} M vs ${(hf.tokens_per_s / 1e6).toFixed(2)} M tokens/s)`);
' "$hf" "$mg"
