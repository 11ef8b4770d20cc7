#!/usr/bin/env bash
# Load checks of `modelgate serve` (label "load", about 75 s): zero errors in
# a 60-second run at concurrency 64 with 128-token inputs, and /health
# answered while 2,000 idle connections stay open. Latency figures are in
# bench/serve_bench.sh; this test checks only that nothing fails.
#
# usage: tests/serve/serve_load_test.sh MODELGATE_BINARY
set -uo pipefail

MG="$(realpath "$1")"
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
TMP="$(mktemp -d)"
trap 'kill "$SERVER" 2>/dev/null; rm -rf "$TMP"' EXIT
"$MG" serve --model "$ROOT/tests/data/fixtures/tiny-bert-model-safetensors" --port 0 \
  --port-file "$TMP/port" --log-level warn 2>"$TMP/log" &
SERVER=$!
for _ in $(seq 300); do [[ -s "$TMP/port" ]] && break; sleep 0.1; done
PORT="$(cat "$TMP/port")"
failed=0

text="$(printf 'the %.0s' $(seq 126))"
printf 'wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\nwrk.body = [[{"inputs":"%s","truncate":true}]]\n' \
  "$text" >"$TMP/post.lua"
wrk -t 2 -c 64 -d 60s --timeout 30s -s "$TMP/post.lua" "http://127.0.0.1:$PORT/embed" >"$TMP/wrk.txt"
cat "$TMP/wrk.txt"
if grep -q "Non-2xx\|Socket errors" "$TMP/wrk.txt" || ! grep -q "requests in" "$TMP/wrk.txt"; then
  echo "FAIL: errors in the 60 s run at concurrency 64"
  failed=1
fi

idle="$(/usr/bin/python3 "$ROOT/bench/idle_health.py" "$PORT" 2000 100)"
echo "$idle"
if ! node -e 'const r = JSON.parse(process.argv[1]); process.exit(r.failures === 0 && r.still_open === 2000 ? 0 : 1)' "$idle"; then
  echo "FAIL: /health with 2,000 idle connections"
  failed=1
fi

kill -TERM "$SERVER"
if ! wait "$SERVER"; then
  echo "FAIL: exit status after SIGTERM"
  failed=1
fi
[[ $failed == 0 ]] && echo "load checks passed"
exit $failed
