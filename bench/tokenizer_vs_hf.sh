#!/usr/bin/env bash
# Tokenizer throughput, modelgate vs Hugging Face's tokenizer (npm
# "tokenizers", Rust core), on one thread each, on the same corpus and
# vocabulary, in one run. Prints both JSON lines and the ratio for each model.
#
# Then the whole `modelgate tokenize --input` process (start, loading the
# tokenizer, reading the corpus, tokenising, JSON lines written to /dev/null)
# with the default fields and with --fields ids, best of ROUNDS (default 3)
# wall-clock runs each, as a ratio to the same Hugging Face figure. With
# BASELINE=path/to/another/modelgate, that binary's default output is timed in
# the same rounds, alternating, for a before/after comparison.
#
# usage: bench/tokenizer_vs_hf.sh BUILD_DIR [CORPUS.jsonl] [MODEL_DIR...]
# Default corpus: the ~6,000 SpamAssassin mails (32.5 MB); default models:
# bert-base-uncased (WordPiece, vocab.txt, lower-cased), roberta-base
# (byte-level BPE, tokenizer.json) and t5-small (Unigram, tokenizer.json). A model folder with tokenizer.json is read
# through it by both sides; one with only vocab.txt as BertTokenizerFast
# (lower-cased) does.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BUILD="$(realpath "$1")"
CORPUS="${2:-}"
ROUNDS="${ROUNDS:-3}"
BASELINE="${BASELINE:-}"
shift $(($# < 2 ? $# : 2))
MODELS=("$@")
if [[ ${#MODELS[@]} -eq 0 ]]; then
  MODELS=("$ROOT/tests/data/vocab/bert-base-uncased" "$ROOT/tests/data/vocab/roberta-base"
          "$ROOT/tests/data/vocab/t5-small")
fi
if [[ -z "$CORPUS" ]]; then
  CORPUS="$BUILD/parity/corpora/spam.jsonl"
  if [[ ! -s "$CORPUS" ]]; then
    mkdir -p "$BUILD/parity/corpora"
    (cd "$ROOT/tests/oracle" && node make_corpus.js "$BUILD/parity/corpora" --only spam >/dev/null)
  fi
fi

# best_seconds ARGS...: the best wall-clock seconds of ROUNDS runs of ARGS.
best_seconds() {
  local best="" start end
  for _ in $(seq "$ROUNDS"); do
    start="$(date +%s.%N)"
    taskset -c 0 "$@" >/dev/null
    end="$(date +%s.%N)"
    best="$(node -e 'const [s, e, b] = process.argv.slice(1); const t = e - s;
                     console.log(b === "" || t < Number(b) ? t.toFixed(3) : b)' "$start" "$end" "$best")"
  done
  echo "$best"
}

echo "corpus: $CORPUS, machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
for model in "${MODELS[@]}"; do
  if [[ -f "$model/tokenizer.json" && ! -f "$model/vocab.txt" ]]; then
    echo "model: $model/tokenizer.json, special tokens added, one thread each"
    hf="$(node "$ROOT/tests/oracle/hf_bench.js" --tokenizer-json "$model/tokenizer.json" "$CORPUS")"
    mg="$(taskset -c 0 "$BUILD/bench/tokenizer_bench" --model "$model" "$CORPUS")"
    model_arg="$model"
  else
    echo "model: $model/vocab.txt (lower-cased), special tokens added, one thread each"
    hf="$(node "$ROOT/tests/oracle/hf_bench.js" --vocab "$model/vocab.txt" --lowercase true "$CORPUS")"
    mg="$(taskset -c 0 "$BUILD/bench/tokenizer_bench" --model "$model/vocab.txt" "$CORPUS")"
    model_arg="$model/vocab.txt"
  fi
  echo "$hf"
  echo "$mg"
  node -e '
    const hf = JSON.parse(process.argv[1]), mg = JSON.parse(process.argv[2]);
    if (hf.tokens !== mg.tokens) console.log(`warning: token counts differ (${hf.tokens} vs ${mg.tokens})`);
    console.log(`modelgate / hf-tokenizers: ${(mg.tokens_per_s / hf.tokens_per_s).toFixed(1)}x tokens/s ` +
                `(${(mg.tokens_per_s / 1e6).toFixed(2)} M vs ${(hf.tokens_per_s / 1e6).toFixed(2)} M tokens/s)`);
  ' "$hf" "$mg"
  # The whole process, the runs of each command alternating.
  cli=("$BUILD/apps/modelgate/modelgate" tokenize --model "$model_arg" --input "$CORPUS" --format jsonl)
  full=""; ids=""; base=""
  for _ in $(seq "$ROUNDS"); do
    full="$(ROUNDS=1 best_seconds "${cli[@]}")${full:+ $full}"
    ids="$(ROUNDS=1 best_seconds "${cli[@]}" --fields ids)${ids:+ $ids}"
    if [[ -n "$BASELINE" ]]; then
      base="$(ROUNDS=1 best_seconds "$BASELINE" "${cli[@]:1}")${base:+ $base}"
    fi
  done
  node -e '
    const hf = JSON.parse(process.argv[1]);
    const runs = (s) => s.split(" ").filter(Boolean).map(Number).sort((a, b) => a - b);
    const row = (name, s) => {
      if (!s) return;
      const r = runs(s), best = r[0], median = r[Math.floor(r.length / 2)];
      console.log(`whole process, ${name}: best ${best.toFixed(2)} s, median ${median.toFixed(2)} s: ` +
                  `${(hf.tokens / best / hf.tokens_per_s).toFixed(2)}x hf-tokenizers (median ` +
                  `${(hf.tokens / median / hf.tokens_per_s).toFixed(2)}x)`);
    };
    row("default fields", process.argv[2]);
    row("--fields ids", process.argv[3]);
    row("BASELINE binary, default fields", process.argv[4]);
  ' "$hf" "$full" "$ids" "$base"
done
