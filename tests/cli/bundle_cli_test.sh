#!/usr/bin/env bash
# End-to-end checks of closed and hybrid releases as a vendor and a customer
# run them: a closed bundle and a hybrid pair classify and embed
# bit-identically to the original folder; verify checks a bundle's
# signature without the deployment key; a flipped byte in each region
# (header, metadata, sealed key, ciphertext, tag, signature), truncation, a
# downgraded version, another deployment key, another vendor key, a missing,
# foreign or expired licence, and another base are each refused with one
# error line and no output; no command leaves the decrypted weights on disk.
#
# usage: tests/cli/bundle_cli_test.sh MODELGATE_BINARY
set -uo pipefail

source "$(dirname "$0")/lib.sh" "$1"
FIXTURE="$ROOT/tests/data/fixtures/tiny-bert-model-safetensors"
export TMPDIR="$TMP/tmpdir"
mkdir -p "$TMPDIR"

# One "error: " line (beside "note: " lines), no output, no crash.
one_error_line() {
  [[ "$(rc)" != 0 && "$(grep -c '^error: ' "$TMP/err")" == 1 ]] &&
    [[ "$(grep -vc '^\(error\|note\): ' "$TMP/err")" == 0 ]] && no_crash && [[ ! -s "$TMP/out" ]]
}
lacks() { ! "$@"; }
err_has() { grep -qF -- "$1" "$TMP/err"; }

python3 "$ROOT/tests/cli/make_classifier.py" "$FIXTURE" "$TMP/cls" >/dev/null
run keygen --out "$TMP/vendor"
run keygen --out "$TMP/other"
run keygen --out "$TMP/deploy" --type deploy
run keygen --out "$TMP/deploy2" --type deploy
printf 'the quick brown fox\nrefund my order please\n' >"$TMP/in.txt"

# Closed: release, verify, bit-identical outputs.
run release closed --model "$TMP/cls" --out "$TMP/c.mgb" --sign "$TMP/vendor.key" \
  --to "$TMP/deploy.pub" --model-id spam-filter
check "release closed exits 0" test "$(rc)" = 0
run release closed --model "$TMP/cls" --out "$TMP/c.mgb" --sign "$TMP/vendor.key" --to "$TMP/deploy.pub"
check "release closed refuses to overwrite" one_error_line
run verify "$TMP/c.mgb" --pub "$TMP/vendor.pub"
check "verify bundle exits 0" test "$(rc)" = 0
check "verify bundle says so" grep -qF "OK: closed bundle of spam-filter" "$TMP/out"
run verify "$TMP/c.mgb" --pub "$TMP/other.pub"
check "bundle signed by another key refused" one_error_line
check "another key named" err_has "signed by another key"
check "metadata in the clear" grep -qF '"model_id":"spam-filter"' "$TMP/c.mgb"
check "weights not in the clear" lacks grep -qF "classifier.weight" "$TMP/c.mgb"

run classify --model "$TMP/cls" --input "$TMP/in.txt" --output "$TMP/orig_cls.jsonl"
run classify --model "$TMP/c.mgb" --key "$TMP/deploy.key" --vendor-pub "$TMP/vendor.pub" \
  --input "$TMP/in.txt" --output "$TMP/closed_cls.jsonl"
check "classify from bundle exits 0" test "$(rc)" = 0
check "classify from bundle bit-identical" cmp -s "$TMP/orig_cls.jsonl" "$TMP/closed_cls.jsonl"
check "classify output non-empty" test -s "$TMP/closed_cls.jsonl"
run embed --model "$TMP/cls" --input "$TMP/in.txt" --output "$TMP/orig_emb.jsonl"
run embed --model "$TMP/c.mgb" --key "$TMP/deploy.key" --input "$TMP/in.txt" \
  --output "$TMP/closed_emb.jsonl"
