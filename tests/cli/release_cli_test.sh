#!/usr/bin/env bash
# End-to-end checks of keygen, release open, verify and license as a vendor
# and a customer run them: a signed open release verifies, and changing,
# adding or deleting any file is caught and named; the released folder
# embeds bit-identically to the original; licences round-trip; secret keys
# are mode 0600 and never shown.
#
# usage: tests/cli/release_cli_test.sh MODELGATE_BINARY
set -uo pipefail

source "$(dirname "$0")/lib.sh" "$1"
FIXTURE="$ROOT/tests/data/fixtures/tiny-bert-model-safetensors"

one_error_line() {
  [[ "$(rc)" != 0 && "$(head -c 7 "$TMP/err")" == "error: " && "$(wc -l <"$TMP/err")" == 1 ]] &&
    no_crash
}
err_has() { grep -qF -- "$1" "$TMP/err"; }
out_has() { grep -qF -- "$1" "$TMP/out"; }

# keygen: a signing pair, secret 0600, never overwritten.
run keygen --out "$TMP/vendor"
check "keygen exits 0" test "$(rc)" = 0
check "secret key mode 0600" test "$(stat -c %a "$TMP/vendor.key")" = 600
check "public key written" grep -q '"type":"ed25519-public"' "$TMP/vendor.pub"
KEY_ID="$(sed 's/.*"key_id":"\([0-9a-f]*\)".*/\1/' "$TMP/vendor.pub")"
check "key id printed" out_has "$KEY_ID"
run keygen --out "$TMP/vendor"
check "keygen refuses to overwrite" one_error_line
run keygen --out "$TMP/other"
run keygen --out "$TMP/deploy" --type deploy
check "deploy keygen" grep -q '"type":"x25519-public"' "$TMP/deploy.pub"
check "deploy secret mode 0600" test "$(stat -c %a "$TMP/deploy.key")" = 600

# release open → verify OK.
run release open --model "$FIXTURE" --out "$TMP/rel" --license Apache-2.0 --sign "$TMP/vendor.key" \
  --model-id tiny-bert --base-model google/bert_uncased_L-2_H-128_A-2
check "release open exits 0" test "$(rc)" = 0
for f in LICENSE README.md manifest.json manifest.sig config.json model.safetensors vocab.txt \
  1_Pooling/config.json; do
  check "release has $f" test -f "$TMP/rel/$f"
done
check "no temporary folder left" test -z "$(ls -A "$TMP" | grep partial)"
check "card front matter" grep -qx "pipeline_tag: feature-extraction" "$TMP/rel/README.md"
check "card base model" grep -qF 'base_model: "google/bert_uncased_L-2_H-128_A-2"' "$TMP/rel/README.md"
check "licence notice" grep -qF "https://spdx.org/licenses/Apache-2.0.html" "$TMP/rel/LICENSE"
check "manifest model id" grep -qF '"model_id": "tiny-bert"' "$TMP/rel/manifest.json"
run verify "$TMP/rel" --pub "$TMP/vendor.pub"
check "verify OK exits 0" test "$(rc)" = 0
check "verify OK says so" out_has "OK: open release of tiny-bert"
run verify "$TMP/rel/manifest.json" --pub "$TMP/vendor.pub"
check "verify via manifest.json path" test "$(rc)" = 0
run verify "$TMP/rel" --pub "$TMP/vendor.key"
check "secret key as --pub refused" one_error_line
run verify "$TMP/rel" --pub "$TMP/other.pub"
check "wrong key refused" one_error_line
check "wrong key named" err_has "signed by another key"
run release open --model "$FIXTURE" --out "$TMP/rel" --license MIT --sign "$TMP/vendor.key"
check "non-empty --out refused" one_error_line
run release open --model "$TMP/missing" --out "$TMP/rel2" --license MIT --sign "$TMP/vendor.key"
check "missing model refused" one_error_line
check "nothing left under --out" test ! -e "$TMP/rel2"

# The released folder embeds bit-identically to the original.
printf 'the quick brown fox\nrefund my order please\n' >"$TMP/in.txt"
run embed --model "$FIXTURE" --input "$TMP/in.txt" --output "$TMP/orig.jsonl"
run embed --model "$TMP/rel" --input "$TMP/in.txt" --output "$TMP/released.jsonl"
check "embed from release exits 0" test "$(rc)" = 0
check "embeddings bit-identical" cmp -s "$TMP/orig.jsonl" "$TMP/released.jsonl"
check "embeddings non-empty" test -s "$TMP/released.jsonl"

# Change one byte of the weights → refused, naming the file.
cp "$TMP/rel/model.safetensors" "$TMP/weights.bak"
printf '\x55' | dd of="$TMP/rel/model.safetensors" bs=1 seek=60000 conv=notrunc status=none
run verify "$TMP/rel" --pub "$TMP/vendor.pub"
check "changed byte refused" one_error_line
check "changed file named" err_has "model.safetensors: SHA-256 does not match"
cp "$TMP/weights.bak" "$TMP/rel/model.safetensors"
truncate -s -1 "$TMP/rel/model.safetensors"
run verify "$TMP/rel" --pub "$TMP/vendor.pub"
check "truncated file named" err_has "model.safetensors: size"
cp "$TMP/weights.bak" "$TMP/rel/model.safetensors"
run verify "$TMP/rel" --pub "$TMP/vendor.pub"
check "restored verifies" test "$(rc)" = 0

