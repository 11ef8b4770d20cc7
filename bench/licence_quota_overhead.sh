#!/usr/bin/env bash
# What counting a licence's quotas costs `modelgate serve --db`: the same
# closed bundle, the same key and the same wrk load (concurrency 32), served
# with a licence without quotas and with one with max_requests and
# max_tokens_per_day (large enough never to refuse), on SQLite and on
# PostgreSQL (durable commits), alternating ROUNDS times in one run (best of
# each counts: the machine is shared). Prints req/s, latency and the ratios of
# each quota server to the same database without quotas.
# MODEL=DIR serves another model (default: the 2-layer test fixture).
# Usage: [MODEL=DIR] bench/licence_quota_overhead.sh [MODELGATE] [SECONDS] [ROUNDS]
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
WORK="$(mktemp -d /tmp/mg-licbench-XXXXXX)"
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  pg_stop
  rm -rf "$WORK"
}
trap cleanup EXIT

pg_start >/dev/null
"$BIN" keygen --out "$WORK/vendor" >/dev/null
"$BIN" keygen --out "$WORK/deploy" --type deploy >/dev/null
"$BIN" release closed --model "$MODEL" --out "$WORK/model.mgb" --sign "$WORK/vendor.key" \
  --to "$WORK/deploy.pub" --model-id bench-model --require-license >/dev/null 2>&1
issue() {  # OUT [LIMITS...]
  local out="$1"; shift
  "$BIN" license issue --sign "$WORK/vendor.key" --licensee Bench --model bench-model \
    --expires 2099-12-31 --out "$out" "$@" >/dev/null
}
issue "$WORK/plain.lic"
issue "$WORK/quota.lic" --max-requests 1000000000000 --max-tokens-per-day 1000000000000

declare -A PORT KEY
start() {  # NAME LICENCE DB
  "$BIN" serve --model "$WORK/model.mgb" --key "$WORK/deploy.key" --license "$2" \
    --vendor-pub "$WORK/vendor.pub" --db "$3" --port 0 --port-file "$WORK/$1.port" \
    --threads 1 --io-threads 1 --log-level warn --privacy off 2>"$WORK/$1.log" &
  PIDS+=($!)
  for _ in $(seq 600); do [[ -s "$WORK/$1.port" ]] && break; sleep 0.05; done
  PORT[$1]="$(cat "$WORK/$1.port")"
}
for db in sqlite pg; do
  url="sqlite:$WORK/cp.db"
  [[ $db == pg ]] && url="$PG_URL"
  key="$("$BIN" keys create --db "$url" --name "bench-$db" --scopes embed 2>/dev/null)"
  KEY[$db]="$key"
  KEY[$db-quota]="$key"
  start "$db" "$WORK/plain.lic" "$url"
  start "$db-quota" "$WORK/quota.lic" "$url"
done

wrk_post_script "$WORK/post.lua" "the quick brown fox jumps over the lazy dog"
NAMES=(sqlite sqlite-quota pg pg-quota)
declare -A BEST
for round in $(seq "$ROUNDS"); do
  for name in "${NAMES[@]}"; do
    line="$(wrk_measure "http://127.0.0.1:${PORT[$name]}/embed" "$WORK/post.lua" "$SECS" "$CONC" \
      "${KEY[$name]}")"
    BEST[$name]="$(best_of "${BEST[$name]:-}" "$line")"
  done
done

echo "model: $(basename "$MODEL") as a closed bundle, concurrency $CONC, best of $ROUNDS alternating ${SECS}s runs, $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo
/usr/bin/python3 - "${BEST[sqlite]}" "${BEST[sqlite-quota]}" "${BEST[pg]}" "${BEST[pg-quota]}" <<'PY'
import json, sys
rows = [json.loads(a) for a in sys.argv[1:]]
labels = ["sqlite, licence without quotas", "sqlite, licence with quotas",
          "postgresql, licence without quotas", "postgresql, licence with quotas"]
print("| server | req/s | mean ms | p50 ms | p99 ms | errors | mean latency / without quotas | throughput / without quotas |")
print("| --- | --- | --- | --- | --- | --- | --- | --- |")
for i, (label, r) in enumerate(zip(labels, rows)):
    base = rows[i - i % 2]
    print(f"| {label} | {r['rps']:.0f} | {r['mean_ms']:.2f} | {r['p50_ms']:.2f} | {r['p99_ms']:.2f} | "
          f"{r['errors']} | {r['mean_ms'] / base['mean_ms']:.3f} | {r['rps'] / base['rps']:.3f} |")
PY
