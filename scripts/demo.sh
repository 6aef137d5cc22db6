#!/usr/bin/env bash
# The demo: a venv for the newest Python here (3.13, 3.12, else 3.11: sys.monitoring is the main
# backend), then `skeleton run examples/shop/app.py`, which opens the report in a browser.
set -euo pipefail
cd "$(dirname "$0")/.."
export PYENV_VERSION="${PYENV_VERSION:-3.11:3.12:3.13}"
v=""
for candidate in 3.13 3.12 3.11; do
  if command -v "python$candidate" >/dev/null 2>&1 && "python$candidate" -c 'import sys' >/dev/null 2>&1; then
    v="$candidate"; break
  fi
done
[ -n "$v" ] || { echo "demo: Skeleton needs Python 3.11 or newer (python3.11, python3.12 or python3.13 on PATH)" >&2; exit 2; }
bash scripts/setup.sh "$v"
out="$(mktemp)"
trap 'rm -f "$out"' EXIT
".venv-$v/bin/skeleton" run examples/shop/app.py 2>&1 | tee "$out"
if ! grep -q "(opened)" "$out"; then
  report="$(grep -o 'file://[^ ]*report.html' "$out" | tail -n 1)"
  cat >&2 <<MSG

################################################################################
  No browser could be opened here (no display, or CI is set).
  The report is one self-contained file: copy it to a machine with a browser
  and open it, or open this address on this machine:
    ${report:-report.html in the folder named above}
################################################################################
MSG
fi
