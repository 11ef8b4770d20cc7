#!/usr/bin/env bash
# The control plane's cost per request on both backends, side by side:
# Admit + Finish at 1 and 32 threads on a SQLite file and on a PostgreSQL
# server started here (durable defaults: fsync and synchronous_commit on),
# both on this machine's disk.
# Usage: bench/store_bench.sh [BUILD_DIR] [REQUESTS]
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD="${1:-build}"
REQUESTS="${2:-6000}"
BENCH="$BUILD/bench/store_bench"
source tests/cli/pg_fixture.sh
WORK="$(mktemp -d)"
trap 'pg_stop; rm -rf "$WORK"' EXIT

echo "== SQLite (WAL, synchronous=NORMAL)"
"$BENCH" --db "sqlite:$WORK/bench.db" --threads 1,32 --requests "$REQUESTS"
if pg_start; then
  echo "== PostgreSQL 15 (unix socket)"
  "$BENCH" --db "$(pg_createdb mg_bench)" --threads 1,32 --requests "$REQUESTS"
else
  echo "PostgreSQL unavailable; skipped"
fi
