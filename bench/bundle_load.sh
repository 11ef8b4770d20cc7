#!/usr/bin/env bash
# Closed-bundle load time for a BERT-base-shaped model (random weights,
# ~440 MB of F32) beside loading the same open folder: bench/bundle_bench,
# best of RUNS alternating runs. The model is built once with PyTorch
# (bench/bert_bench_model.py's BertModel, no ONNX export).
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