# Add a file → refused.
echo extra >"$TMP/rel/added.txt"
run verify "$TMP/rel" --pub "$TMP/vendor.pub"
check "added file refused" one_error_line
check "added file named" err_has "added.txt: not in the manifest"
rm "$TMP/rel/added.txt"

# Tampered manifest → refused.
cp "$TMP/rel/manifest.json" "$TMP/manifest.bak"
sed -i 's/tiny-bert/tiny-bert2/' "$TMP/rel/manifest.json"
run verify "$TMP/rel" --pub "$TMP/vendor.pub"
check "edited manifest refused" err_has "signature does not match"
cp "$TMP/manifest.bak" "$TMP/rel/manifest.json"

# Delete a file → refused.
rm "$TMP/rel/vocab.txt"
run verify "$TMP/rel" --pub "$TMP/vendor.pub"
check "deleted file refused" one_error_line
check "deleted file named" err_has "vocab.txt: missing"

# Licences: issue, show, verify; wrong key and tampering refused.
run license issue --sign "$TMP/vendor.key" --licensee "Acme Bank" --model tiny-bert \
  --expires 2099-12-31 --features classify,embed --max-requests 1000 --max-tokens-per-day 50000 \
  --out "$TMP/licence.json"
check "licence issue exits 0" test "$(rc)" = 0
run license show "$TMP/licence.json" --pub "$TMP/vendor.pub"
check "licence show exits 0" test "$(rc)" = 0
check "licence show licensee" out_has '"licensee": "Acme Bank"'
check "licence show limits" out_has '"max_tokens_per_day": 50000'
check "licence show says valid" err_has "signature: valid"
run license show "$TMP/licence.json"
check "licence show without key" err_has "not checked"
run verify "$TMP/licence.json" --pub "$TMP/vendor.pub"
check "licence verify exits 0" test "$(rc)" = 0
run verify "$TMP/licence.json" --pub "$TMP/other.pub"
check "licence wrong key refused" one_error_line
run license show "$TMP/licence.json" --pub "$TMP/other.pub"
check "licence show wrong key refused" one_error_line
sed 's/"signature":"A/"signature":"B/;t;s/"signature":"./"signature":"A/' \
  "$TMP/licence.json" >"$TMP/bad_licence.json"
check "licence was tampered" bash -c "! cmp -s '$TMP/licence.json' '$TMP/bad_licence.json'"
run verify "$TMP/bad_licence.json" --pub "$TMP/vendor.pub"
check "tampered licence refused" one_error_line
check "tampered licence reason" err_has "signature does not match"
head -c 100 "$TMP/licence.json" >"$TMP/short_licence.json"
run verify "$TMP/short_licence.json" --pub "$TMP/vendor.pub"
check "truncated licence refused" one_error_line
run license issue --sign "$TMP/vendor.key" --licensee X --model m --expires 2099-02-30 \
  --out "$TMP/bad_date.json"
check "bad date refused" one_error_line
check "no licence written on error" test ! -e "$TMP/bad_date.json"
run license issue --sign "$TMP/vendor.pub" --licensee X --model m --expires 2099-01-01 \
  --out "$TMP/pub_signed.json"
check "signing with a public key refused" one_error_line

# A passphrase-protected key: needed to sign, wrong one refused, never printed.
export MG_TEST_PASSPHRASE="correct horse battery staple"
run keygen --out "$TMP/locked" --passphrase-env MG_TEST_PASSPHRASE
check "locked keygen exits 0" test "$(rc)" = 0
check "locked key mode 0600" test "$(stat -c %a "$TMP/locked.key")" = 600
check "locked key encrypted" grep -q '"kdf":"argon2id13"' "$TMP/locked.key"
check "locked key has no plain key" bash -c "! grep -q '\"key\":' '$TMP/locked.key'"
run license issue --sign "$TMP/locked.key" --licensee X --model m --expires 2099-01-01 \
  --out "$TMP/locked_licence.json"
check "locked key needs passphrase" one_error_line
check "locked key says passphrase" err_has "passphrase"
MG_WRONG="wrong" run license issue --sign "$TMP/locked.key" --passphrase-env MG_WRONG \
  --licensee X --model m --expires 2099-01-01 --out "$TMP/locked_licence.json"
check "wrong passphrase refused" err_has "wrong passphrase"
run release open --model "$FIXTURE" --out "$TMP/rel_locked" --license MIT \
  --sign "$TMP/locked.key" --passphrase-env MG_TEST_PASSPHRASE
check "release with locked key" test "$(rc)" = 0
run verify "$TMP/rel_locked" --pub "$TMP/locked.pub"
check "locked release verifies" test "$(rc)" = 0
run license issue --sign "$TMP/locked.key" --passphrase-env MG_UNSET_VARIABLE --licensee X \
  --model m --expires 2099-01-01 --out "$TMP/locked_licence.json"
check "unset passphrase variable refused" one_error_line
check "passphrase never printed" bash -c "! grep -qF 'correct horse' '$TMP/all_output'"

# The secret never appears in any output.
SECRET="$(sed 's/.*"key":"\([^"]*\)".*/\1/' "$TMP/vendor.key")"
check "secret never printed" bash -c "! grep -qF -- '$SECRET' '$TMP/all_output'"
DEPLOY_SECRET="$(sed 's/.*"key":"\([^"]*\)".*/\1/' "$TMP/deploy.key")"
check "deploy secret never printed" bash -c "! grep -qF -- '$DEPLOY_SECRET' '$TMP/all_output'"

finish
