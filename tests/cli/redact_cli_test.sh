#!/usr/bin/env bash
# End-to-end checks of `modelgate redact` as a user runs it: every operator,
# text and JSON lines, the encrypt/decrypt round trip (byte for byte), keys
# from a file or the environment (never printed), the summary on stderr, and
# clear one-line errors with no partial output file.
#
# usage: tests/cli/redact_cli_test.sh MODELGATE_BINARY
set -uo pipefail

source "$(dirname "$0")/lib.sh" "$1"

one_error_line() {
  [[ "$(rc)" != 0 && "$(head -c 7 "$TMP/err")" == "error: " ]] &&
    no_crash
}

KEY_HEX=00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff
printf '%s\n' "$KEY_HEX" >"$TMP/key.hex"
printf 'ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100' >"$TMP/other.hex"

cat >"$TMP/in.txt" <<'TXT'
Contact john.doe@example.com or +1 (415) 555-2671.
Card 4111 1111 1111 1111, IBAN GB82 WEST 1234 5698 7654 32, SSN 460-89-9847.
身份证 11010519491231002X 手机 13812345678 统一社会信用代码 91350100M000100Y43
Server 192.168.1.20 says hi; version 1.2.3.4.5 is not an address.
no pii on this line
TXT
printf 'last line without newline a@example.com' >>"$TMP/in.txt"

# replace (default): types in angle brackets, layout kept, summary on stderr.
run redact --input "$TMP/in.txt" --output "$TMP/replaced.txt"
check "replace exits 0" test "$(rc)" = 0
check "replace email" grep -qF "Contact <EMAIL_ADDRESS> or <PHONE_NUMBER>." "$TMP/replaced.txt"
check "replace card iban ssn" grep -qF "Card <CREDIT_CARD>, IBAN <IBAN_CODE>, SSN <US_SSN>." "$TMP/replaced.txt"
check "replace chinese ids" grep -qF "身份证 <CN_RESIDENT_ID> 手机 <PHONE_NUMBER> 统一社会信用代码 <CN_USCC>" "$TMP/replaced.txt"
check "version number kept" grep -qF "version 1.2.3.4.5 is not" "$TMP/replaced.txt"
check "same line count" test "$(wc -l <"$TMP/replaced.txt")" = "$(wc -l <"$TMP/in.txt")"
check "no trailing newline added" test "$(tail -c 1 "$TMP/replaced.txt")" = ">"
check "summary counts" grep -q "EMAIL_ADDRESS *2" "$TMP/err"
check "summary never shows values" bash -c "! grep -q 'john.doe\|4111' '$TMP/err'"

# Each operator.
run redact --input "$TMP/in.txt" --operator redact
check "redact removes" grep -qF "Contact  or ." "$TMP/out"
run redact --input "$TMP/in.txt" --operator mask --mask-char '#' --mask-keep 4
check "mask keeps last 4" grep -qF "Card ###############1111," "$TMP/out"
run redact --input "$TMP/in.txt" --operator hash --key-file "$TMP/key.hex"
check "hash hex" grep -qE "Contact [0-9a-f]{64} or" "$TMP/out"
cp "$TMP/out" "$TMP/hash1"
run redact --input "$TMP/in.txt" --operator hash --key-file "$TMP/other.hex"
check "hash differs across keys" bash -c "! cmp -s '$TMP/out' '$TMP/hash1'"
run redact --input "$TMP/in.txt" --operator pseudonymize --key-file "$TMP/key.hex"
check "pseudonym email" grep -qE "Contact user-[0-9a-f]{6}@example.com or \+1 \([0-9]{3}\) [0-9]{3}-[0-9]{4}\." "$TMP/out"
cp "$TMP/out" "$TMP/p1"
MODELGATE_PRIVACY_KEY="$KEY_HEX" "$MG" redact --input "$TMP/in.txt" --operator pseudonymize >"$TMP/p2" 2>/dev/null
check "pseudonyms stable (key from env)" cmp -s "$TMP/p1" "$TMP/p2"

# encrypt then decrypt restores the file byte for byte.
run redact --input "$TMP/in.txt" --operator encrypt --key-file "$TMP/key.hex" --output "$TMP/enc.txt"
check "encrypt exits 0" test "$(rc)" = 0
check "encrypt hides values" bash -c "! grep -q 'john.doe\|4111 1111' '$TMP/enc.txt'"
check "encrypt tokens" grep -qF "<ENC:" "$TMP/enc.txt"
run redact --input "$TMP/enc.txt" --decrypt --key-file "$TMP/key.hex" --output "$TMP/dec.txt"
check "decrypt exits 0" test "$(rc)" = 0
check "round trip exact" cmp -s "$TMP/dec.txt" "$TMP/in.txt"
run redact --input "$TMP/enc.txt" --decrypt --key-file "$TMP/other.hex" --output "$TMP/never.txt"
check "decrypt with another key fails" one_error_line
check "no partial output on failure" test ! -e "$TMP/never.txt"
check "key never printed" bash -c "! grep -q '$KEY_HEX\|ffeeddcc' '$TMP/err'"

