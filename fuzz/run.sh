#!/usr/bin/env bash
# Runs every harness of a fuzz build (`make fuzz`) one after another, each for
# SECONDS on its seeds plus the corpus it grew in earlier runs.
#
# usage: fuzz/run.sh BUILD_DIR SECONDS [NAME...]
# Grown corpora: BUILD_DIR/corpus/NAME; crash inputs: BUILD_DIR/crashes.
# Exits non-zero when any harness found a crash, a leak or undefined behaviour.
set -uo pipefail

build="$1"
seconds="$2"
shift 2
root="$(cd "$(dirname "$0")/.." && pwd)"
mkdir -p "$build/crashes"
failed=()
while read -r name dict; do
  [[ -z "$name" ]] && continue
  if [[ $# -gt 0 && ! " $* " =~ " $name " ]]; then continue; fi
  mkdir -p "$build/corpus/$name"
  echo "== $name: ${seconds}s"
  # shellcheck disable=SC2086  # $dict is empty or one flag
  if ! "$build/fuzz/${name}_fuzzer" -max_total_time="$seconds" -max_len=65536 -print_final_stats=1 \
      -artifact_prefix="$build/crashes/$name-" $dict "$build/corpus/$name" "$root/fuzz/corpus/$name" \
      2>"$build/crashes/$name.log"; then
    failed+=("$name")
    tail -n 40 "$build/crashes/$name.log"
  fi
  grep -E "^stat::(number_of_executed_units|peak_rss_mb)" "$build/crashes/$name.log" || true
done <"$build/fuzz/fuzzers.txt"
if [[ ${#failed[@]} -gt 0 ]]; then
  echo "failed: ${failed[*]} (inputs in $build/crashes)"
  exit 1
fi
echo "no crash"
