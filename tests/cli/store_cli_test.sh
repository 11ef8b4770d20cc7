#!/usr/bin/env bash
# End-to-end: modelgate keys, usage and audit on SQLite and on a PostgreSQL
# server this script starts. Traffic comes from store_bench (the control
# plane's Admit/Finish, as the server calls them); `usage` must report what
# it counted, and `audit verify` must name the first tampered entry.
# Usage: store_cli_test.sh MODELGATE STORE_BENCH
set -uo pipefail
source "$(dirname "$0")/lib.sh" "$1"
source "$(dirname "$0")/pg_fixture.sh"
BENCH="$(realpath "$2")"
trap 'pg_stop; rm -rf "$TMP"' EXIT

out() { cat "$TMP/out"; }
err() { cat "$TMP/err"; }

# SQL straight into the database, to tamper with it: sqlite3 through Python,
# PostgreSQL through psql.
sql() {
  local db="$1" statement="$2"
  if [[ "$db" == sqlite:* ]]; then
    /usr/bin/python3 -c 'import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute(sys.argv[2]); c.commit()' \
      "${db#sqlite:}" "$statement"
  else
    local port="${db##*port=}"
    port="${port%%&*}"
    local name="${db#postgresql:///}"
    name="${name%%\?*}"
    pg_as_owner "$PG_BIN/psql" -q -h "$PG_DIR" -p "$port" -U postgres -d "$name" -c "$statement" >/dev/null
  fi
}

