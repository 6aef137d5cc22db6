#!/usr/bin/env bash
# Python static checks of skeleton_replay/, with the settings in pyproject.toml ([tool.ruff], [tool.mypy]):
#   ruff check, ruff format --check, and mypy --strict twice: as Python 3.11 (the oldest supported) and as
#   3.13, so the code behind `sys.version_info >= (3, 12)` (the sys.monitoring backend) is checked too.
# scripts/test.sh (so CI) runs it before the suite; any finding fails the run.
# Usage: scripts/static.sh [VENV]   (default: the first of .venv-3.11, .venv-3.12, .venv-3.13 that has ruff
#        and mypy; they are in the test extra, so scripts/setup.sh installs them)
set -uo pipefail
cd "$(dirname "$0")/.."
venv="${1:-}"
if [ -z "$venv" ]; then
  for v in 3.11 3.12 3.13; do
    if [ -x ".venv-$v/bin/ruff" ] && [ -x ".venv-$v/bin/mypy" ]; then venv=".venv-$v"; break; fi
  done
fi
if [ -z "$venv" ] || [ ! -x "$venv/bin/ruff" ] || [ ! -x "$venv/bin/mypy" ]; then
  echo "static: no venv with ruff and mypy (${venv:-none found}): run scripts/setup.sh, they are in the test extra" >&2
  exit 2
fi
start=$(date +%s)
failed=()
check() {
  local name="$1"; shift
  echo "static: $name"
  "$@" || failed+=("$name")
}
check "ruff check" "$venv/bin/ruff" check skeleton_replay
check "ruff format --check" "$venv/bin/ruff" format --check --output-format concise skeleton_replay
check "mypy --strict (as Python 3.11)" "$venv/bin/python" -m mypy
check "mypy --strict (as Python 3.13)" "$venv/bin/python" -m mypy --python-version 3.13
took=$(( $(date +%s) - start ))
if [ ${#failed[@]} -ne 0 ]; then
  echo "static: FAILED in $took s: $(IFS=,; echo "${failed[*]}" | sed 's/,/, /g') (see above)" >&2
  exit 1
fi
echo "static: clean in $took s"
