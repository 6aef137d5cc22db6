#!/usr/bin/env bash
# Build the report UI into one self-contained HTML file and install it as the Python package's
# template: skeleton_replay/render/_static/report-template.html and its CSP sidecar report-template.csp.json
# (both committed; CI checks the template with
# scripts/check-bundle.sh).
#   bash report-ui/scripts/build.sh [OUT]     OUT defaults to the committed template path
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="${1:-$(cd "$here/.." && pwd)/skeleton_replay/render/_static/report-template.html}"
cd "$here"
# install when node_modules is missing or older than the lockfile
if [ ! -d node_modules ] || [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund >&2
fi
npm run --silent build >&2
mkdir -p "$(dirname "$out")"
cp dist/index.html "$out"
echo "report template: $out ($(wc -c < "$out") bytes)" >&2
# the template's CSP hashes, computed once here instead of in every run: report-template.csp.json beside it
# (render/csp.py, standard library only; absent from check-bundle.sh's copy, which compares the template only)
pin="$here/../skeleton_replay/render/csp.py"
if [ -f "$pin" ]; then
  "${PYTHON:-python3}" "$pin" "$out"
fi