check "embed from bundle bit-identical" cmp -s "$TMP/orig_emb.jsonl" "$TMP/closed_emb.jsonl"
run embed --model "$TMP/c.mgb" --input "$TMP/in.txt"
check "bundle without --key refused" one_error_line
check "names --key" err_has "--key"
run embed --model "$TMP/c.mgb" --key "$TMP/deploy2.key" --input "$TMP/in.txt"
check "another deployment key refused" one_error_line
check "another deployment key named" err_has "sealed to another deployment key"
run embed --model "$TMP/c.mgb" --key "$TMP/deploy.pub" --input "$TMP/in.txt"
check "public key as --key refused" one_error_line

# Every region of the bundle: flip one byte, and truncate.
META_LEN=$(python3 -c "import struct,sys; print(struct.unpack('<Q', open(sys.argv[1],'rb').read()[16:24])[0])" "$TMP/c.mgb")
SIZE=$(stat -c %s "$TMP/c.mgb")
SEALED=$((24 + META_LEN))
PAYLOAD=$((SEALED + 80))
declare -A REGION=(
  [magic]=2 [version]=8 [flags]=13 [metadata-length]=17 [metadata]=$((24 + META_LEN / 2))
  [sealed-key]=$((SEALED + 40)) [stream-header]=$((PAYLOAD + 5)) [ciphertext]=$((PAYLOAD + 1000))
  [tag]=$((SIZE - 64 - 3)) [signature]=$((SIZE - 10)))
for name in "${!REGION[@]}"; do
  cp "$TMP/c.mgb" "$TMP/t.mgb"
  python3 -c "import sys; p=int(sys.argv[2]); b=bytearray(open(sys.argv[1],'rb').read()); b[p]^=0x20; open(sys.argv[1],'wb').write(b)" "$TMP/t.mgb" "${REGION[$name]}"
  run verify "$TMP/t.mgb" --pub "$TMP/vendor.pub"
  check "flipped $name byte refused by verify" one_error_line
  run classify --model "$TMP/t.mgb" --key "$TMP/deploy.key" --input "$TMP/in.txt"
  check "flipped $name byte refused by classify" one_error_line
done
for cut in 7 20 $((SEALED + 10)) $((PAYLOAD + 100)) $((SIZE - 1)); do
  head -c "$cut" "$TMP/c.mgb" >"$TMP/t.mgb"
  run classify --model "$TMP/t.mgb" --key "$TMP/deploy.key" --input "$TMP/in.txt"
  check "truncated at $cut refused" one_error_line
done
cp "$TMP/c.mgb" "$TMP/t.mgb"
printf '\x00' | dd of="$TMP/t.mgb" bs=1 seek=8 conv=notrunc status=none
run verify "$TMP/t.mgb" --pub "$TMP/vendor.pub"
check "downgraded version refused" one_error_line
check "downgrade named" err_has "format version 0 is not supported"

# A folder with PyTorch weights (pytorch_model.bin): the bundle carries them as one
# model.safetensors, and outputs stay bit-identical.
BIN_FIXTURE="$ROOT/tests/data/fixtures/tiny-bert-ner-pytorch-bin"
run release closed --model "$BIN_FIXTURE" --out "$TMP/bin.mgb" --sign "$TMP/vendor.key" \
  --to "$TMP/deploy.pub" --model-id ner
check "release closed of pytorch_model.bin exits 0" test "$(rc)" = 0
check "conversion noted" grep -q "converted pytorch_model.bin to model.safetensors" "$TMP/err"
run embed --model "$BIN_FIXTURE" --input "$TMP/in.txt" --output "$TMP/bin_orig.jsonl"
run embed --model "$TMP/bin.mgb" --key "$TMP/deploy.key" --input "$TMP/in.txt" \
  --output "$TMP/bin_closed.jsonl"
check "pytorch_model.bin bundle embeds bit-identically" cmp -s "$TMP/bin_orig.jsonl" "$TMP/bin_closed.jsonl"
mkdir -p "$TMP/noweights" && cp "$BIN_FIXTURE/config.json" "$BIN_FIXTURE/vocab.txt" "$TMP/noweights/"
run release closed --model "$TMP/noweights" --out "$TMP/nw.mgb" --sign "$TMP/vendor.key" \
  --to "$TMP/deploy.pub"
check "folder without weights refused" one_error_line
check "missing weights named" err_has "has no readable weights"

