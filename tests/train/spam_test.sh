#!/usr/bin/env bash
# Runs examples/spam/train_spam.sh and fails unless the test accuracy is at
# least 0.97. Label "slow" (several minutes on 2 cores).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
"$ROOT/examples/spam/train_spam.sh" "$1" "$2"
accuracy="$(sed 's/.*"accuracy":\([0-9.e-]*\).*/\1/' "$2/test_metrics.json")"
echo "test accuracy: $accuracy"
awk -v a="$accuracy" 'BEGIN { exit !(a >= 0.97) }'
