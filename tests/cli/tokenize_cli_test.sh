#!/usr/bin/env bash
# End-to-end checks of `modelgate tokenize` as a user runs it: output shape,
# input formats, and clear one-line errors (never a crash, never a partial
# output file) for bad input.
#
# usage: tests/cli/tokenize_cli_test.sh MODELGATE_BINARY
set -uo pipefail

source "$(dirname "$0")/lib.sh" "$1"
VOCAB="$ROOT/tests/data/vocab/bert-base-uncased"

one_error_line() {
  [[ "$(rc)" != 0 && "$(wc -l <"$TMP/err")" -ge 1 && "$(head -c 7 "$TMP/err")" == "error: " ]] &&
    no_crash
}

# A single text: the documented JSON shape with byte offsets.
run tokenize --model "$VOCAB" --text "Héllo world"
check "single text exits 0" test "$(rc)" = 0
check "single text output" grep -qF '{"ids":[101,7592,2088,102],"tokens":["[CLS]","hello","world","[SEP]"],"type_ids":[0,0,0,0],"offsets":[[0,0],[0,6],[7,12],[0,0]]}' "$TMP/out"

# --fields: only the fields asked for, always in the documented order.
run tokenize --model "$VOCAB" --text "Héllo world" --fields ids
check "fields ids" grep -qxF '{"ids":[101,7592,2088,102]}' "$TMP/out"
run tokenize --model "$VOCAB" --text "Héllo world" --fields offsets,tokens
check "fields offsets,tokens" grep -qxF '{"tokens":["[CLS]","hello","world","[SEP]"],"offsets":[[0,0],[0,6],[7,12],[0,0]]}' "$TMP/out"
printf '%s\n' '{"text":"one","id":"a\\b"}' >"$TMP/id.jsonl"
run tokenize --model "$VOCAB" --input "$TMP/id.jsonl" --fields type_ids
check "fields keep the record id" grep -qxF '{"id":"a\\b","type_ids":[0,0,0]}' "$TMP/out"
run tokenize --model "$VOCAB" --text x --fields ids,spelling
check "unknown field" one_error_line
check "unknown field named" grep -q "spelling" "$TMP/err"
run tokenize --model "$VOCAB" --text x --fields ""
check "no field" one_error_line

# A pair with truncation.
run tokenize --model "$VOCAB/vocab.txt" --text "a b c d e" --pair "f g" --max-length 6
check "pair output" grep -qF '"ids":[101,1037,1038,102,1042,102]' "$TMP/out"

# JSON lines, CSV and plain text input.
printf '{"text":"one"}\n\n{"text":"two","text_pair":"three"}\n' >"$TMP/in.jsonl"
run tokenize --model "$VOCAB" --input "$TMP/in.jsonl" --output "$TMP/o.jsonl"
check "jsonl exits 0" test "$(rc)" = 0
check "jsonl writes one line per record" test "$(wc -l <"$TMP/o.jsonl")" = 2
printf 'id,text\n1,"hello, ""world"""\n2,"multi\nline"\n' >"$TMP/in.csv"
run tokenize --model "$VOCAB" --input "$TMP/in.csv"
check "csv exits 0" test "$(rc)" = 0
check "csv keeps ids" grep -q '"id":"2"' "$TMP/out"
printf 'first line\nsecond line\n' >"$TMP/in.txt"
run tokenize --model "$VOCAB" --input "$TMP/in.txt"
check "text lines" test "$(wc -l <"$TMP/out")" = 2

# Lone surrogate escapes read as U+FFFD (removed), not as an error.
printf '{"text":"a\\ud800b"}\n' >"$TMP/sur.jsonl"
run tokenize --model "$VOCAB" --input "$TMP/sur.jsonl"
check "lone surrogate accepted" test "$(rc)" = 0
check "lone surrogate removed" grep -qF '"tokens":["[CLS]","ab","[SEP]"]' "$TMP/out"

# Invalid UTF-8 on the command line is tokenised with the bad bytes dropped.
run tokenize --model "$VOCAB" --text $'ok\xff\xfeyes'
check "invalid utf-8 text" grep -qF '"tokens":["[CLS]","ok","##yes","[SEP]"],"type_ids":[0,0,0,0],"offsets":[[0,0],[0,2],[4,7],[0,0]]' "$TMP/out"

# Errors: one clear line, non-zero status, no output file left behind.
run tokenize --model "$TMP/nowhere" --text x
check "missing model" one_error_line
check "missing model names path" grep -q "nowhere" "$TMP/err"
printf '{"text":"ok"}\n{"text": broken\n' >"$TMP/bad.jsonl"
run tokenize --model "$VOCAB" --input "$TMP/bad.jsonl" --output "$TMP/never.jsonl"
check "bad jsonl" one_error_line
check "bad jsonl names line 2" grep -q "line 2" "$TMP/err"
check "no partial output" test ! -e "$TMP/never.jsonl"
printf '{"label":"x"}\n' >"$TMP/notext.jsonl"
run tokenize --model "$VOCAB" --input "$TMP/notext.jsonl"
check "record without text" one_error_line
printf '[UNK]\n\xff\n' >"$TMP/badvocab.txt"
run tokenize --model "$TMP/badvocab.txt" --text x
check "corrupt vocab" one_error_line
run tokenize --model "$VOCAB" --text x --max-length 1
check "max length too small" one_error_line
run tokenize --model "$VOCAB"
check "neither text nor input" one_error_line
run tokenize --model "$VOCAB" --text x --input "$TMP/in.txt"
check "both text and input" one_error_line
run tokenize --text x
check "missing --model" one_error_line
run tokenize --help
check "help exits 0" test "$(rc)" = 0
check "help explains offsets" grep -q "offsets" "$TMP/out"

finish
