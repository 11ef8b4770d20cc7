#!/usr/bin/env bash
# modelgate serve under load, against the engine called directly, in one run:
#  1. throughput and p50/p99 latency at concurrency 1, 8 and 64 with short
#     (4-token) and 128-token inputs: the server (wrk, one input per request)
#     vs the engine called directly (bench/engine_direct_bench: tokenise +
#     embed, batch = concurrency), and the server's overhead against it;
#  2. dynamic batching: the server's throughput at concurrency 32 over
#     concurrency 1, next to what batching gains the engine itself (batch 32
#     over batch 1): the server can pass on only what the engine gains;
#  3. errors in a LOAD_SECONDS run at concurrency 64 (128 tokens);
#  4. /health latency while 2,000 idle connections are open.
# The model is the MiniLM-shaped one of bench/bert_bench_model.py (6 layers,
# 384 hidden) unless MODEL names another folder. The machine is shared, so
# figures are noisy: compare the ratios, measured side by side.
#
# usage: bench/serve_bench.sh BUILD_DIR [THREADS] [SECONDS] [LOAD_SECONDS] [ROUNDS]
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BUILD="$(realpath "$1")"
THREADS="${2:-1}"
SECS="${3:-5}"
LOAD_SECS="${4:-60}"
ROUNDS="${5:-3}"
MG="$BUILD/apps/modelgate/modelgate"
DIRECT="$BUILD/bench/engine_direct_bench"
WORK="$(mktemp -d)"
trap 'kill "$SERVER" 2>/dev/null || true; rm -rf "$WORK"' EXIT

MODEL="${MODEL:-$BUILD/bench-models/minilm/modelgate}"
if [[ ! -f "$MODEL/config.json" ]]; then
  /usr/bin/python3 "$ROOT/bench/bert_bench_model.py" make "$(dirname "$MODEL")" minilm >/dev/null 2>&1
fi
command -v wrk >/dev/null || { echo "error: wrk is not installed (apt-get install wrk)"; exit 1; }

SHORT="hello world"                                             # 4 tokens with [CLS] and [SEP]
LONG="$(printf 'the %.0s' $(seq 126) | sed 's/ $//')"            # 128 tokens

"$MG" serve --model "$MODEL" --port 0 --port-file "$WORK/port" --threads "$THREADS" \
  --io-threads 1 --tokenization-workers 1 --max-batch-requests 64 --log-level warn \
  --privacy off 2>"$WORK/server.log" &
SERVER=$!
for _ in $(seq 600); do [[ -s "$WORK/port" ]] && break; sleep 0.1; done
PORT="$(cat "$WORK/port")"

# wrk_run CONCURRENCY SECONDS TEXT: one JSON line {rps, p50_ms, p99_ms, errors}.
wrk_run() {
  local body
  body="$(node -e 'console.log(JSON.stringify({inputs: process.argv[1]}))' "$3")"
  cat >"$WORK/post.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = [[$body]]
LUA
  local threads=$(( $1 < 2 ? 1 : 2 ))
  wrk -t "$threads" -c "$1" -d "${2}s" --timeout 30s --latency -s "$WORK/post.lua" \
    "http://127.0.0.1:$PORT/embed" >"$WORK/wrk.txt"
  node -e '
    const t = require("fs").readFileSync(process.argv[1], "utf8");
    const ms = (s) => { const m = s.match(/([\d.]+)(us|ms|s)/);
      return Number(m[1]) * {us: 0.001, ms: 1, s: 1000}[m[2]]; };
    const pct = (p) => ms(t.match(new RegExp("^\\s*" + p + "%\\s+(\\S+)", "m"))[1]);
    const non2xx = (t.match(/Non-2xx or 3xx responses: (\d+)/) || [0, 0])[1];
    const sock = t.match(/Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/);
    const errors = Number(non2xx) + (sock ? sock.slice(1).reduce((a, b) => a + Number(b), 0) : 0);
    console.log(JSON.stringify({rps: Number(t.match(/Requests\/sec:\s+([\d.]+)/)[1]),
      p50_ms: pct(50), p99_ms: pct(99), errors,
      requests: Number(t.match(/(\d+) requests in/)[1])}));' "$WORK/wrk.txt"
}

