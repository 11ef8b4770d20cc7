# wrk helpers for the server benchmarks; sourced, never run.
#
# wrk_post_script FILE TEXT: a wrk Lua script that POSTs {"inputs": TEXT,
#   "truncate": true} as JSON.
# wrk_measure URL SCRIPT SECONDS CONCURRENCY [API_KEY]: runs wrk against URL
#   and prints one JSON line {rps, mean_ms, p50_ms, p99_ms, errors}, where
#   errors counts non-2xx replies and socket errors.
# best_of PREVIOUS_JSON NEW_JSON: the one with the higher rps.

wrk_post_script() {
  cat >"$1" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"inputs":"$2","truncate":true}'
LUA
}

wrk_measure() {
  local url="$1" script="$2" secs="$3" conc="$4" key="${5:-}" out
  local auth=()
  [[ -n "$key" ]] && auth=(-H "Authorization: Bearer $key")
  out="$(mktemp)"
  wrk -t 2 -c "$conc" -d "${secs}s" --timeout 30s --latency -s "$script" "${auth[@]}" \
    "$url" >"$out"
  /usr/bin/python3 - "$out" <<'PY'
import json, re, sys
t = open(sys.argv[1]).read()
def ms(s):
    m = re.match(r"([\d.]+)(us|ms|s)", s)
    return float(m[1]) * {"us": 0.001, "ms": 1, "s": 1000}[m[2]]
pct = lambda p: ms(re.search(r"^\s*%d%%\s+(\S+)" % p, t, re.M)[1])
non2xx = int((re.search(r"Non-2xx or 3xx responses: (\d+)", t) or [0, 0])[1])
sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", t)
errors = non2xx + (sum(int(x) for x in sock.groups()) if sock else 0)
print(json.dumps({"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", t)[1]),
                  "mean_ms": ms(re.search(r"Latency\s+(\S+)", t)[1]),
                  "p50_ms": pct(50), "p99_ms": pct(99), "errors": errors}))
PY
  rm -f "$out"
}

best_of() {
  /usr/bin/python3 -c '
import json, sys
a = json.loads(sys.argv[1]) if sys.argv[1] else None
b = json.loads(sys.argv[2])
print(json.dumps(b if a is None or b["rps"] > a["rps"] else a))' "$1" "$2"
}
