#!/usr/bin/env bash
# End-to-end checks of `modelgate items` and `modelgate recommend` with the
# tiny test model: a catalogue is built, searched, changed and reopened, and
# bad input or damaged catalogue files get one clear error line.
#
# usage: tests/cli/recommend_cli_test.sh MODELGATE_BINARY
set -uo pipefail

source "$(dirname "$0")/lib.sh" "$1"
MODEL="$ROOT/tests/data/fixtures/tiny-bert-model-safetensors"
IDX="$TMP/idx"

one_error_line() {
  [[ "$(rc)" != 0 && "$(tail -n 1 "$TMP/err" | head -c 7)" == "error: " ]] && no_crash
}
lines() { [[ "$(grep -c . "$TMP/out")" == "$1" ]]; }

# Five lexical groups of 30 items: group g draws its words from t(5+50g)..t(54+50g).
node -e '
  let seed = 7; const rnd = (n) => (seed = (seed * 1103515245 + 12345) % 2147483648) % n;
  for (let g = 0; g < 5; g++) for (let i = 0; i < 30; i++) {
    const words = Array.from({length: 16}, () => "t" + (5 + 50 * g + rnd(50)));
    console.log(JSON.stringify({id: `g${g}-${i}`, text: words.join(" "), tags: [`group${g}`]}));
  }' >"$TMP/items.jsonl"

run items add --model "$MODEL" --index "$IDX" --input "$TMP/items.jsonl"
check "items add" test "$(rc)" = 0
check "items add counts" grep -q '"added":150' "$TMP/out"
run items list --index "$IDX"
check "items list" lines 150
check "list shows tags" grep -q '{"id":"g3-7","tags":\["group3"\]}' "$TMP/out"

# An item's own text as the query finds that item first, with cosine 1.
# (Group quality is checked in recommend_quality_test; this tiny model's
# random weights make single short queries a weak signal.)
text="$(grep '"id":"g2-4"' "$TMP/items.jsonl" | node -e 'console.log(JSON.parse(require("fs").readFileSync(0,"utf8")).text)')"
run recommend --model "$MODEL" --index "$IDX" --query "$text" --k 10
check "recommend by query" test "$(rc)" = 0
check "ten results" lines 10
check "the item itself first" bash -c "head -n 1 '$TMP/out' | grep -q '{\"id\":\"g2-4\",\"score\":\(1\|0.99999\)'"
check "scores descend" node -e '
  const s = require("fs").readFileSync(process.argv[1], "utf8").trim().split("\n").map((l) => JSON.parse(l).score);
  for (let i = 1; i < s.length; i++) if (s[i] > s[i - 1]) process.exit(1);' "$TMP/out"

# History by id, with the seen items left out, and a tag filter.
printf '{"id":"g4-1"}\n{"id":"g4-2"}\n{"id":"g4-3"}\n' >"$TMP/history.jsonl"
run recommend --model "$MODEL" --index "$IDX" --history-file "$TMP/history.jsonl" --k 5 --exclude-seen
check "history by id" lines 5
check "seen items excluded" bash -c "! grep -q '\"g4-[123]\"' '$TMP/out'"
run recommend --model "$MODEL" --index "$IDX" --history-file "$TMP/history.jsonl" --k 3
check "seen items kept without --exclude-seen" grep -q '"id":"g4-[123]"' "$TMP/out"
run recommend --model "$MODEL" --index "$IDX" --history-file "$TMP/history.jsonl" --k 50 --tags group0,group1
check "tag filter" test "$(grep -c '"id":"g[01]-' "$TMP/out")" = 50
run recommend --model "$MODEL" --index "$IDX" --query "t5 t6" --k 1000
check "k beyond the catalogue" lines 150

# Replace and delete without rebuilding; the folder reopens.
printf '{"id":"g0-0","text":"t200 t201 t202 t203","tags":["moved"]}\n' >"$TMP/replace.jsonl"
run items add --model "$MODEL" --index "$IDX" --input "$TMP/replace.jsonl"
check "replace counted" grep -q '"replaced":1' "$TMP/out"
run items delete --index "$IDX" --id g1-0 g1-1 nothing
check "delete" grep -q '{"deleted":2,"items":148}' "$TMP/out"
run recommend --model "$MODEL" --index "$IDX" --query "t5" --k 10 --tags moved
check "replaced item has its new tags" grep -q '"id":"g0-0"' "$TMP/out"
run recommend --model "$MODEL" --index "$IDX" --query "t55 t56" --k 1000
check "deleted items gone" bash -c "! grep -q '\"g1-[01]\"' '$TMP/out'"
check "one generation of files" test "$(ls "$IDX" | wc -l)" = 3

# Bad input and damaged catalogues.
printf '{"id":"a","text":"t5"}\n{"id":"a","text":"t6"}\n' >"$TMP/dup.jsonl"
run items add --model "$MODEL" --index "$IDX" --input "$TMP/dup.jsonl"
check "duplicate ids" one_error_line
check "duplicate names line" grep -q "line 2" "$TMP/err"
printf '{"id":"b"}\n' >"$TMP/notext.jsonl"
run items add --model "$MODEL" --index "$IDX" --input "$TMP/notext.jsonl"
check "missing text" one_error_line
printf '{"id":"c","text":"\xff"}\n' >"$TMP/badutf8.jsonl"
run items add --model "$MODEL" --index "$IDX" --input "$TMP/badutf8.jsonl"
check "invalid UTF-8" one_error_line
run recommend --model "$MODEL" --index "$IDX"
check "history or query required" one_error_line
run recommend --model "$MODEL" --index "$IDX" --query x --k 0
check "k out of range" one_error_line
printf '{"id":"no-such-item"}\n' >"$TMP/unknown.jsonl"
run recommend --model "$MODEL" --index "$IDX" --history-file "$TMP/unknown.jsonl"
check "unknown history id" one_error_line
run recommend --model "$MODEL" --index "$TMP/nowhere" --query x
check "missing catalogue" one_error_line
run items list --index "$IDX"
check "catalogue unchanged by failed adds" lines 148

cp -r "$IDX" "$TMP/trunc"
f="$(ls "$TMP/trunc"/index-*.hnsw)"
head -c 5000 "$f" >"$f.part" && mv "$f.part" "$f"
run recommend --model "$MODEL" --index "$TMP/trunc" --query x
check "truncated index" one_error_line
check "truncated index named" grep -q "truncated" "$TMP/err"
cp -r "$IDX" "$TMP/flip"
f="$(ls "$TMP/flip"/index-*.hnsw)"
printf '\x7f' | dd of="$f" bs=1 seek=3000 conv=notrunc 2>/dev/null
run items list --index "$TMP/flip"
check "damaged index" one_error_line
check "damaged index named" grep -q "checksum" "$TMP/err"
cp -r "$IDX" "$TMP/garbage"
echo '{"format":' >"$TMP/garbage/catalogue.json"
run items add --model "$MODEL" --index "$TMP/garbage" --input "$TMP/replace.jsonl"
check "garbage manifest" one_error_line

finish