suite() {
  local db="$1" label="$2"
  echo "== $label"
  run keys create --db "$db" --name acme --scopes embed,classify --rpm 600 --quota-tokens 100000 \
    --budget 12.5 --expires 2099-01-01
  check "$label: create exits 0" [ "$(rc)" = 0 ]
  local secret
  secret="$(out)"
  check "$label: secret printed once, alone, as mg_ + 43 characters" \
    bash -c "[[ '$secret' =~ ^mg_[A-Za-z0-9_-]{43}$ ]]"
  check "$label: stderr says it is shown once" grep -q "shown only once" "$TMP/err"
  run keys create --db "$db" --name "x'; DROP TABLE api_keys; --" --scopes admin
  check "$label: injection-looking name stored as text" [ "$(rc)" = 0 ]
  run keys create --db "$db" --name acme
  check "$label: duplicate name refused" [ "$(rc)" != 0 ]
  check "$label: duplicate name message" grep -q "already exists" "$TMP/err"
  run keys create --db "$db" --name bad --scopes embed,root
  check "$label: unknown scope refused" grep -q "unknown scope 'root'" "$TMP/err"
  run keys create --db "$db" --name bad --expires 2026-02-30
  check "$label: bad date refused" grep -q "is not a date" "$TMP/err"
  run keys create --db "$db" --name bad --budget -3
  check "$label: negative budget refused" [ "$(rc)" != 0 ]
  check "$label: no crash on bad input" no_crash

  run keys list --db "$db"
  check "$label: list shows both keys" bash -c "grep -q acme '$TMP/out' && grep -q 'DROP TABLE' '$TMP/out'"
  check "$label: list never shows the secret" bash -c "! grep -q -- '${secret:3}' '$TMP/out'"
  run keys list --db "$db" --format json
  check "$label: list as JSON" /usr/bin/python3 -c \
    'import json,sys; k=json.load(open(sys.argv[1])); assert {x["name"] for x in k} == {"acme", "x'"'"'; DROP TABLE api_keys; --"}; assert [x for x in k if x["name"]=="acme"][0]["budget_usd"] == 12.5' "$TMP/out"

  run keys price --db "$db" --route /v1/embeddings --usd-per-1k 0.02
  check "$label: price set" [ "$(rc)" = 0 ]

  # Traffic through the control plane: 3 keys, 1 and 8 threads.
  "$BENCH" --db "$db" --threads 1,8 --requests 300 --tokens 50 --keys 3 >"$TMP/bench" 2>&1
  check "$label: traffic ran" grep -q "admitted=600 tokens=30000 failures=0 audit=intact" "$TMP/bench"

  run usage --db "$db" --format json
  check "$label: usage JSON totals equal the traffic" /usr/bin/python3 -c '
import json,sys
rows=[r for r in json.load(open(sys.argv[1])) if r["key"].startswith("bench-")]
assert sum(r["requests"] for r in rows)==600, rows
assert sum(r["tokens"] for r in rows)==30000, rows
assert abs(sum(r["cost_usd"] for r in rows)-0.6) < 1e-9, rows   # 50 tokens at $0.02/1k = $0.001
' "$TMP/out"
  run usage --db "$db" --format csv
  check "$label: usage CSV has a header and 3 rows" bash -c \
    "head -1 '$TMP/out' | grep -q '^key,key_id,period_start,requests' && [ \$(grep -c '^\"bench-' '$TMP/out') = 3 ]"
  run usage --db "$db" --by hour --since 2020-01-01
  check "$label: usage table" grep -q "REQUESTS" "$TMP/out"
  run usage --db "$db" --since yesterday
  check "$label: bad --since refused" [ "$(rc)" != 0 ]

  run keys revoke --db "$db" --name acme
  check "$label: revoke" [ "$(rc)" = 0 ]
  run keys revoke --db "$db" --name acme
  check "$label: revoking twice is an error" grep -q "already revoked" "$TMP/err"
  run keys revoke --db "$db" --name nobody
  check "$label: unknown key named" grep -q "no key named 'nobody'" "$TMP/err"

  run audit verify --db "$db"
  check "$label: chain intact" grep -q "audit chain intact" "$TMP/out"
  run audit export --db "$db" --output "$TMP/audit.jsonl"
  check "$label: export exit 0" [ "$(rc)" = 0 ]
  check "$label: export holds admin actions and requests" bash -c \
    "grep -q '\"action\":\"key.create\"' '$TMP/audit.jsonl' && grep -q '\"action\":\"key.revoke\"' '$TMP/audit.jsonl' && [ \$(grep -c '\"action\":\"request\"' '$TMP/audit.jsonl') = 600 ]"
  check "$label: audit never holds a secret" bash -c "! grep -q -- '${secret:3}' '$TMP/audit.jsonl'"

  # Tampering: edit entry 50, and the verifier names it.
  sql "$db" "UPDATE audit_log SET tokens = tokens + 1 WHERE seq = 50"
  run audit verify --db "$db"
  check "$label: edit detected (exit 1)" [ "$(rc)" = 1 ]
  check "$label: edit named" grep -q "audit entry 50: edited" "$TMP/err"
  run audit export --db "$db" --output "$TMP/bad.jsonl"
  check "$label: export of a broken chain fails" [ "$(rc)" != 0 ]
  check "$label: failed export leaves no file" [ ! -e "$TMP/bad.jsonl" ]
  sql "$db" "UPDATE audit_log SET tokens = tokens - 1 WHERE seq = 50"
  run audit verify --db "$db"
  check "$label: restored chain verifies" [ "$(rc)" = 0 ]
  sql "$db" "DELETE FROM audit_log WHERE seq = 77"
  run audit verify --db "$db"
  check "$label: deletion named" grep -q "audit entry 77: missing" "$TMP/err"
  check "$label: no crash" no_crash
}

suite "sqlite:$TMP/control.db" SQLite
check "no secret ever logged on stderr" bash -c "! grep -q 'mg_[A-Za-z0-9_-]\{43\}' <(grep -v '^mg_' '$TMP/all_output')"

run keys list --db "mysql://x"
check "unknown database scheme refused" grep -q "neither sqlite:PATH nor postgresql://" "$TMP/err"
run keys list --db "postgresql://nobody@127.0.0.1:1/none"
check "unreachable PostgreSQL is a clear error" grep -q "database unavailable" "$TMP/err"

pg_start
case $? in
  0) suite "$(pg_createdb mg_cli)" PostgreSQL ;;
  # `make deps` installs PostgreSQL: under CI its absence is a failure, not a skip.
  1) if [[ -n "${CI:-}" ]]; then check "PostgreSQL server binaries installed" false
     else echo "SKIP: PostgreSQL part (server binaries unavailable)"; fi ;;
  *) check "PostgreSQL test server starts" false ;;
esac
finish
