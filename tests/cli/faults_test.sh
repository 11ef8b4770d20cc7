#!/usr/bin/env bash
# Storage faults under the catalogue (`items`), training checkpoints
# (`train`) and release output (`release`): a full disk and a read-only
# disk (a small tmpfs, remounted read-only, in a private mount namespace),
# and SIGKILL at a random moment. After each: what was saved before is
# intact, no partial output is left under its final name, no temporary file
# is left that a later run would trip over, the error names the cause, and a
# rerun succeeds.
#
# Needs root (or CAP_SYS_ADMIN) for `unshare -m` and tmpfs mounts; without
# them it prints SKIP and exits 77 (CTest's SKIP_RETURN_CODE).
#
# usage: tests/cli/faults_test.sh MODELGATE_BINARY
set -uo pipefail

if [[ -z "${MG_FAULTS_IN_NAMESPACE:-}" ]]; then
  probe="$(mktemp -d)"
  if ! unshare -m bash -c 'mount -t tmpfs -o size=64k tmpfs "$1" && mount -o remount,ro "$1"' \
    _ "$probe" 2>/dev/null; then
    rmdir "$probe"
    echo "SKIP: cannot mount a tmpfs in a private mount namespace (needs root or CAP_SYS_ADMIN)"
    exit 77
  fi
  rmdir "$probe"
  MG_FAULTS_IN_NAMESPACE=1 exec unshare -m bash "$0" "$@"
fi
mount --make-rprivate / 2>/dev/null

source "$(dirname "$0")/lib.sh" "$1"
trap 'umount -l "$TMP"/disk-* 2>/dev/null; rm -rf "$TMP"' EXIT
MODEL="$ROOT/tests/data/fixtures/tiny-bert-model-safetensors"
VOCAB="$ROOT/tests/data/vocab/bert-base-uncased/vocab.txt"
export OMP_WAIT_POLICY=passive

err_has() { grep -qF -- "$1" "$TMP/err"; }
# No temporary files (ours: ".NAME.tmp-…", ".NAME.partial-…") anywhere under $1.
no_temp_files() { [[ -z "$(find "$1" -name '.*.tmp-*' -o -name '.*.partial-*' 2>/dev/null)" ]]; }

# disk NAME BYTES: a fresh tmpfs of BYTES at $TMP/disk-NAME.
disk() {
  mkdir -p "$TMP/disk-$1"
  mount -t tmpfs -o "size=$2" tmpfs "$TMP/disk-$1"
}
# fill DIR: takes every free byte of DIR's file system.
fill() {
  dd if=/dev/zero of="$1/.filler" bs=4k 2>/dev/null
  dd if=/dev/zero of="$1/.filler2" bs=512 2>/dev/null
  true
}
unfill() { rm -f "$1/.filler" "$1/.filler2"; }
read_only() { mount -o remount,ro "$1"; }
read_write() { mount -o remount,rw "$1"; }

# ---------------------------------------------------------------- catalogue
for i in $(seq 1 40); do printf '{"id":"a%d","text":"t%d t%d t%d"}\n' "$i" "$i" $((i + 7)) $((i + 9)); done >"$TMP/first.jsonl"
for i in $(seq 1 40); do printf '{"id":"b%d","text":"u%d u%d"}\n' "$i" "$i" $((i + 3)); done >"$TMP/second.jsonl"

disk cat 4m
IDX="$TMP/disk-cat/idx"
run items add --model "$MODEL" --index "$IDX" --input "$TMP/first.jsonl"
check "items: first batch saved" [ "$(rc)" = 0 ]
run items list --index "$IDX"
check "items: 40 listed" [ "$(grep -c . "$TMP/out")" = 40 ]
before="$(ls -A "$IDX")"

fill "$TMP/disk-cat"
run items add --model "$MODEL" --index "$IDX" --input "$TMP/second.jsonl"
check "items on a full disk: refused" [ "$(rc)" != 0 ]
check "items on a full disk: names the cause" err_has "No space left on device"
unfill "$TMP/disk-cat"
check "items on a full disk: no partial or temporary file" [ "$(ls -A "$IDX")" = "$before" ]
run items list --index "$IDX"
check "items on a full disk: the saved catalogue is intact" [ "$(grep -c . "$TMP/out")" = 40 ]

read_only "$TMP/disk-cat"
run items add --model "$MODEL" --index "$IDX" --input "$TMP/second.jsonl"
check "items on a read-only disk: refused" [ "$(rc)" != 0 ]
check "items on a read-only disk: names the cause" err_has "Read-only file system"
read_write "$TMP/disk-cat"
run items list --index "$IDX"
check "items on a read-only disk: the saved catalogue is intact" [ "$(grep -c . "$TMP/out")" = 40 ]

