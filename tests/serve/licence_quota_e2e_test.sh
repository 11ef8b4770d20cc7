#!/usr/bin/env bash
# Runs licence_quota_e2e_test.py, with a PostgreSQL server started here
# (tests/cli/pg_fixture.sh) for the part on a shared database.
# Usage: licence_quota_e2e_test.sh MODELGATE
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
source "$HERE/../cli/pg_fixture.sh"
trap 'pg_stop' EXIT
pg_start
/usr/bin/python3 "$HERE/licence_quota_e2e_test.py" "$1" "$PG_URL"
