#!/usr/bin/env bash
# The whole test suite: Python 3.11, 3.12 and 3.13 (each that exists; all three under CI),
# the report UI checks where Node is present, and browser tests in Debian's Chromium.
# Usage: scripts/test.sh [extra pytest args]
set -euo pipefail
cd "$(dirname "$0")/.."
export PYENV_VERSION="${PYENV_VERSION:-3.11:3.12:3.13}"
start=$(date +%s)

chromium="$(bash scripts/ensure-chromium.sh)"
if [ -n "$chromium" ]; then export SKELETON_CHROMIUM="$chromium"; fi

versions=()
for v in 3.11 3.12 3.13; do
  if command -v "python$v" >/dev/null 2>&1 && "python$v" -c 'import sys' >/dev/null 2>&1; then
    versions+=("$v")
  elif [ -n "${CI:-}" ]; then
    echo "test: python$v is missing, and CI must test all three versions" >&2; exit 1
  else
    echo "test: python$v not found: skipping it (CI runs all three)" >&2
  fi
done
bash scripts/setup.sh "${versions[@]}"

# The report UI: generated types and the committed bundle must match their sources.
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "test: Node is not installed: skipping the report-ui checks (the committed bundle is used; see docs/development.md for nodeenv)" >&2
else
  echo "== report-ui: npm ci, type drift, unit tests, bundle freshness"
  (cd report-ui && npm ci --no-audit --no-fund --loglevel=error && npm run -s check-types && npm test --silent)
  bash report-ui/scripts/check-bundle.sh
fi

status=0
for v in "${versions[@]}"; do
  echo "== Python $v: unit, golden and CLI tests"
  ".venv-$v/bin/python" -m pytest tests -q -p no:randomly "$@" || status=1
done
echo "== browser tests (Python ${versions[0]})"
set +e
".venv-${versions[0]}/bin/python" -m pytest e2e -q "$@"
rc=$?
set -e
if [ $rc -eq 5 ]; then echo "test: no browser tests were collected" >&2; elif [ $rc -ne 0 ]; then status=1; fi
echo "test: done in $(( $(date +%s) - start )) s, status $status"
exit $status
