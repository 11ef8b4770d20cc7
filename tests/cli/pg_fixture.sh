# A throwaway PostgreSQL server for tests and benchmarks; sourced, never run.
#
# `pg_start` runs initdb and pg_ctl from $MG_PG_BIN (default
# /usr/lib/postgresql/15/bin) with its data and Unix socket in a new folder
# under /tmp, on a free port, as the postgres user when run as root
# (PostgreSQL refuses root), and sets PG_URL to a libpq URI for its
# "postgres" database. Returns 1 when the binaries are missing and 2 when
# they are there but the server does not start (says why in both cases). `pg_createdb NAME` makes a
# database and prints its URI; `pg_stop` stops the server and removes its folder. Callers stop it
# from their EXIT trap.

PG_BIN="${MG_PG_BIN:-/usr/lib/postgresql/15/bin}"
PG_DIR=""
PG_URL=""

pg_as_owner() {
  if [[ $(id -u) -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}

pg_start() {
  if [[ ! -x "$PG_BIN/initdb" || ! -x "$PG_BIN/pg_ctl" ]]; then
    echo "PostgreSQL server binaries not found in $PG_BIN" >&2
    return 1
  fi
  PG_DIR="$(mktemp -d /tmp/mg-pg-XXXXXX)"
  [[ $(id -u) -eq 0 ]] && chown postgres "$PG_DIR"
  local port
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  pg_as_owner "$PG_BIN/initdb" -D "$PG_DIR/data" -U postgres -A trust --no-sync -E UTF8 \
    >"$PG_DIR/initdb.log" 2>&1 || { echo "initdb failed: $PG_DIR/initdb.log" >&2; return 2; }
  pg_as_owner "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 60 \
    -o "-k $PG_DIR -p $port -c listen_addresses='' -c max_connections=300 ${PG_EXTRA_OPTIONS:-}" \
    start >/dev/null || { echo "pg_ctl start failed: $PG_DIR/server.log" >&2; return 2; }
  PG_URL="postgresql:///postgres?host=$PG_DIR&port=$port&user=postgres"
}

pg_createdb() {
  local port="${PG_URL##*port=}"
  port="${port%%&*}"
  pg_as_owner "$PG_BIN/psql" -q -h "$PG_DIR" -p "$port" -U postgres -d postgres \
    -c "CREATE DATABASE $1" >/dev/null || return 1
  echo "postgresql:///$1?host=$PG_DIR&port=$port&user=postgres"
}

pg_stop() {
  [[ -n "$PG_DIR" && -d "$PG_DIR" ]] || return 0
  pg_as_owner "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -w -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$PG_DIR"
  PG_DIR=""
}