run items add --model "$MODEL" --index "$IDX" --input "$TMP/second.jsonl"
check "items: rerun after the faults succeeds" [ "$(rc)" = 0 ]
run items list --index "$IDX"
check "items: rerun saved both batches" [ "$(grep -c . "$TMP/out")" = 80 ]

# SIGKILL at growing delays: the catalogue opens with one batch or both.
for i in $(seq 1 300); do printf '{"id":"c%d","text":"v%d v%d v%d"}\n' "$i" "$i" $((i + 1)) $((i + 2)); done >"$TMP/third.jsonl"
for delay in 0.05 0.15 0.3 0.6; do
  "$MG" items add --model "$MODEL" --index "$IDX" --input "$TMP/third.jsonl" >/dev/null 2>&1 &
  pid=$!
  sleep "$delay"
  kill -KILL "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  run items list --index "$IDX"
  count="$(grep -c . "$TMP/out")"
  check "items killed after ${delay}s: opens with 80 or 380 items (got $count)" \
    bash -c "[ '$(rc)' = 0 ] && { [ '$count' = 80 ] || [ '$count' = 380 ]; }"
done
run items add --model "$MODEL" --index "$IDX" --input "$TMP/third.jsonl"
check "items: rerun after SIGKILL succeeds" [ "$(rc)" = 0 ]
check "items: no temporary file left after the rerun" no_temp_files "$IDX"
run items list --index "$IDX"
check "items: 380 after the rerun" [ "$(grep -c . "$TMP/out")" = 380 ]

# ----------------------------------------------------------------- training
make_data() {  # make_data FILE COUNT SEED
  awk -v n="$2" -v seed="$3" 'BEGIN {
    srand(seed);
    split("refund charged money invoice payment billing", pay, " ");
    split("crash error broken freezes bug fails", bug, " ");
    for (i = 0; i < n; i++) {
      k = int(rand() * 2); t = "";
      for (j = 0; j < 6; j++) t = t (k == 0 ? pay[int(rand() * 6) + 1] : bug[int(rand() * 6) + 1]) " ";
      printf "{\"text\":\"%s\",\"label\":\"%s\"}\n", t, k == 0 ? "billing" : "bug";
    }
  }' >"$1"
}
make_data "$TMP/train.jsonl" 160 1
TRAIN=(train --train "$TMP/train.jsonl" --init tiny --vocab "$VOCAB" --epochs 6 --batch-size 8
       --lr 1e-3 --max-length 32 --threads 2 --save-steps 10)

# The size a run needs, measured on the ordinary disk.
"$MG" "${TRAIN[@]}" --out "$TMP/sized" --keep-checkpoint >/dev/null 2>&1
need="$(du -sb "$TMP/sized" | cut -f1)"
check "train: a reference run succeeds" [ -s "$TMP/sized/checkpoint/trainer_state.safetensors" ]

# Stop after the first checkpoint (SIGTERM), fill the disk, resume: the next
# save fails naming the cause, and the checkpoint still resumes.
disk train $((need * 3))
OUT="$TMP/disk-train/run"
"$MG" "${TRAIN[@]}" --out "$OUT" >/dev/null 2>&1 &
pid=$!
for _ in $(seq 1 2000); do
  [ -e "$OUT/checkpoint/trainer_state.safetensors" ] && break
  sleep 0.02
done
kill -TERM "$pid"
wait "$pid"
check "train: stopped after its first checkpoint" [ -s "$OUT/checkpoint/trainer_state.safetensors" ]
fill "$TMP/disk-train"
run "${TRAIN[@]}" --out "$OUT" --resume
check "train on a full disk: refused" [ "$(rc)" != 0 ]
check "train on a full disk: names the cause" err_has "No space left on device"
unfill "$TMP/disk-train"
check "train on a full disk: no temporary file" no_temp_files "$OUT"
read_only "$TMP/disk-train"
run "${TRAIN[@]}" --out "$OUT" --resume
check "train on a read-only disk: refused" [ "$(rc)" != 0 ]
check "train on a read-only disk: names the cause" err_has "Read-only file system"
read_write "$TMP/disk-train"
run "${TRAIN[@]}" --out "$OUT" --resume
check "train: resume after the faults succeeds" [ "$(rc)" = 0 ]
check "train: same weights as the uninterrupted run" cmp -s "$OUT/model.safetensors" "$TMP/sized/model.safetensors"

