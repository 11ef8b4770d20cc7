#!/usr/bin/env bash
# End-to-end checks of `modelgate embed` and `modelgate classify`: the shipped
# fixtures load and run, and broken model folders get one clear error line
# (never a crash, never a partial output file).
#
# usage: tests/cli/inference_cli_test.sh MODELGATE_BINARY
set -uo pipefail

source "$(dirname "$0")/lib.sh" "$1"
FIX="$ROOT/tests/data/fixtures"

one_error_line() {
  [[ "$(rc)" != 0 && "$(tail -n 1 "$TMP/err" | head -c 7)" == "error: " ]] &&
    no_crash
}
json_lines() {  # json_lines N FIELD: N lines, each a JSON object with FIELD
  node -e '
    const lines = require("fs").readFileSync(process.argv[1], "utf8").trim().split("\n");
    if (lines.length !== Number(process.argv[2])) process.exit(1);
    for (const l of lines) if (!(process.argv[3] in JSON.parse(l))) process.exit(1);
  ' "$TMP/out" "$1" "$2"
}

printf '{"text":"hello world"}\n{"text":"t5 t6 t7"}\n{"text":""}\n' >"$TMP/in.jsonl"

# The sentence-transformers fixture (safetensors, no pooler, Whitespace pre-tokenizer).
run embed --model "$FIX/tiny-bert-model-safetensors" --input "$TMP/in.jsonl"
check "safetensors fixture embeds" test "$(rc)" = 0
check "one embedding per line" json_lines 3 embedding
check "32 dimensions" node -e 'const l=require("fs").readFileSync(process.argv[1],"utf8").split("\n")[0];process.exit(JSON.parse(l).embedding.length===32?0:1)' "$TMP/out"
run embed --model "$FIX/tiny-bert-model-safetensors" --input "$TMP/in.jsonl" --normalize --pooling cls --threads 1 --batch-size 2
check "normalized cls embeddings" node -e '
  for (const l of require("fs").readFileSync(process.argv[1],"utf8").trim().split("\n")) {
    const n = Math.hypot(...JSON.parse(l).embedding); if (Math.abs(n - 1) > 1e-5) process.exit(1); }' "$TMP/out"

# The PyTorch-zip fixture: a token classifier whose vocab.txt is 3 lines longer than vocab_size.
run embed --model "$FIX/tiny-bert-ner-pytorch-bin" --input "$TMP/in.jsonl"
check "pytorch_model.bin fixture embeds" test "$(rc)" = 0
check "vocabulary mismatch is explained" grep -q "warning: the tokenizer has 405 tokens but the model only 402" "$TMP/err"
run classify --model "$FIX/tiny-bert-ner-pytorch-bin" --input "$TMP/in.jsonl"
check "token classifier is not a sequence classifier" one_error_line

# Broken model folders.
broken() {  # broken NAME: a copy of the safetensors fixture to damage
  rm -rf "$TMP/$1"
  cp -r "$FIX/tiny-bert-model-safetensors" "$TMP/$1"
  echo "$TMP/$1"
}
m="$(broken truncated)"
head -c 50000 "$FIX/tiny-bert-model-safetensors/model.safetensors" >"$m/model.safetensors"
run embed --model "$m" --input "$TMP/in.jsonl" --output "$TMP/never.jsonl"
check "truncated weights" one_error_line
check "truncated weights named" grep -q "model.safetensors" "$TMP/err"
check "no partial output" test ! -e "$TMP/never.jsonl"

m="$(broken lying-header)"
node -e '
  const fs = require("fs"); const p = process.argv[1]; const b = fs.readFileSync(p);
  const n = Number(b.readBigUInt64LE(0)); const h = JSON.parse(b.subarray(8, 8 + n).toString());
  const k = Object.keys(h).find((x) => x !== "__metadata__"); h[k].data_offsets[1] += 1000000;
  let t = Buffer.from(JSON.stringify(h)); const pad = Buffer.alloc((8 - t.length % 8) % 8, 32); t = Buffer.concat([t, pad]);
  const len = Buffer.alloc(8); len.writeBigUInt64LE(BigInt(t.length));
  fs.writeFileSync(p, Buffer.concat([len, t, b.subarray(8 + n)]));' "$m/model.safetensors"
run embed --model "$m" --input "$TMP/in.jsonl"
check "header lying about offsets" one_error_line

m="$(broken deep-header)"
# A header of 2 MB of "[": refused with one error line, never a crash.
node -e '
  const len = Buffer.alloc(8); len.writeBigUInt64LE(2000000n);
  require("fs").writeFileSync(process.argv[1], Buffer.concat([len, Buffer.alloc(2000000, "[")]));' \
  "$m/model.safetensors"
run embed --model "$m" --input "$TMP/in.jsonl"
check "deeply nested header" one_error_line
check "deeply nested header named" grep -q "nests deeper than" "$TMP/err"

m="$(broken deep-shape)"
# Valid JSON whose shape nests 1,000,000 levels deep.
node -e '
  const d = 1000000;
  const h = Buffer.from(`{"t":{"dtype":"F32","shape":${"[".repeat(d)}${"]".repeat(d)},"data_offsets":[0,0]}}`);
  const len = Buffer.alloc(8); len.writeBigUInt64LE(BigInt(h.length));
  require("fs").writeFileSync(process.argv[1], Buffer.concat([len, h]));' "$m/model.safetensors"
