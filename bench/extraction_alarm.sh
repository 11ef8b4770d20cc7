#!/usr/bin/env bash
# The extraction alarm (serve --extraction-alarm), two measurements:
#  1. detection: tests/serve/extraction_attack.py at its realistic shape with
#     students (victim trained here, synthetic and natural attacks against
#     ordinary scenario traffic; queries to detection, false alarms, student
#     agreement before detection and over the whole budget). JSON in $OUT.
#  2. request-path overhead: the same server with and without the alarm,
#     both with keys in SQLite, under wrk at concurrency 1 with a different
#     ~30-word input on every request, alternating ROUNDS rounds of SECS s;
#     prints the median req/s of each and their ratio.
#
# usage: bench/extraction_alarm.sh BUILD_DIR [ROUNDS] [SECS]
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BUILD="$(realpath "$1")"
ROUNDS="${2:-5}"
SECS="${3:-5}"
MG="$BUILD/apps/modelgate/modelgate"
WORK="$(mktemp -d)"
OUT="${OUT:-$WORK/extraction.json}"
SERVERS=()
trap 'for p in "${SERVERS[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$WORK"' EXIT
command -v wrk >/dev/null || { echo "error: wrk is not installed (apt-get install wrk)"; exit 1; }

if [[ "${SKIP_ATTACK:-0}" != 1 ]]; then
  echo "== detection (realistic shape, with students)"
  /usr/bin/python3 "$ROOT/tests/serve/extraction_attack.py" "$MG" --shape realistic --students \
    --json "$OUT" | tail -n 3
  echo "results: $OUT"
fi

echo "== request-path overhead"
MODEL="${MODEL:-$WORK/victim}"
if [[ ! -f "$MODEL/config.json" ]]; then
  "$MG" train --train "$ROOT/examples/financial-sentiment/data/train.jsonl" --init tiny \
    --vocab "$ROOT/tests/data/vocab/bert-base-uncased/vocab.txt" --out "$MODEL" --epochs 1 \
    --max-length 32 >/dev/null
fi
serve() {  # NAME ARGS...: a server on its own database, with one key
  local name="$1"; shift
  KEY_SECRET="$("$MG" keys create --db "sqlite:$WORK/$name.db" --name bench --scopes classify)"
  echo "$KEY_SECRET" >"$WORK/$name.key"
  "$MG" serve --model "$MODEL" --db "sqlite:$WORK/$name.db" --port 0 --port-file "$WORK/$name.port" \
    --threads 1 --io-threads 1 --tokenization-workers 2 --log-level warn --privacy off "$@" \
    2>"$WORK/$name.log" &
  SERVERS+=($!)
  for _ in $(seq 600); do [[ -s "$WORK/$name.port" ]] && break; sleep 0.1; done
  [[ -s "$WORK/$name.port" ]] || { echo "error: $name did not start:"; cat "$WORK/$name.log"; exit 1; }
}
serve off
serve on --extraction-alarm --extraction-action none

# wrk_rps NAME: req/s at concurrency 1; every request a new sentence of
# 30 words drawn from 2,000 of the vocabulary's words.
wrk_rps() {
  sed -n '2000,3999p' "$ROOT/tests/data/vocab/bert-base-uncased/vocab.txt" | grep -E '^[a-z]+$' |
    awk 'BEGIN{printf "words = {"} {printf "%s\"%s\"", (NR>1?",":""), $0} END{print "}"}' >"$WORK/post.lua"
  cat >>"$WORK/post.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $(cat "$WORK/$1.key")"
request = function()
  local t = {}
  for i = 1, 30 do t[i] = words[math.random(#words)] end
  return wrk.format(nil, "/predict", nil, '{"inputs":"' .. table.concat(t, " ") .. '"}')
end
LUA
  wrk -t 1 -c 1 -d "${SECS}s" --timeout 30s -s "$WORK/post.lua" \
    "http://127.0.0.1:$(cat "$WORK/$1.port")" >"$WORK/wrk.txt"
  if grep -q "Non-2xx" "$WORK/wrk.txt"; then echo "error: failed requests" >&2; cat "$WORK/wrk.txt" >&2; exit 1; fi
  sed -n 's/^Requests\/sec:[[:space:]]*//p' "$WORK/wrk.txt"
}
off=""; on=""
for round in $(seq "$ROUNDS"); do
  off+=" $(wrk_rps off)"
  on+=" $(wrk_rps on)"
  echo "round $round: load $(cut -d' ' -f1-3 /proc/loadavg)"
done
/usr/bin/python3 - "$off" "$on" <<'PY'
import statistics, sys
off = [float(x) for x in sys.argv[1].split()]
on = [float(x) for x in sys.argv[2].split()]
print(f"alarm off req/s: median {statistics.median(off):.1f} ({' '.join(f'{x:.0f}' for x in off)})")
print(f"alarm on  req/s: median {statistics.median(on):.1f} ({' '.join(f'{x:.0f}' for x in on)})")
print(f"on/off: {statistics.median(on) / statistics.median(off):.3f}")
PY
curl -s "http://127.0.0.1:$(cat "$WORK/on.port")/metrics" | grep -E '^modelgate_extraction_(keys_tracked|alarms_total|shapiro_wilk_w_count)' || true
