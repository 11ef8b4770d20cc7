#!/usr/bin/env bash
# Recommendation search on one core, HNSW vs exact scan (the peer), 100,000
# items: clustered and uniform 384-d vectors, clustered 768-d, and the latency
# of embedding a short query with a MiniLM-shaped model (6x384, random
# weights from bench/bert_bench_model.py) plus the search. One JSON line each.
#
# usage: bench/recommend_bench.sh BUILD_DIR [CORE]
set -euo pipefail
BUILD="${1:-build}"
CORE="${2:-0}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BENCH="$BUILD/bench/recommend_bench"
MODELS="$BUILD/bench-models"
run() { taskset -c "$CORE" "$BENCH" --items 100000 "$@"; }

run --dim 384 --data clustered
run --dim 384 --data uniform
run --dim 768 --data clustered
if [[ ! -f "$MODELS/minilm/modelgate/config.json" ]]; then
  /usr/bin/python3 "$ROOT/bench/bert_bench_model.py" make "$MODELS/minilm" minilm >/dev/null 2>&1
fi
run --model "$MODELS/minilm/modelgate" --data clustered
