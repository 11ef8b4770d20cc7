#!/usr/bin/env bash
# Encoder throughput, modelgate vs ONNX Runtime (npm onnxruntime-node) vs
# PyTorch (Debian's python3-torch), on the same random weights, the same thread
# count and the same inputs, in one run: a BERT-base-shaped model (12 layers,
# 768 hidden) and a MiniLM-shaped one (6 layers, 384 hidden), sequence length
# 128, batch 1 and batch 32; SHAPES="distilbert roberta modernbert" (or any
# of base, minilm, distilbert, roberta, modernbert) measures other families'
# base shapes. Prints sequences/s, the ratios, modelgate's share
# of the machine's measured f32 GEMM peak, and its resident memory against
# the size of the F32 weights.
#
# PyTorch runs on the BLAS Debian selects (libopenblas0-pthread, installed by
# `make setup`; with only the reference BLAS it is many times slower).
#
# usage: [SHAPES="base minilm"] bench/engine_vs_peers.sh BUILD_DIR [THREADS] [SECONDS]
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BUILD="$(realpath "$1")"
THREADS="${2:-$(nproc)}"
SECONDS_PER_RUN="${3:-10}"
WORK="$BUILD/bench-models"
PY=/usr/bin/python3
ENGINE="$BUILD/bench/engine_bench"
mkdir -p "$WORK"

peak="$("$ENGINE" --gemm-peak --threads "$THREADS" --seconds 5)"
echo "$peak"
peak_gflops="$(node -e 'console.log(JSON.parse(process.argv[1]).gflops)' "$peak")"

# best A B: the JSON line with the higher seq_per_s (A may be empty).
best() {
  if [[ -z "$1" ]]; then echo "$2"; return; fi
  node -e 'const a = JSON.parse(process.argv[1]), b = JSON.parse(process.argv[2]);
           console.log(JSON.stringify(b.seq_per_s > a.seq_per_s ? b : a));' "$1" "$2"
}

rows=()
for shape in ${SHAPES:-base minilm}; do
  dir="$WORK/$shape"
  if [[ ! -f "$dir/model.onnx" ]]; then
    "$PY" "$ROOT/bench/bert_bench_model.py" make "$dir" "$shape" 2>/dev/null >/dev/null
  fi
  for batch in 1 32; do
    # modelgate and ONNX Runtime alternate three times; the best of each counts
    # (the machine is shared: the best run is the least disturbed one).
    mg=""; ort=""
    for round in 1 2 3; do
      m="$("$ENGINE" --model "$dir/modelgate" --batch "$batch" --seq 128 --threads "$THREADS" --seconds "$SECONDS_PER_RUN")"
      o="$(node "$ROOT/tests/oracle/ort_bench.js" "$dir/model.onnx" "$batch" 128 "$THREADS" "$SECONDS_PER_RUN")"
      echo "$m"; echo "$o"
      mg="$(best "$mg" "$m")"; ort="$(best "$ort" "$o")"
    done
    pt="$("$PY" "$ROOT/bench/bert_bench_model.py" torch "$dir" "$batch" 128 "$THREADS" "$SECONDS_PER_RUN")"
    echo "$pt"
    rows+=("$shape|$batch|$mg|$ort|$pt")
  done
done

node -e '
  const peak = Number(process.argv[1]);
  const rows = process.argv.slice(2).map((r) => r.split("|"));
  console.log("\nshape       batch  modelgate  onnxruntime  pytorch   vs ORT  vs PyTorch  GEMM peak  RSS/weights");
  for (const [shape, batch, mgj, ortj, ptj] of rows) {
    const mg = JSON.parse(mgj), ort = JSON.parse(ortj), pt = JSON.parse(ptj);
    console.log(`${shape.padEnd(11)} ${batch.padStart(5)}  ${mg.seq_per_s.toFixed(2).padStart(9)}  ` +
      `${ort.seq_per_s.toFixed(2).padStart(11)}  ${pt.seq_per_s.toFixed(2).padStart(7)}  ` +
      `${(mg.seq_per_s / ort.seq_per_s).toFixed(2).padStart(6)}x  ${(mg.seq_per_s / pt.seq_per_s).toFixed(2).padStart(9)}x  ` +
      `${(100 * mg.gflops / peak).toFixed(0).padStart(8)}%  ${(mg.peak_rss_mb / mg.weights_mb).toFixed(2).padStart(10)}x`);
  }
' "$peak_gflops" "${rows[@]}"
