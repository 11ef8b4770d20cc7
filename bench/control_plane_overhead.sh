#!/usr/bin/env bash
# Overhead of the control plane on `modelgate serve`: the same server and the
# same load (wrk, concurrency 32, one short input per request) with
#   --auth off                      (no key, no database)
#   --db sqlite:FILE                (key check, limits, ledger, audit per request)
#   --db postgresql://…             (durable commits)
#   --db postgresql://…&options=-c synchronous_commit=off
# in one run, alternating ROUNDS times (best run of each counts: the machine is
# shared). Prints mean/p50/p99 latency, throughput and the ratios to --auth off.
# MODEL=DIR serves another model (default: the 2-layer test fixture, whose
# ~2 ms requests make the control plane's fixed per-request cost look large;
# MODEL=build/bench-models/minilm/modelgate — see bench/serve_bench.sh — is a
# production-shaped 6×384 encoder). SERVE_ARGS="--tokenization-workers 8" adds
# flags to the command line of each --db server (not of --auth off).
# Usage: [INPUT=short|long] [MODEL=DIR] [SERVE_ARGS=…] bench/control_plane_overhead.sh [MODELGATE] [SECONDS] [ROUNDS]
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BIN="$(realpath "${1:-$ROOT/build/apps/modelgate/modelgate}")"
SECS="${2:-8}"
ROUNDS="${3:-2}"
CONC=32
MODEL="${MODEL:-$ROOT/tests/data/fixtures/tiny-bert-model-safetensors}"
command -v wrk >/dev/null || { echo "error: wrk is not installed (apt-get install wrk)"; exit 1; }
source "$ROOT/tests/cli/pg_fixture.sh"
source "$ROOT/bench/wrk_measure.sh"
WORK="$(mktemp -d /tmp/mg-cpbench-XXXXXX)"
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  pg_stop
  rm -rf "$WORK"
}
trap cleanup EXIT

pg_start >/dev/null
PG_SYNC="$PG_URL"
PG_ASYNC="$PG_URL&options=-c%20synchronous_commit%3Doff"
declare -A PORT KEY
start() {  # NAME DB-ARGS...
  local name="$1"; shift
  "$BIN" serve --model "$MODEL" --port 0 --port-file "$WORK/$name.port" --threads 1 \
    --io-threads 1 --log-level warn --privacy off "$@" \
    2>"$WORK/$name.log" &
  PIDS+=($!)
  for _ in $(seq 600); do [[ -s "$WORK/$name.port" ]] && break; sleep 0.05; done
  PORT[$name]="$(cat "$WORK/$name.port")"
}
start off --auth off
KEY[off]=""
for name in sqlite pg pg_async; do
  case $name in
    sqlite) db="sqlite:$WORK/cp.db" ;;
    pg) db="$PG_SYNC" ;;
    pg_async) db="$PG_ASYNC" ;;
  esac
  KEY[$name]="$("$BIN" keys create --db "$db" --name "bench-$name" --scopes embed 2>/dev/null)"
  start "$name" --db "$db" ${SERVE_ARGS:-}
done

# INPUT=long: a 128-token input, so that inference weighs more per request.
TEXT="the quick brown fox jumps over the lazy dog"
if [[ "${INPUT:-short}" == long ]]; then TEXT="$(printf 'the quick brown fox jumps over the lazy dog %.0s' $(seq 12))"; fi
wrk_post_script "$WORK/post.lua" "$TEXT"
measure() {  # NAME
  wrk_measure "http://127.0.0.1:${PORT[$1]}/embed" "$WORK/post.lua" "$SECS" "$CONC" "${KEY[$1]}"
}

NAMES=(off sqlite pg pg_async)
declare -A BEST
for round in $(seq "$ROUNDS"); do
  for name in "${NAMES[@]}"; do
    line="$(measure "$name")"
    BEST[$name]="$(best_of "${BEST[$name]:-}" "$line")"
  done
done

echo "model: $(basename "$(dirname "$MODEL")")/$(basename "$MODEL"), input ${INPUT:-short}, concurrency $CONC, best of $ROUNDS alternating ${SECS}s runs, $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo
/usr/bin/python3 - "${BEST[off]}" "${BEST[sqlite]}" "${BEST[pg]}" "${BEST[pg_async]}" <<'PY'
import json, sys
labels = ["--auth off", "--db sqlite", "--db postgresql (durable)",
          "--db postgresql (synchronous_commit=off)"]
rows = [json.loads(a) for a in sys.argv[1:]]
base = rows[0]
print("| server | req/s | mean ms | p50 ms | p99 ms | errors | mean latency / auth off | throughput / auth off |")
print("| --- | --- | --- | --- | --- | --- | --- | --- |")
for label, r in zip(labels, rows):
    print(f"| {label} | {r['rps']:.0f} | {r['mean_ms']:.2f} | {r['p50_ms']:.2f} | {r['p99_ms']:.2f} | "
          f"{r['errors']} | {r['mean_ms'] / base['mean_ms']:.3f} | {r['rps'] / base['rps']:.3f} |")
PY