field() { node -e 'console.log(JSON.parse(process.argv[1])[process.argv[2]])' "$1" "$2"; }
# best FIELD A B: the JSON line with the higher FIELD (A may be empty).
best() {
  if [[ -z "$2" ]]; then echo "$3"; return; fi
  node -e 'const [f, a, b] = process.argv.slice(1).map((x, i) => i ? JSON.parse(x) : x);
           console.log(JSON.stringify(b[f] > a[f] ? b : a));' "$1" "$2" "$3"
}

echo "model: $MODEL, GEMM threads: $THREADS, best of $ROUNDS alternating runs of $SECS s per point, machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "| input | concurrency | engine seq/s | engine p50 ms | engine p99 ms | server req/s | server p50 ms | server p99 ms | errors | server / engine |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
declare -A RPS
for input in short long; do
  text="$SHORT"; [[ $input == long ]] && text="$LONG"
  for c in 1 8 64; do
    # Engine and server alternate ROUNDS times; the best of each counts (the
    # machine is shared: the best run is the least disturbed one).
    # Long inputs at high concurrency take seconds per batch: measure longer.
    dur="$SECS"; [[ $input == long && $c -ge 32 ]] && dur=$((SECS * 4))
    e=""; s=""
    for _ in $(seq "$ROUNDS"); do
      e="$(best seq_per_s "$e" "$("$DIRECT" --model "$MODEL" --text "$text" --batch "$c" --threads "$THREADS" --seconds "$dur")")"
      s="$(best rps "$s" "$(wrk_run "$c" "$dur" "$text")")"
    done
    RPS[$input$c]="$(field "$s" rps)"
    ratio="$(node -e 'console.log((process.argv[1] / process.argv[2]).toFixed(3))' "$(field "$s" rps)" "$(field "$e" seq_per_s)")"
    label="$input ($(field "$e" tokens) tokens)"
    echo "| $label | $c | $(field "$e" seq_per_s) | $(field "$e" p50_ms) | $(field "$e" p99_ms) | $(field "$s" rps) | $(field "$s" p50_ms) | $(field "$s" p99_ms) | $(field "$s" errors) | $ratio |"
  done
done

echo
for input in short long; do
  text="$SHORT"; [[ $input == long ]] && text="$LONG"
  dur="$SECS"; [[ $input == long ]] && dur=$((SECS * 4))
  c1=""; c32=""; e1=""; e32=""
  for _ in $(seq "$ROUNDS"); do
    c1="$(best rps "$c1" "$(wrk_run 1 "$dur" "$text")")"
    c32="$(best rps "$c32" "$(wrk_run 32 "$dur" "$text")")"
    e1="$(best seq_per_s "$e1" "$("$DIRECT" --model "$MODEL" --text "$text" --batch 1 --threads "$THREADS" --seconds "$dur")")"
    e32="$(best seq_per_s "$e32" "$("$DIRECT" --model "$MODEL" --text "$text" --batch 32 --threads "$THREADS" --seconds "$dur")")"
  done
  gain="$(node -e 'console.log((process.argv[1] / process.argv[2]).toFixed(2))' "$(field "$c32" rps)" "$(field "$c1" rps)")"
  engine_gain="$(node -e 'console.log((process.argv[1] / process.argv[2]).toFixed(2))' "$(field "$e32" seq_per_s)" "$(field "$e1" seq_per_s)")"
  echo "dynamic batching, $input input: server c1 $(field "$c1" rps) req/s, c32 $(field "$c32" rps) req/s: **${gain}x** (the engine itself, batch 32 over batch 1: ${engine_gain}x)"
done
load="$(wrk_run 64 "$LOAD_SECS" "$LONG")"
echo "${LOAD_SECS} s at concurrency 64, 128 tokens: $(field "$load" requests) requests, $(field "$load" rps) req/s, p99 $(field "$load" p99_ms) ms, **$(field "$load" errors) errors**"

idle="$(/usr/bin/python3 "$ROOT/bench/idle_health.py" "$PORT" 2000 200)"
echo "/health with $(field "$idle" idle) idle connections open ($(field "$idle" still_open) still open after): p50 $(field "$idle" p50_ms) ms, p99 $(field "$idle" p99_ms) ms, max $(field "$idle" max_ms) ms, $(field "$idle" failures) failures"

kill -TERM "$SERVER"
wait "$SERVER" && echo "server exited 0 after SIGTERM"
