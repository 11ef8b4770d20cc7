#!/usr/bin/env bash
# Runs gate_e2e_test.py against a SQLite file and against a PostgreSQL server
# started here (tests/cli/pg_fixture.sh), which the test stops and restarts.
# Usage: gate_e2e_test.sh MODELGATE
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
BIN="$1"
source "$HERE/../cli/pg_fixture.sh"
WORK="$(mktemp -d /tmp/mg-gate-XXXXXX)"
trap 'pg_stop; rm -rf "$WORK"' EXIT

echo "== SQLite"
/usr/bin/python3 "$HERE/gate_e2e_test.py" "$BIN" "sqlite:$WORK/cp.db"
echo "== PostgreSQL"
pg_start
[[ $(id -u) -eq 0 ]] && chmod 755 "$PG_DIR"
/usr/bin/python3 "$HERE/gate_e2e_test.py" "$BIN" "$PG_URL" "$PG_DIR"
