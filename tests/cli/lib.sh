# Shared harness of the end-to-end CLI tests; sourced, never run.
#
# After `source lib.sh "$1"`: MG is the modelgate binary, ROOT the source
# tree, TMP a scratch folder removed on exit. `run ARGS…` runs modelgate,
# keeping stdout, stderr and the status in $TMP/out, $TMP/err, $TMP/rc (and
# every output in $TMP/all_output, for checks that a secret never appeared);
# `check NAME COMMAND…` counts a pass or reports a failure; `finish` prints
# "N passed, N failed" and fails the test if anything failed.

MG="$(realpath "$1")"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
: >"$TMP/all_output"
passed=0
failed=0

check() {  # check NAME CONDITION...
  local name="$1"
  shift
  if "$@"; then
    passed=$((passed + 1))
  else
    echo "FAIL: $name"
    failed=$((failed + 1))
  fi
}

run() {
  "$MG" "$@" >"$TMP/out" 2>"$TMP/err"
  echo $? >"$TMP/rc"
  cat "$TMP/out" "$TMP/err" >>"$TMP/all_output"
}

rc() { cat "$TMP/rc"; }

# No crash report of any kind on stderr.
no_crash() { ! grep -qi "terminate\|abort\|exception\|segmentation\|AddressSanitizer" "$TMP/err"; }

finish() {
  echo "$passed passed, $failed failed"
  [[ $failed -eq 0 ]]
}
