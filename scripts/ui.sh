#!/usr/bin/env bash
# Rebuild the report UI bundle (make ui). Needs Node 20 and npm; where they are missing they are
# installed into .venv-3.11 first (scripts/ensure-node.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  bash scripts/setup.sh 3.11
  node_bin="$(bash scripts/ensure-node.sh .venv-3.11)"
  export PATH="$PWD/$node_bin:$PATH"
fi
exec bash report-ui/scripts/build.sh "$@"