# SIGKILL mid-run (perhaps mid-save), then --resume.
for delay in 0.3 0.9; do
  K="$TMP/killed-$delay"
  "$MG" "${TRAIN[@]}" --out "$K" >/dev/null 2>&1 &
  pid=$!
  for _ in $(seq 1 2000); do
    [ -e "$K/checkpoint/trainer_state.safetensors" ] && break
    sleep 0.02
  done
  sleep "$delay"
  kill -KILL "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  if [ -e "$K/checkpoint/trainer_state.safetensors" ]; then
    run "${TRAIN[@]}" --out "$K" --resume
  else  # the run had finished
    run "${TRAIN[@]}" --out "$TMP/killed-fresh-$delay"
    K="$TMP/killed-fresh-$delay"
  fi
  check "train killed after ${delay}s: the rerun succeeds" [ "$(rc)" = 0 ]
  check "train killed after ${delay}s: same weights" cmp -s "$K/model.safetensors" "$TMP/sized/model.safetensors"
  check "train killed after ${delay}s: no temporary file left" no_temp_files "$K"
done

# ----------------------------------------------------------------- releases
"$MG" keygen --out "$TMP/vendor" >/dev/null 2>&1
"$MG" keygen --out "$TMP/deploy" --type deploy >/dev/null 2>&1
model_bytes="$(du -sb "$MODEL" | cut -f1)"
disk rel $((model_bytes * 4))
REL="$TMP/disk-rel"
CLOSED=(release closed --model "$MODEL" --sign "$TMP/vendor.key" --to "$TMP/deploy.pub")
OPEN=(release open --model "$MODEL" --license MIT --sign "$TMP/vendor.key")

run "${CLOSED[@]}" --out "$REL/first.mgb"
check "release: a first bundle is written" [ "$(rc)" = 0 ]
first_sum="$(sha256sum <"$REL/first.mgb")"
fill "$REL"
run "${CLOSED[@]}" --out "$REL/c.mgb"
check "release closed on a full disk: refused" [ "$(rc)" != 0 ]
check "release closed on a full disk: names the cause" err_has "No space left on device"
run "${OPEN[@]}" --out "$REL/open"
check "release open on a full disk: refused" [ "$(rc)" != 0 ]
check "release open on a full disk: names the cause" err_has "No space left on device"
unfill "$REL"
check "release closed on a full disk: no partial bundle" [ ! -e "$REL/c.mgb" ]
check "release open on a full disk: no partial folder" [ ! -e "$REL/open" ]
check "release on a full disk: no temporary file" no_temp_files "$REL"
check "release on a full disk: the earlier bundle is intact" [ "$(sha256sum <"$REL/first.mgb")" = "$first_sum" ]
read_only "$REL"
run "${CLOSED[@]}" --out "$REL/c.mgb"
check "release closed on a read-only disk: names the cause" err_has "Read-only file system"
run "${OPEN[@]}" --out "$REL/open"
check "release open on a read-only disk: names the cause" err_has "Read-only file system"
read_write "$REL"
run "${CLOSED[@]}" --out "$REL/c.mgb"
check "release closed: rerun after the faults succeeds" [ "$(rc)" = 0 ]
run "${OPEN[@]}" --out "$REL/open"
check "release open: rerun after the faults succeeds" [ "$(rc)" = 0 ]

# SIGKILL at growing delays: the output is complete (it verifies) or absent,
# and a rerun succeeds and leaves no temporary file.
for delay in 0 0.01 0.03 0.1; do
  for kind in closed open; do
    out="$TMP/k-$kind-$delay"
    [ "$kind" = closed ] && cmd=("${CLOSED[@]}" --out "$out.mgb") || cmd=("${OPEN[@]}" --out "$out")
    "$MG" "${cmd[@]}" >/dev/null 2>&1 &
    pid=$!
    sleep "$delay"
    kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    target="$out"
    [ "$kind" = closed ] && target="$out.mgb"
    if [ -e "$target" ]; then
      run verify "$target" --pub "$TMP/vendor.pub"
      check "release $kind killed after ${delay}s: what is there verifies" [ "$(rc)" = 0 ]
    else
      run "${cmd[@]}"
      check "release $kind killed after ${delay}s: the rerun succeeds" [ "$(rc)" = 0 ]
    fi
    check "release $kind killed after ${delay}s: no temporary file left" \
      bash -c "! ls -A '$TMP' | grep -q '^\.k-$kind-$delay.*\.\(tmp\|partial\)-'"
  done
done

finish
