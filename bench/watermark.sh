#!/usr/bin/env bash
# The output watermark's attack and detection at a realistic shape, side by
# side with the clean API: a 4-layer, 256-wide encoder served with and
# without --watermark-key; an attacker distils a 2-layer, 256-wide student
# in PyTorch from each API's answers to the 2,400 scenario texts; the vendor
# traces both students over HTTP (300 probes per set). Prints the chain's
# `figure NAME VALUE` lines: the API's quality with the mark against without
# (mean cosine of the corpus embeddings, recall@10 of the recommendation
# queries), the p-values, Δcos and Δl2 of each student, and the run time.
#
# usage: bench/watermark.sh MODELGATE_BINARY [small|bench]
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
MG="$(realpath "$1")"
SHAPE="${2:-bench}"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
/usr/bin/python3 -u "$ROOT/tests/serve/watermark_chain.py" "$MG" "$WORK" --shape "$SHAPE" |
  grep -E '^(figure |trace |[0-9]+ passed|FAIL)'
