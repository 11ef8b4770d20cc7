# Shared by the scenario scripts (examples/*/run.sh); sourced, never run,
# with ROOT set to the project's root.
#
# scenario_setup NAME [MODELGATE_BINARY] [WORK_DIR]
#                      sets MG (default build/apps/modelgate/modelgate) and
#                      WORK (default out/NAME), empties WORK and changes into
#                      it, sets `started` for the closing time.
# section TITLE        prints a "== TITLE" heading.
# start_server ARGS... runs `$MG serve ARGS... --port 0 --port-file port
#                      --log-level warn` in the background (log in server.log),
#                      waits until it listens and sets URL; a server that
#                      exits instead shows its log and ends the script.
# stop_server          SIGTERM, then waits for it (also run at exit).

scenario_setup() {
  MG="$(realpath "${2:-$ROOT/build/apps/modelgate/modelgate}")"
  WORK="${3:-$ROOT/out/$1}"
  export OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-passive}"
  rm -rf "$WORK"
  mkdir -p "$WORK"
  WORK="$(realpath "$WORK")"
  cd "$WORK"
  started=$(date +%s)
}

section() { printf '\n== %s\n' "$*"; }

SERVER_PID=""
stop_server() {
  if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID"
    wait "$SERVER_PID" || true
  fi
  SERVER_PID=""
}
trap stop_server EXIT

start_server() {
  rm -f port
  "$MG" serve "$@" --port 0 --port-file port --log-level warn >server.log 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 1 300); do
    [[ -s port ]] && break
    kill -0 "$SERVER_PID" 2>/dev/null || { cat server.log; exit 1; }
    sleep 0.1
  done
  [[ -s port ]] || { echo "the server did not start in 30 s"; cat server.log; exit 1; }
  URL="http://127.0.0.1:$(cat port)"
}
