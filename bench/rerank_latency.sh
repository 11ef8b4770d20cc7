#!/usr/bin/env bash
# Latency of reranking: POST /rerank with one query and CANDIDATES product
# texts (the recommendation scenario's catalogue; 100 by default, as a
# storefront reranks the top 100 a recall step found), one request at a time
# on a keep-alive connection, against a served cross-encoder. Side by side,
# alternating request by request: the same pairs as one TEI /predict batch
# ({"inputs": [[query, text], ...]}), the way a client scored pairs before
# /rerank. Prints p50, p99 and mean latency of each over REQUESTS requests
# (after 5 unmeasured ones), the pairs scored per second, and the ratio of the
# p50s.
#
# Model: MODEL_DIR, by default the cross-encoder the recommendation scenario
# trains (run examples/recommendation/run.sh first: out/recommendation/reranker).
# THREADS GEMM threads (default 2).
#
# usage: bench/rerank_latency.sh MODELGATE_BINARY [MODEL_DIR] [REQUESTS] [CANDIDATES]
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
MG="$(realpath "$1")"
MODEL="${2:-$ROOT/out/recommendation/reranker}"
REQUESTS="${3:-200}"
CANDIDATES="${4:-100}"
THREADS="${THREADS:-2}"
DATA="$ROOT/examples/recommendation/data"
[[ -f "$MODEL/config.json" ]] || {
  echo "error: no model in $MODEL (run examples/recommendation/run.sh, or give MODEL_DIR)"
  exit 1
}
WORK="$(mktemp -d)"
SERVER=""
trap '[[ -n "$SERVER" ]] && kill "$SERVER" 2>/dev/null; rm -rf "$WORK"' EXIT

export OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-passive}"
"$MG" serve --model "$MODEL" --port 0 --port-file "$WORK/port" --threads "$THREADS" \
  --max-client-batch-size "$CANDIDATES" --log-level warn >"$WORK/log" 2>&1 &
SERVER=$!
for _ in $(seq 1 300); do
  [[ -s "$WORK/port" ]] && break
  kill -0 "$SERVER" 2>/dev/null || { cat "$WORK/log"; exit 1; }
  sleep 0.1
done

/usr/bin/python3 - "$(cat "$WORK/port")" "$DATA" "$REQUESTS" "$CANDIDATES" <<'EOF'
import http.client
import json
import sys
import time

port, data, requests, candidates = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
texts = [json.loads(line)["text"] for line in open(f"{data}/catalogue.jsonl")][:candidates]
if len(texts) < candidates:
    sys.exit(f"error: the catalogue has {len(texts)} products, fewer than {candidates}")
queries = [json.loads(line)["query"] for line in open(f"{data}/rerank_queries.jsonl")]
conn = http.client.HTTPConnection("127.0.0.1", int(port), timeout=60)
tokens = 0


def rerank(query, route="/rerank"):
    global tokens
    if route == "/rerank":
        body = json.dumps({"query": query, "texts": texts})
    else:
        body = json.dumps({"inputs": [[query, text] for text in texts]})
    start = time.perf_counter()
    conn.request("POST", route, body, {"Content-Type": "application/json"})
    response = conn.getresponse()
    reply = response.read()
    elapsed = time.perf_counter() - start
    if response.status != 200 or len(json.loads(reply)) != candidates:
        sys.exit(f"error: HTTP {response.status}: {reply[:200]!r}")
    tokens += int(response.getheader("x-compute-tokens"))
    return elapsed


for i in range(5):
    rerank(queries[i % len(queries)])
    rerank(queries[i % len(queries)], "/predict")
tokens = 0
times = {"/rerank": [], "/predict": []}
for i in range(requests):
    for route in times:
        times[route].append(rerank(queries[i % len(queries)], route))
print(f"{candidates} candidates per request, {requests} requests per route, "
      f"{tokens / (2 * requests):.0f} tokens per request")
p50s = {}
for route, latencies in times.items():
    latencies.sort()
    mean = sum(latencies) / len(latencies)
    p50s[route] = latencies[len(latencies) // 2]
    p99 = latencies[min(len(latencies) - 1, int(round(0.99 * len(latencies))) - 1)]
    print(f"{route:9s} p50 {p50s[route] * 1000:.1f} ms  p99 {p99 * 1000:.1f} ms  "
          f"mean {mean * 1000:.1f} ms  {candidates / mean:.0f} pairs/s")
print(f"/rerank p50 / /predict p50: {p50s['/rerank'] / p50s['/predict']:.2f}")
EOF
