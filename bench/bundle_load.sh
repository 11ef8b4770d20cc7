#!/usr/bin/env bash
# Closed-bundle load time for a BERT-base-shaped model (random weights,
# ~440 MB of F32) beside loading the same open folder: bench/bundle_bench,
# best of RUNS alternating runs. The model is built once with PyTorch
# (bench/bert_bench_model.py's BertModel, no ONNX export).
#
# Then the same model released closed in f32, bf16 and int8 (`release closed
# --dtype D --validate`, which stores the weights in D): the bundle's size,
# and `embed --dtype D` from each bundle (peak RSS and wall time, one run),
# whose output must equal `embed --dtype D` on the open folder byte for byte.
#
# usage: bench/bundle_load.sh BUILD_DIR [RUNS]
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BUILD="$(realpath "$1")"
RUNS="${2:-3}"
WORK="${BUNDLE_BENCH_DIR:-$BUILD/bundle_bench_work}"
MODEL="$WORK/bert-base"
if [[ ! -f "$MODEL/model.safetensors" ]]; then
  mkdir -p "$MODEL"
  ROOT="$ROOT" /usr/bin/python3 - "$MODEL" <<'PY'
import json, os, shutil, sys
sys.path.insert(0, os.path.join(os.environ.get("ROOT", "."), "bench"))
import bert_bench_model as b
out = sys.argv[1]
shape = b.SHAPES["base"]
model = b.build("base")
b.write_safetensors(os.path.join(out, "model.safetensors"), model.hf_state_dict())
config = {"model_type": "bert", "architectures": ["BertModel"], "vocab_size": 30522,
          "hidden_size": shape["hidden"], "num_hidden_layers": shape["layers"],
          "num_attention_heads": shape["heads"], "intermediate_size": shape["inter"],
          "max_position_embeddings": 512, "type_vocab_size": 2, "layer_norm_eps": 1e-12,
          "hidden_act": "gelu"}
json.dump(config, open(os.path.join(out, "config.json"), "w"))
shutil.copy(b.VOCAB, os.path.join(out, "vocab.txt"))
PY
fi
"$BUILD/bench/bundle_bench" "$MODEL" "$WORK" "$RUNS"

MG="$BUILD/apps/modelgate/modelgate"
REL="$WORK/stored"
rm -rf "$REL" && mkdir -p "$REL"
"$MG" keygen --out "$REL/vendor" >/dev/null
"$MG" keygen --out "$REL/deploy" --type deploy >/dev/null
/usr/bin/python3 - "$REL/texts.jsonl" <<'PY'
import json, random, sys
rng = random.Random(1)
words = "the quick brown fox jumps over a lazy dog market price rises falls bank refund order".split()
with open(sys.argv[1], "w") as f:
    for _ in range(64):
        f.write(json.dumps({"text": " ".join(rng.choice(words) for _ in range(rng.randrange(5, 60)))}) + "\n")
PY
head -8 "$REL/texts.jsonl" > "$REL/eight.jsonl"
printf '%-6s %12s %10s %14s %10s %s\n' dtype "bundle MiB" "/ f32" "embed RSS MiB" "embed s" "output"
f32_size=0
for dtype in f32 bf16 int8; do
  args=()
  [[ $dtype != f32 ]] && args=(--dtype "$dtype" --validate "$REL/texts.jsonl")
  "$MG" release closed --model "$MODEL" --out "$REL/$dtype.mgb" --to "$REL/deploy.pub" \
    --sign "$REL/vendor.key" "${args[@]}" >/dev/null 2>&1
  size=$(stat -c %s "$REL/$dtype.mgb")
  [[ $dtype == f32 ]] && f32_size=$size
  "$MG" embed --model "$MODEL" --input "$REL/eight.jsonl" --dtype "$dtype" > "$REL/folder.$dtype" 2>/dev/null
  /usr/bin/time -f "%M %e" -o "$REL/time.$dtype" "$MG" embed --model "$REL/$dtype.mgb" \
    --key "$REL/deploy.key" --vendor-pub "$REL/vendor.pub" --input "$REL/eight.jsonl" \
    --dtype "$dtype" > "$REL/bundle.$dtype" 2>/dev/null
  read -r rss seconds < "$REL/time.$dtype"
  same="differs from the folder"
  cmp -s "$REL/folder.$dtype" "$REL/bundle.$dtype" && same="identical to the folder"
  awk -v d="$dtype" -v s="$size" -v f="$f32_size" -v r="$rss" -v t="$seconds" -v o="$same" \
    'BEGIN { printf "%-6s %12.1f %9.2fx %14.1f %10.2f %s\n", d, s / 1048576, s / f, r / 1024, t, o }'
done