run embed --model "$m" --input "$TMP/in.jsonl"
check "deeply nested shape" one_error_line

m="$(broken wrong-shape)"
sed -i 's/"hidden_size": 32/"hidden_size": 36/' "$m/config.json"
run embed --model "$m" --input "$TMP/in.jsonl"
check "shape mismatch" one_error_line
check "shape mismatch names tensor" grep -q "shape" "$TMP/err"

m="$(broken missing-layer)"
sed -i 's/"num_hidden_layers": 2/"num_hidden_layers": 3/' "$m/config.json"
run embed --model "$m" --input "$TMP/in.jsonl"
check "missing tensors" one_error_line
check "missing tensor named" grep -q "encoder.layer.2" "$TMP/err"

m="$(broken roberta)"
sed -i 's/"model_type": "bert"/"model_type": "roberta"/' "$m/config.json"
run embed --model "$m" --input "$TMP/in.jsonl"
check "unknown architecture" one_error_line

m="$(broken no-config)"
rm "$m/config.json"
run embed --model "$m" --input "$TMP/in.jsonl"
check "missing config" one_error_line

m="$(broken garbage-config)"
echo '{"hidden_size": "big"' >"$m/config.json"
run embed --model "$m" --input "$TMP/in.jsonl"
check "garbage config" one_error_line

m="$(broken no-weights)"
rm "$m/model.safetensors"
run embed --model "$m" --input "$TMP/in.jsonl"
check "no weights" one_error_line

run embed --model "$FIX/tiny-bert-model-safetensors" --input "$TMP/in.jsonl" --pooling max
check "unknown pooling" one_error_line
run embed --model "$FIX/tiny-bert-model-safetensors" --input "$TMP/in.jsonl" --batch-size 0
check "batch size 0" one_error_line
run embed --model "$FIX/tiny-bert-model-safetensors" --input "$TMP/missing.jsonl"
check "missing input" one_error_line

# modelgate bench on the small fixture: a table row per batch size.
run bench --model "$FIX/tiny-bert-model-safetensors" --batch 1,4 --seq 16 --seconds 0.2 --threads 1
check "bench runs" test "$(rc)" = 0
check "bench reports each batch" test "$(grep -cE '^ +(1|4) +[0-9.]+ ' "$TMP/out")" = 2
run bench --model "$FIX/tiny-bert-model-safetensors" --seq 100000
check "bench rejects a too-long sequence" one_error_line
run bench --model "$FIX/tiny-bert-model-safetensors" --batch 0
check "bench rejects batch 0" one_error_line

# modelgate cost: measured throughput turned into dollars, consistently.
run cost --model "$FIX/tiny-bert-model-safetensors" --price-per-hour 3.6 --price-per-1k-tokens 0.01 \
  --tokens-per-request 16 --batch 4 --seconds 0.2 --threads 1 --format json
check "cost runs" test "$(rc)" = 0
check "cost prices follow from the measured throughput" node -e '
  const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  const ok = r.rows.length === 2 && r.rows.every(x => x.requests_per_s > 0 &&
    Math.abs(x.usd_per_million_requests - 3.6 / 3600 / x.requests_per_s * 1e6) < 1e-6 * x.usd_per_million_requests &&
    Math.abs(x.usd_per_million_tokens * 16 - x.usd_per_million_requests) < 1e-6 * x.usd_per_million_requests);
  process.exit(ok && r.revenue_per_million_tokens_usd === 10 ? 0 : 1);' "$TMP/out"
run cost --model "$FIX/tiny-bert-model-safetensors" --price-per-hour 1 --seconds 0.1 --threads 1
check "cost prints a table" grep -q '^batched ' "$TMP/out"
run cost --model "$FIX/tiny-bert-model-safetensors" --price-per-hour 3.6 --dtype f32,int8 \
  --tokens-per-request 16 --batch 4 --seconds 0.2 --threads 1 --format json
check "cost --dtype measures each precision" node -e '
  const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  const dtypes = r.rows.map(x => x.dtype + "/" + x.mode).join(",");
  // int8 falls back to f32 (with a note) on a CPU without oneDNN int8 kernels.
  const ok = /^f32\/one at a time,f32\/batched,(int8|f32)\/one at a time,(int8|f32)\/batched$/.test(dtypes) &&
    r.rows.every(x => Math.abs(x.usd_per_million_requests - 3.6 / 3600 / x.requests_per_s * 1e6) < 1e-6 * x.usd_per_million_requests);
  process.exit(ok ? 0 : 1);' "$TMP/out"
run cost --model "$FIX/tiny-bert-model-safetensors" --price-per-hour 1 --dtype f32,f32
check "cost rejects a precision named twice" one_error_line
run cost --model "$FIX/tiny-bert-model-safetensors" --price-per-hour 1 --dtype fp4
check "cost rejects an unknown precision" one_error_line
run cost --model "$FIX/tiny-bert-model-safetensors" --price-per-hour -1
check "cost rejects a negative price" one_error_line
run cost --model "$TMP/missing" --price-per-hour 1
check "cost rejects a missing model" one_error_line

finish
