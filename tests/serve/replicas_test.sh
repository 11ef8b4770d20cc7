#!/usr/bin/env bash
# Two `modelgate serve` replicas behind nginx on one PostgreSQL (started here):
# 10,000 requests from 3 keys at concurrency 32. The ledger (modelgate usage)
# must equal what the clients received, the key with a quota must not go over
# it by more than one batch, and the audit chain must verify. Then one replica
# is killed with SIGKILL under load and restarted: the chain still verifies
# and every request a client got a 200 for is in the ledger.
# Usage: replicas_test.sh MODELGATE    (ctest -L replicas)
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
BIN="$(realpath "$1")"
MODEL="$ROOT/tests/data/fixtures/tiny-bert-model-safetensors"
PY=/usr/bin/python3
source "$HERE/../cli/pg_fixture.sh"
WORK="$(mktemp -d /tmp/mg-replicas-XXXXXX)"
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  pg_stop
  rm -rf "$WORK"
}
trap cleanup EXIT
free_port() { $PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
fail() { echo "FAIL: $*" >&2; exit 1; }

pg_start
DB="$PG_URL"
A=$("$BIN" keys create --db "$DB" --name alpha --scopes embed 2>/dev/null)
B=$("$BIN" keys create --db "$DB" --name beta --scopes embed --rpm 100000 2>/dev/null)
QUOTA=6000
C=$("$BIN" keys create --db "$DB" --name gamma --scopes embed --quota-tokens $QUOTA 2>/dev/null)

P1=$(free_port); P2=$(free_port); PN=$(free_port)
start_replica() {  # index port
  "$BIN" serve --model "$MODEL" --db "$DB" --port "$2" --log-level warn --threads 1 \
    >>"$WORK/replica$1.log" 2>&1 &
  PIDS+=($!)
  eval "R$1=$!"
  for _ in $(seq 200); do
    curl -sf "http://127.0.0.1:$2/health" >/dev/null 2>&1 && return 0
    sleep 0.05
  done
  fail "replica $1 did not start: $(tail -5 "$WORK/replica$1.log")"
}
start_replica 1 "$P1"
start_replica 2 "$P2"
mkdir -p "$WORK/nginx"
sed -e "s|__PREFIX__|$WORK/nginx|g" -e "s|__PORT__|$PN|" -e "s|__REPLICA1__|$P1|" \
  -e "s|__REPLICA2__|$P2|" "$ROOT/deploy/nginx.conf" >"$WORK/nginx/nginx.conf"
nginx -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf" -g "daemon off; pid $WORK/nginx/nginx.pid;" \
  >"$WORK/nginx/stdout.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PN/health" >/dev/null 2>&1 && break; sleep 0.05; done

echo "== 10000 requests, 3 keys, concurrency 32, through nginx"
$PY "$HERE/load_client.py" "127.0.0.1:$PN" 10000 32 "$A" "$B" "$C" >"$WORK/load1.json"
echo "== kill -9 of a replica under load"
$PY "$HERE/load_client.py" "127.0.0.1:$PN" 3000 32 "$A" "$B" >"$WORK/load2.json" &
LOAD=$!
sleep 2
kill -9 "$R1"
wait "$R1" 2>/dev/null || true
start_replica 1 "$P1"
wait "$LOAD"

"$BIN" usage --db "$DB" --format json >"$WORK/usage.json"
"$BIN" audit verify --db "$DB" || fail "audit chain does not verify"
$PY - "$WORK" "$QUOTA" <<'PYEOF'
import json, sys
work, quota = sys.argv[1], int(sys.argv[2])
names = {}
loads = [json.load(open(f"{work}/load{i}.json")) for i in (1, 2)]
order = ["alpha", "beta", "gamma"]
client = {n: {"ok": 0, "tokens": 0, "lost": 0} for n in order}
for load in loads:
    for i, (key, entry) in enumerate(load["keys"].items()):
        c = client[order[i]]
        c["ok"] += entry["statuses"].get("200", 0)
        c["tokens"] += entry["tokens"]
        c["lost"] += sum(v for s, v in entry["statuses"].items() if s not in ("200", "429"))
rows = json.load(open(f"{work}/usage.json"))
ledger = {n: {"ok": 0, "tokens": 0} for n in order}
for r in rows:
    ledger[r["key"]]["ok"] += r["requests"] - r["errors"]
    ledger[r["key"]]["tokens"] += r["tokens"]
print("load 1:", {order[i]: v["statuses"] for i, (k, v) in enumerate(loads[0]["keys"].items())},
      f"{loads[0]['throughput']:.0f} req/s")
print("load 2:", {order[i]: v["statuses"] for i, (k, v) in enumerate(loads[1]["keys"].items())})
print("client:", client)
print("ledger:", ledger)
bad = []
# Load 1 (no failures) for the quota key: exact; its tokens within the quota.
g1 = loads[0]["keys"][list(loads[0]["keys"])[2]]
if ledger["gamma"]["tokens"] > quota:
    bad.append(f"quota overshot: {ledger['gamma']['tokens']} > {quota}")
if g1["statuses"].get("429", 0) == 0:
    bad.append("the quota key was never refused")
for n in order:
    # Every 200 a client received is in the ledger; the ledger may also hold
    # requests answered to a connection the kill cut (client saw an error).
    if ledger[n]["ok"] < client[n]["ok"] or ledger[n]["ok"] > client[n]["ok"] + client[n]["lost"]:
        bad.append(f"{n}: ledger {ledger[n]['ok']} vs client {client[n]['ok']} (+{client[n]['lost']} lost)")
    if client[n]["lost"] == 0 and ledger[n]["tokens"] != client[n]["tokens"]:
        bad.append(f"{n}: ledger tokens {ledger[n]['tokens']} != client {client[n]['tokens']}")
# Without a failure every request is answered 200, or 429 by the quota.
if any(set(e["statuses"]) - {"200", "429"} for e in loads[0]["keys"].values()):
    bad.append("load 1 had failures")
for b in bad:
    print("FAIL:", b)
sys.exit(1 if bad else 0)
PYEOF
echo "replicas test passed"
