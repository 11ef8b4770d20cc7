#!/usr/bin/env bash
# Low-precision encoder throughput, side by side on the same random weights,
# sequence length 128, the same thread count, batch 1 and 32, BERT-base
# (12x768) and MiniLM (6x384) shapes:
#   modelgate --dtype f32, bf16 and int8 (bench/engine_bench);
#   ONNX Runtime int8: the F32 export rewritten into DynamicQuantizeLinear +
#     MatMulInteger + scale Mul (bench/onnx_dynamic_quant.py), the graph its
#     dynamic quantiser makes, run by npm onnxruntime-node;
#   PyTorch int8: torch.quantization.quantize_dynamic on Debian's python3-torch.
# Prints seq/s and the ratios, then each modelgate dtype's peak resident
# memory for the BERT-base shape under /usr/bin/time -v against the size of
# the F32 weights file.
#
# usage: [SHAPES="base minilm"] bench/lowp_vs_peers.sh BUILD_DIR [THREADS] [SECONDS]
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BUILD="$(realpath "$1")"
THREADS="${2:-2}"
SECONDS_PER_RUN="${3:-10}"
WORK="$BUILD/bench-models"
PY=/usr/bin/python3
ENGINE="$BUILD/bench/engine_bench"
mkdir -p "$WORK"
# Each engine runs with its threads' default waiting (OpenMP's spin-then-sleep
# for modelgate and PyTorch, ONNX Runtime's spinning pool), as a quiet
# inference server would. PyTorch is the exception: with OpenMP's default
# waiting it runs 1.5-3x slower here than with OMP_WAIT_POLICY=passive, so
# it gets passive, its faster setting. Set OMP_WAIT_POLICY to run every
# OpenMP engine with one policy.

# best A B: the JSON line with the higher seq_per_s (A may be empty).
best() {
  if [[ -z "$1" ]]; then echo "$2"; return; fi
  node -e 'const a = JSON.parse(process.argv[1]), b = JSON.parse(process.argv[2]);
           console.log(JSON.stringify(b.seq_per_s > a.seq_per_s ? b : a));' "$1" "$2"
}
field() { node -e 'console.log(JSON.parse(process.argv[1])[process.argv[2]])' "$1" "$2"; }

rows=()
for shape in ${SHAPES:-base minilm}; do
  dir="$WORK/$shape"
  if [[ ! -f "$dir/model.onnx" ]]; then
    "$PY" "$ROOT/bench/bert_bench_model.py" make "$dir" "$shape" 2>/dev/null >/dev/null
  fi
  if [[ ! -f "$dir/model_int8.onnx" ]]; then
    "$PY" "$ROOT/bench/onnx_dynamic_quant.py" "$dir/model.onnx" "$dir/model_int8.onnx"
  fi
  for batch in 1 32; do
    # Alternating rounds; the best of each counts (the least disturbed run on
    # a shared machine).
    f32=""; bf16=""; int8=""; ort=""; pt=""
    for round in 1 2; do
      for dtype in f32 bf16 int8; do
        m="$("$ENGINE" --model "$dir/modelgate" --dtype "$dtype" --batch "$batch" --seq 128 \
              --threads "$THREADS" --seconds "$SECONDS_PER_RUN")"
        echo "$m"
        case "$dtype" in
          f32) f32="$(best "$f32" "$m")" ;;
          bf16) bf16="$(best "$bf16" "$m")" ;;
          int8) int8="$(best "$int8" "$m")" ;;
        esac
      done
      o="$(node "$ROOT/tests/oracle/ort_bench.js" "$dir/model_int8.onnx" "$batch" 128 "$THREADS" "$SECONDS_PER_RUN")"
      p="$(OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-passive}" "$PY" "$ROOT/bench/bert_bench_model.py" torch "$dir" "$batch" 128 "$THREADS" "$SECONDS_PER_RUN" int8)"
      echo "$o"; echo "$p"
      ort="$(best "$ort" "$o")"; pt="$(best "$pt" "$p")"
    done
    rows+=("$shape|$batch|$f32|$bf16|$int8|$ort|$pt")
  done
done

node -e '
  const rows = process.argv.slice(1).map((r) => r.split("|"));
  console.log("\nseq/s (seq 128)   mg f32   mg bf16   mg int8  ORT int8  PT int8 | bf16/f32 int8/f32 int8/ORT int8/PT");
  for (const [shape, batch, ...j] of rows) {
    const [f32, bf16, int8, ort, pt] = j.map((x) => JSON.parse(x).seq_per_s);
    const c = (v, w) => v.toFixed(2).padStart(w);
    console.log(`${shape.padEnd(7)} batch ${batch.padStart(2)}  ${c(f32, 8)} ${c(bf16, 9)} ${c(int8, 9)} ${c(ort, 9)} ${c(pt, 8)} |` +
      ` ${c(bf16 / f32, 7)}x ${c(int8 / f32, 7)}x ${c(int8 / ort, 7)}x ${c(int8 / pt, 6)}x`);
  }
' "${rows[@]}"

# Peak resident memory of loading and running BERT-base (batch 1), per dtype.
base="$WORK/base/modelgate"
if [[ -d "$base" ]]; then
  weights_mb="$(( $(stat -c %s "$base/model.safetensors") / 1048576 ))"
  echo
  echo "BERT-base peak RSS (/usr/bin/time -v, batch 1), F32 weights file ${weights_mb} MB:"
  for dtype in f32 bf16 int8; do
    /usr/bin/time -v "$ENGINE" --model "$base" --dtype "$dtype" --batch 1 --seq 128 \
      --threads "$THREADS" --seconds 1 >/dev/null 2>"$WORK/time_$dtype.txt"
    rss_kb="$(awk -F: '/Maximum resident set size/ { gsub(/ /, "", $2); print $2 }' "$WORK/time_$dtype.txt")"
    awk -v d="$dtype" -v r="$rss_kb" -v w="$weights_mb" \
      'BEGIN { printf "  %-5s %7.1f MB  %.2fx the F32 weights\n", d, r / 1024, r / 1024 / w }'
  done
fi
