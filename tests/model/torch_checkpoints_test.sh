#!/bin/sh
# Parity of modelgate's checkpoint readers with PyTorch: make_checkpoints.py
# writes checkpoints with torch (Debian's python3-torch, under /usr/bin/python3)
# and reference dumps into OUT_DIR; COMPARE reads them back and checks every
# value bit for bit, and that malicious or unsupported files are refused.
#
# usage: torch_checkpoints_test.sh OUT_DIR COMPARE_BINARY
set -eu
out=$1
compare=$2
here=$(cd "$(dirname "$0")" && pwd)

if ! /usr/bin/python3 -c "import torch" 2>/dev/null; then
  echo "FAIL: /usr/bin/python3 cannot import torch; install python3-torch (make test does)" >&2
  exit 1
fi
rm -rf "$out"
mkdir -p "$out"
/usr/bin/python3 "$here/make_checkpoints.py" "$out"
"$compare" "$out"
if [ -e "$out/pwned" ]; then
  echo "FAIL: a malicious pickle ran code while being read" >&2
  exit 1
fi
