#!/usr/bin/env bash
# Create benchmark venvs bench/.venv-<ver> with Skeleton (editable) and VizTracer.
#
#   bench/setup.sh            # 3.11 and 3.12
#   bench/setup.sh 3.11 3.12 3.13
#
# VizTracer is a benchmark-only tool: it is installed here, never as a project
# dependency.  Re-run after the project's pyproject.toml changes (or appears).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
# pyenv shims for python3.12 / python3.13 only work when selected.
export PYENV_VERSION="${PYENV_VERSION:-3.11:3.12:3.13}"

versions=("$@")
if [ ${#versions[@]} -eq 0 ]; then
    versions=(3.11 3.12)
fi

for ver in "${versions[@]}"; do
    py="python${ver}"
    venv="$here/.venv-${ver}"
    if ! command -v "$py" >/dev/null 2>&1 || ! "$py" -c 'pass' >/dev/null 2>&1; then
        echo "setup.sh: $py not found, skipping" >&2
        continue
    fi
    if [ ! -x "$venv/bin/python" ]; then
        echo "== creating $venv"
        "$py" -m venv "$venv"
    fi
    if [ -f "$root/pyproject.toml" ]; then
        echo "== $venv: pip install -e $root viztracer"
        "$venv/bin/python" -m pip install -q -e "$root" viztracer
    else
        echo "setup.sh: $root/pyproject.toml does not exist yet: installing viztracer only;" >&2
        echo "          bench/run.py puts the project root on PYTHONPATH meanwhile." >&2
        echo "          Re-run bench/setup.sh once pyproject.toml exists." >&2
        "$venv/bin/python" -m pip install -q viztracer
    fi
    "$venv/bin/python" -c 'import sys, viztracer; print("   ok:", sys.version.split()[0], "viztracer", viztracer.__version__)'
done
