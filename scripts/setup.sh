#!/usr/bin/env bash
# Make .venv-<ver> for each Python version given (default: 3.11) with Skeleton and its test extra.
# Usage: scripts/setup.sh [3.11 3.12 3.13]
set -euo pipefail
cd "$(dirname "$0")/.."
export PYENV_VERSION="${PYENV_VERSION:-3.11:3.12:3.13}"   # pyenv shims need this for python3.12/3.13
versions=("$@")
[ ${#versions[@]} -eq 0 ] && versions=(3.11)
for v in "${versions[@]}"; do
  py="python$v"
  if ! command -v "$py" >/dev/null 2>&1 || ! "$py" -c 'import sys' >/dev/null 2>&1; then
    echo "setup: $py is not available on this machine" >&2
    exit 3
  fi
  venv=".venv-$v"
  if [ ! -x "$venv/bin/python" ]; then
    echo "setup: creating $venv"
    "$py" -m venv "$venv"
  fi
  "$venv/bin/python" -m pip install -q --disable-pip-version-check -e ".[test]" 2>&1 | grep -v "is ignored" || true
  "$venv/bin/python" scripts/drop_stale_install.py
  "$venv/bin/python" -c 'import skeleton_replay, jsonschema, pytest' || { echo "setup: install failed in $venv" >&2; exit 1; }
  if ! SKELETON_PURE_PYTHON= "$venv/bin/python" -c 'from skeleton_replay.capture import speedups; raise SystemExit(speedups.load() is None)'; then
    echo "setup: NOTE: the tracer's C fast paths did not compile in $venv (a C compiler and the Python headers are" >&2
    echo "setup:       needed): Skeleton works, in pure Python, 2-4x slower. 'pip install -v -e .' shows why." >&2
  fi
done