# Licences: required by the release, checked against the pinned key and the clock.
run release closed --model "$TMP/cls" --out "$TMP/lic.mgb" --sign "$TMP/vendor.key" \
  --to "$TMP/deploy.pub" --model-id spam-filter --require-license
run classify --model "$TMP/lic.mgb" --key "$TMP/deploy.key" --input "$TMP/in.txt"
check "licence required" one_error_line
check "licence requirement named" err_has "requires a licence"
run license issue --sign "$TMP/vendor.key" --licensee ACME --model spam-filter --expires 2099-12-31 \
  --features classify --out "$TMP/good.lic"
run license issue --sign "$TMP/vendor.key" --licensee ACME --model other-model --expires 2099-12-31 \
  --out "$TMP/foreign.lic"
run license issue --sign "$TMP/other.key" --licensee ACME --model spam-filter --expires 2099-12-31 \
  --out "$TMP/forged.lic"
run classify --model "$TMP/lic.mgb" --key "$TMP/deploy.key" --license "$TMP/good.lic" \
  --vendor-pub "$TMP/vendor.pub" --input "$TMP/in.txt" --output "$TMP/lic_cls.jsonl"
check "licensed classify exits 0" test "$(rc)" = 0
check "licensed classify bit-identical" cmp -s "$TMP/orig_cls.jsonl" "$TMP/lic_cls.jsonl"
run embed --model "$TMP/lic.mgb" --key "$TMP/deploy.key" --license "$TMP/good.lic" \
  --vendor-pub "$TMP/vendor.pub" --input "$TMP/in.txt"
check "feature not licensed refused" one_error_line
run classify --model "$TMP/lic.mgb" --key "$TMP/deploy.key" --license "$TMP/foreign.lic" \
  --vendor-pub "$TMP/vendor.pub" --input "$TMP/in.txt"
check "licence for another model refused" one_error_line
run classify --model "$TMP/lic.mgb" --key "$TMP/deploy.key" --license "$TMP/forged.lic" \
  --vendor-pub "$TMP/vendor.pub" --input "$TMP/in.txt"
check "licence by another key refused" one_error_line
run classify --model "$TMP/lic.mgb" --key "$TMP/deploy.key" --license "$TMP/good.lic" \
  --vendor-pub "$TMP/other.pub" --input "$TMP/in.txt"
check "bundle by another vendor refused" one_error_line

# Hybrid: open base + closed head, hash-bound.
run release hybrid --model "$TMP/cls" --base-out "$TMP/base" --head-out "$TMP/head.mgb" \
  --sign "$TMP/vendor.key" --to "$TMP/deploy.pub" --license Apache-2.0 --model-id spam-filter
check "release hybrid exits 0" test "$(rc)" = 0
run verify "$TMP/base" --pub "$TMP/vendor.pub"
check "hybrid base verifies" test "$(rc)" = 0
run verify "$TMP/head.mgb" --pub "$TMP/vendor.pub"
check "hybrid head verifies" grep -qF "OK: hybrid bundle of spam-filter" "$TMP/out"
check "base has no classifier" lacks grep -qF "classifier.weight" "$TMP/base/model.safetensors"
check "base is a plain encoder" grep -qF '"BertModel"' "$TMP/base/config.json"
run classify --model "$TMP/head.mgb" --key "$TMP/deploy.key" --base "$TMP/base" \
  --vendor-pub "$TMP/vendor.pub" --input "$TMP/in.txt" --output "$TMP/hybrid_cls.jsonl"
