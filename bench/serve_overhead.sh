#!/usr/bin/env bash
# The server's fixed cost per request at concurrency 1: `modelgate serve`
# under wrk (one connection, one input per request) against the engine called
# directly (bench/engine_direct_bench: tokenise + embed, batch 1), the two
# alternating ROUNDS times; prints the best and the median of each and the
# overhead (1 - server req/s / engine seq/s) for both. With
# BASELINE=path/to/another/modelgate, that binary is served too, on its own
# port, and timed in the same rounds, for a before/after comparison.
#
# Model: the MiniLM-shaped one of bench/bert_bench_model.py unless MODEL names
# another folder; one GEMM thread, one I/O thread, one tokenisation worker,
# as in bench/serve_bench.sh. INPUT=short uses a 4-token input instead of the
# 128-token one.
#
# usage: bench/serve_overhead.sh BUILD_DIR [ROUNDS] [SECONDS]
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BUILD="$(realpath "$1")"
ROUNDS="${2:-5}"
SECS="${3:-5}"
MG="$BUILD/apps/modelgate/modelgate"
DIRECT="$BUILD/bench/engine_direct_bench"
BASELINE="${BASELINE:-}"
WORK="$(mktemp -d)"
SERVERS=()
trap 'for p in "${SERVERS[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$WORK"' EXIT

MODEL="${MODEL:-$BUILD/bench-models/minilm/modelgate}"
if [[ ! -f "$MODEL/config.json" ]]; then
  /usr/bin/python3 "$ROOT/bench/bert_bench_model.py" make "$(dirname "$MODEL")" minilm >/dev/null 2>&1
fi
command -v wrk >/dev/null || { echo "error: wrk is not installed (apt-get install wrk)"; exit 1; }

TEXT="$(printf 'the %.0s' $(seq 126) | sed 's/ $//')"  # 128 tokens with [CLS] and [SEP]
[[ "${INPUT:-long}" == short ]] && TEXT="hello world"

# serve BINARY NAME: starts a server, records its port in $WORK/NAME.port.
serve() {
  "$1" serve --model "$MODEL" --port 0 --port-file "$WORK/$2.port" --threads 1 \
    --io-threads 1 --tokenization-workers 1 --log-level warn --privacy off 2>"$WORK/$2.log" &
  SERVERS+=($!)
  for _ in $(seq 600); do [[ -s "$WORK/$2.port" ]] && break; sleep 0.1; done
  [[ -s "$WORK/$2.port" ]] || { echo "error: $1 did not start:"; cat "$WORK/$2.log"; exit 1; }
}
serve "$MG" new
[[ -n "$BASELINE" ]] && serve "$BASELINE" base

node -e 'console.log(`wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = [[${JSON.stringify({inputs: process.argv[1]})}]]`)' "$TEXT" >"$WORK/post.lua"

# wrk_rps NAME: requests per second at concurrency 1 for SECS seconds.
wrk_rps() {
  wrk -t 1 -c 1 -d "${SECS}s" --timeout 30s -s "$WORK/post.lua" \
    "http://127.0.0.1:$(cat "$WORK/$1.port")/embed" >"$WORK/wrk.txt"
  if grep -q "Non-2xx" "$WORK/wrk.txt"; then echo "error: failed requests" >&2; exit 1; fi
  sed -n 's/^Requests\/sec:[[:space:]]*//p' "$WORK/wrk.txt"
}

echo "model: $MODEL, input: $(wc -w <<<"$TEXT") words, concurrency 1, $ROUNDS alternating rounds of $SECS s, $(nproc) cores"
engine=""; new=""; base=""
for round in $(seq "$ROUNDS"); do
  echo "round $round: load $(cut -d' ' -f1-3 /proc/loadavg)"
  engine+=" $("$DIRECT" --model "$MODEL" --text "$TEXT" --batch 1 --threads 1 --seconds "$SECS" |
    node -e 'console.log(JSON.parse(require("fs").readFileSync(0, "utf8")).seq_per_s)')"
  new+=" $(wrk_rps new)"
  [[ -n "$BASELINE" ]] && base+=" $(wrk_rps base)"
done
node -e '
  const runs = (s) => s.trim().split(/\s+/).filter(Boolean).map(Number).sort((a, b) => b - a);
  const best = (r) => r[0], median = (r) => r[Math.floor(r.length / 2)];
  const [engine, server, baseline] = process.argv.slice(1).map(runs);
  const show = (name, r) => console.log(`${name}: best ${best(r).toFixed(1)}, median ${median(r).toFixed(1)} (${r.join(" ")})`);
  show("engine seq/s", engine);
  show("server req/s", server);
  if (baseline.length) show("baseline server req/s", baseline);
  const overhead = (r, f) => ((1 - f(r) / f(engine)) * 100).toFixed(1) + " %";
  console.log(`server overhead: best ${overhead(server, best)}, median ${overhead(server, median)}`);
  if (baseline.length)
    console.log(`baseline overhead: best ${overhead(baseline, best)}, median ${overhead(baseline, median)}`);
' "$engine" "$new" "$base"