# JSON lines: only the field changes, every other byte stays.
printf '{"id": 1, "text": "mail a@example.com", "label": "x"}\n\n{"text":"none","meta":{"text":"b@example.com"}}\n' >"$TMP/in.jsonl"
run redact --input "$TMP/in.jsonl" --output "$TMP/out.jsonl"
check "jsonl exits 0" test "$(rc)" = 0
check "jsonl field rewritten" grep -qF '{"id": 1, "text": "mail <EMAIL_ADDRESS>", "label": "x"}' "$TMP/out.jsonl"
check "jsonl other fields untouched" grep -qF '"meta":{"text":"b@example.com"}' "$TMP/out.jsonl"
check "jsonl blank line kept" test "$(sed -n 2p "$TMP/out.jsonl")" = ""
printf '{"body": "call 415-555-2671", "text": "x"}\n' >"$TMP/body.jsonl"
run redact --input "$TMP/body.jsonl" --format jsonl --field body --entities PHONE_NUMBER
check "jsonl --field" grep -qF '"body": "call <PHONE_NUMBER>"' "$TMP/out"
run redact --input "$TMP/in.jsonl" --operator encrypt --key-file "$TMP/key.hex" --output "$TMP/enc.jsonl"
run redact --input "$TMP/enc.jsonl" --decrypt --key-file "$TMP/key.hex" --output "$TMP/dec.jsonl"
check "jsonl round trip" cmp -s "$TMP/dec.jsonl" "$TMP/in.jsonl"

# Entity filter and threshold.
run redact --input "$TMP/in.txt" --entities EMAIL_ADDRESS
check "entities filter keeps others" grep -qF "+1 (415) 555-2671" "$TMP/out"
run redact --input "$TMP/in.txt" --threshold 0.99
check "a high threshold keeps weaker findings" grep -qF "Server 192.168.1.20 says" "$TMP/out"
run redact --input "$TMP/in.txt" --threshold 1.5
check "threshold out of range" one_error_line

# Invalid UTF-8 and a long line are fine.
printf 'bad \xff\xfe bytes a@example.com \xc0\n' >"$TMP/bad.txt"
head -c 3000000 /dev/zero | tr '\0' 'x' >>"$TMP/bad.txt"
printf ' z@example.com\n' >>"$TMP/bad.txt"
run redact --input "$TMP/bad.txt" --output "$TMP/bad.out"
check "invalid utf-8 and long line" test "$(rc)" = 0
check "invalid bytes kept" grep -qaF $'bad \xff\xfe bytes <EMAIL_ADDRESS> \xc0' "$TMP/bad.out"
check "long line redacted" test "$(grep -c 'EMAIL_ADDRESS' "$TMP/bad.out")" = 2

# Values hidden by characters the BERT tokenizer drops or reads as others: a
# combining grapheme joiner, a variation selector, Arabic-Indic digits, an
# ideographic full stop, tag characters around a modelgate key with '-' and
# '_'. Each is replaced whole: nothing of it stays in clear.
printf 'mail jo\xcd\x8fhn@example.com, card 4111\xef\xb8\x8f1111 1111-1111, tel \xd9\xa1\xd9\xa3\xd9\xa8\xd9\xa1\xd9\xa2\xd9\xa3\xd9\xa4\xd9\xa5\xd9\xa6\xd9\xa7\xd9\xa8, host 192\xe3\x80\x82168.1.20, key \xf3\xa0\x80\x81mg_--__defghijABCDEFGHIJ0123456789abcdefghij__\xf3\xa0\x81\xbf\n' >"$TMP/hidden.txt"
run redact --input "$TMP/hidden.txt"
check "hidden values replaced whole" grep -qxF "mail <EMAIL_ADDRESS>, card <CREDIT_CARD>, tel <PHONE_NUMBER>, host <IP_ADDRESS>, key <SECRET>" "$TMP/out"

# Errors: one line, non-zero status, no output file.
run redact --input "$TMP/nowhere.txt" --output "$TMP/never.txt"
check "missing input" one_error_line
check "missing input names it" grep -q "nowhere" "$TMP/err"
run redact --input "$TMP/in.txt" --operator hash --output "$TMP/never.txt"
check "hash without key" one_error_line
check "hash without key says how" grep -q "key-file" "$TMP/err"
printf 'not a key' >"$TMP/bad.key"
run redact --input "$TMP/in.txt" --operator encrypt --key-file "$TMP/bad.key"
check "bad key file" one_error_line
check "bad key not echoed" bash -c "! grep -q 'not a key' '$TMP/err'"
run redact --input "$TMP/in.txt" --operator scramble
check "unknown operator" one_error_line
run redact --input "$TMP/in.txt" --entities EMAIL,PHONE
check "unknown entity" one_error_line
printf '{"text":"ok"}\n{"text": broken\n' >"$TMP/broken.jsonl"
run redact --input "$TMP/broken.jsonl" --output "$TMP/never.jsonl"
check "bad jsonl" one_error_line
check "bad jsonl names line 2" grep -q "line 2" "$TMP/err"
check "bad jsonl leaves no file" test ! -e "$TMP/never.jsonl"
run redact --input "$TMP/in.jsonl" --format csv
check "unknown format" one_error_line
run redact --help
check "help exits 0" test "$(rc)" = 0
check "help explains operators" grep -q "pseudonymize" "$TMP/out"

finish
