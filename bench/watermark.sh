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
# Which words a key makes triggers follows from its secret, and the recall
# of 60 queries moves in steps of 0.17 point, so one key's quality figures
# are one draw. After the chain, the quality part alone (no students) runs
# for KEYS more secrets and prints each key's figures and their mean and
# worst (KEYS=0 skips it; SKIP_CHAIN=1 runs only this part).
#
# THRESHOLD (default 8, keygen's) is the key's distinct triggers for the full mark.
#
# usage: [SKIP_CHAIN=1] [THRESHOLD=N] bench/watermark.sh MODELGATE_BINARY [small|bench] [KEYS]
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
MG="$(realpath "$1")"
SHAPE="${2:-bench}"
KEYS="${3:-10}"
THRESHOLD="${THRESHOLD:-8}"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
CHAIN="$ROOT/tests/serve/watermark_chain.py"
if [[ "${SKIP_CHAIN:-0}" != 1 ]]; then
  /usr/bin/python3 -u "$CHAIN" "$MG" "$WORK/chain" --shape "$SHAPE" --threshold "$THRESHOLD" |
    grep -E '^(figure |trace |[0-9]+ passed|FAIL)' || true
fi

# The quality figures over more keys: secrets 1111…, 2222…, … (each byte
# repeated), reproducible from run to run.
[[ "$KEYS" -gt 0 ]] || exit 0
digits=(1 2 3 4 5 6 7 8 9 a b c d e f)
: >"$WORK/keys"
for ((k = 0; k < KEYS && k < ${#digits[@]}; ++k)); do
  secret="$(printf "${digits[k]}%.0s" {1..64})"
  /usr/bin/python3 -u "$CHAIN" "$MG" "$WORK/key$k" --shape "$SHAPE" --threshold "$THRESHOLD" \
    --secret "$secret" --quality-only |
    awk -v key="${digits[k]}" '$1 == "figure" && $2 ~ /^(triggered_share|api_mean_cos_marked_vs_clean|api_recall10_marked|api_recall10_clean)$/ { v[$2] = $3 }
      END { printf "key %s%s: triggered %.4f mean_cos %.5f recall10 %.4f / %.4f change %+.2f points\n", key, key,
              v["triggered_share"], v["api_mean_cos_marked_vs_clean"], v["api_recall10_marked"],
              v["api_recall10_clean"], 100 * (v["api_recall10_marked"] - v["api_recall10_clean"]) }' |
    tee -a "$WORK/keys"
done
awk '{ c = $(NF - 1); sum += c; n += 1; if (n == 1 || c < worst) worst = c; if (c >= -0.5 - 1e-9) within += 1 }
  END { printf "figure keys %d\nfigure recall10_change_mean_points %+.2f\nfigure recall10_change_worst_points %+.2f\nfigure keys_within_half_point %d\n",
          n, sum / n, worst, within }' "$WORK/keys"