check "hybrid classify exits 0" test "$(rc)" = 0
check "hybrid classify bit-identical" cmp -s "$TMP/orig_cls.jsonl" "$TMP/hybrid_cls.jsonl"
run embed --model "$TMP/base" --input "$TMP/in.txt" --output "$TMP/base_emb.jsonl"
check "open base embeds like the original" cmp -s "$TMP/orig_emb.jsonl" "$TMP/base_emb.jsonl"
run classify --model "$TMP/head.mgb" --key "$TMP/deploy.key" --input "$TMP/in.txt"
check "hybrid head without --base refused" one_error_line
cp -r "$TMP/base" "$TMP/base2"
python3 -c "import sys; b=bytearray(open(sys.argv[1],'rb').read()); b[-5]^=1; open(sys.argv[1],'wb').write(b)" "$TMP/base2/model.safetensors"
run classify --model "$TMP/head.mgb" --key "$TMP/deploy.key" --base "$TMP/base2" --input "$TMP/in.txt"
check "another base refused" one_error_line
check "binding named" err_has "was made for another base"
run classify --model "$TMP/head.mgb" --key "$TMP/deploy.key" --base "$TMP/base2" \
  --vendor-pub "$TMP/vendor.pub" --input "$TMP/in.txt"
check "changed base file refused by its manifest" one_error_line
run release hybrid --model "$FIXTURE" --base-out "$TMP/b3" --head-out "$TMP/h3.mgb" \
  --sign "$TMP/vendor.key" --to "$TMP/deploy.pub" --license MIT
check "hybrid of an encoder refused" one_error_line
check "nothing left behind" test ! -e "$TMP/b3" -a ! -e "$TMP/h3.mgb"

# Fingerprints: a per-recipient copy is traced to its recipient, and only with the vendor key.
run release open --model "$TMP/cls" --out "$TMP/fp" --license MIT --sign "$TMP/vendor.key" \
  --fingerprint "Acme Bank"
check "fingerprinted release exits 0" test "$(rc)" = 0
run verify "$TMP/fp" --pub "$TMP/vendor.pub"
check "fingerprinted release verifies" test "$(rc)" = 0
run trace --model "$TMP/fp" --fingerprint-key "$TMP/vendor.key"
check "trace names the recipient" grep -qF 'fingerprinted for "Acme Bank"' "$TMP/out"
run trace --model "$TMP/fp" --fingerprint-key "$TMP/other.key"
check "another key traces nothing" one_error_line
run trace --model "$TMP/cls" --fingerprint-key "$TMP/vendor.key"
check "unmarked copy traces nothing" one_error_line
check "says none matches" err_has "no fingerprint made with key"
# Trigger sets: bad requests fail with one clear line and leave nothing behind.
run release open --model "$TMP/cls" --out "$TMP/fp2" --license MIT --sign "$TMP/vendor.key" \
  --fingerprint-data "$TMP/in.txt"
check "trigger data without a recipient refused" one_error_line
run release open --model "$FIXTURE" --out "$TMP/fp2" --license MIT --sign "$TMP/vendor.key" \
  --fingerprint "Acme Bank" --fingerprint-data "$TMP/in.txt"
check "trigger set on an encoder refused" one_error_line
check "says it needs a classifier" err_has "needs a single-label sequence classifier"
run release open --model "$TMP/cls" --out "$TMP/fp2" --license MIT --sign "$TMP/vendor.key" \
  --fingerprint "Acme Bank" --fingerprint-data "$TMP/in.txt"
check "trigger set on a vocabulary without words refused" one_error_line
check "nothing left behind by refused trigger sets" test -z "$(ls -A "$TMP" | grep -F fp2)"

# No decrypted weights on disk: no file outside the model folders holds a
# run of plaintext from the middle of the weights.
python3 - "$TMP" "$TMP/cls/model.safetensors" <<'PY' && check "no plaintext weights on disk" true || check "no plaintext weights on disk" false
import os, sys
root, weights = sys.argv[1], sys.argv[2]
blob = open(weights, "rb").read()
needle = blob[len(blob) // 2:len(blob) // 2 + 64]
for d, _, files in os.walk(root):
    for f in files:
        p = os.path.join(d, f)
        if p.startswith(os.path.join(root, "cls")) or p.startswith(os.path.join(root, "base")) \
                or p.startswith(os.path.join(root, "fp")):
            continue
        if needle in open(p, "rb").read():
            print("plaintext found in", p)
            sys.exit(1)
PY
check "no secret shown" lacks grep -qF "$(sed 's/.*"key":"\([^"]*\)".*/\1/' "$TMP/deploy.key")" "$TMP/all_output"

finish
