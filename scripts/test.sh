#!/usr/bin/env bash
# The whole test suite, against what users install: an sdist is built, a wheel is built from it for
# each of Python 3.11, 3.12 and 3.13 (each that exists; all three under CI) and installed into that
# version's venv in place of the editable checkout; the suite then runs against the installed
# package, from an empty folder (the checkout is not on sys.path). Then the Python tests run once more with
# the pure-Python tracer callbacks (SKELETON_PURE_PYTHON=1), the report UI checks (Node from the
# system, else installed into a venv), and the browser tests in Debian's Chromium. First, the Python static
# checks (scripts/static.sh: ruff, ruff format --check, mypy --strict); their findings fail the run too.
# Usage: scripts/test.sh [extra pytest args]
set -euo pipefail
cd "$(dirname "$0")/.."
export PYENV_VERSION="${PYENV_VERSION:-3.11:3.12:3.13}"
start=$(date +%s)
stamp() { echo "test: $1 after $(( $(date +%s) - start )) s"; }

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

# Python static checks (ruff, ruff format, mypy --strict): a finding fails the run, after the suite has run.
echo "== static checks: scripts/static.sh"
static_status=0
bash scripts/static.sh ".venv-${versions[0]}" || static_status=1
stamp "static checks done"

# What users install: sdist -> wheel per version -> installed over the editable checkout.
dist="$(mktemp -d)"
restore_editable() {
  rm -rf "$dist"
  if [ -z "${CI:-}" ]; then  # a developer's venvs go back to the editable checkout
    for v in "${versions[@]}"; do
      ".venv-$v/bin/python" -m pip install -q --disable-pip-version-check --no-deps -e . 2>&1 | grep -v "is ignored" || true
    done
  fi
}
trap restore_editable EXIT
echo "== packaging: sdist, then a wheel from it for each Python"
".venv-${versions[0]}/bin/python" -m build --sdist --outdir "$dist" . >"$dist/build.log" 2>&1 \
  || { cat "$dist/build.log" >&2; echo "test: building the sdist failed" >&2; exit 1; }
sdist="$(ls "$dist"/*.tar.gz)"
for v in "${versions[@]}"; do
  ".venv-$v/bin/python" -m pip wheel -q --disable-pip-version-check --no-deps -w "$dist/$v" "$sdist" 2>&1 \
    | grep -v "is ignored" || true
  wheel="$(ls "$dist/$v"/*.whl)"
  ".venv-$v/bin/python" -m pip install -q --disable-pip-version-check --no-deps --force-reinstall "$wheel" 2>&1 \
    | grep -v "is ignored" || true
  echo "test: Python $v: installed $(basename "$wheel")"
done
export SKELETON_TEST_INSTALLED=1  # tests/conftest.py checks that the installed package is what runs
# pytest runs from an empty folder, so neither it nor a program it starts finds the checkout on sys.path.
repo="$PWD"
runs="$dist/cwd"; mkdir -p "$runs"
pytest_in() { local v="$1"; shift; (cd "$runs" && "$repo/.venv-$v/bin/python" -m pytest -c "$repo/pyproject.toml" --rootdir "$repo" "$@"); }
stamp "packaging done"

# The report UI: generated types and the committed bundle must match their sources. Never skipped.
node_bin="$(bash scripts/ensure-node.sh ".venv-${versions[0]}")" || { echo "test: no Node for the report-ui checks" >&2; exit 1; }
if [ -n "$node_bin" ]; then export PATH="$PWD/$node_bin:$PATH"; fi
echo "== report-ui: npm ci, type drift, unit tests, bundle freshness (node $(node --version))"
(cd report-ui && npm ci --no-audit --no-fund --loglevel=error && npm run -s check-types && npm test --silent)
bash report-ui/scripts/check-bundle.sh
stamp "report-ui done"

status=0
for v in "${versions[@]}"; do
  echo "== Python $v: unit, golden and CLI tests (installed wheel)"
  pytest_in "$v" "$repo/tests" -q -p no:randomly "$@" || status=1
  stamp "Python $v done"
done
# The same suite with the pure-Python callbacks alone (as coverage.py runs its suite once per tracer):
# the newest Python covers both backends' Python callbacks (sysmon and --backend setprofile).
pure="${versions[-1]}"
echo "== Python $pure: the same tests with the pure-Python tracer callbacks (SKELETON_PURE_PYTHON=1)"
SKELETON_PURE_PYTHON=1 SKELETON_REQUIRE_SPEEDUPS= pytest_in "$pure" "$repo/tests" -q -p no:randomly "$@" || status=1
stamp "pure-Python pass done"
echo "== browser tests (Python ${versions[0]})"
set +e
pytest_in "${versions[0]}" "$repo/e2e" -q "$@"
rc=$?
set -e
if [ $rc -eq 5 ]; then echo "test: no browser tests were collected" >&2; elif [ $rc -ne 0 ]; then status=1; fi
if [ $static_status -ne 0 ]; then echo "test: the static checks failed (scripts/static.sh, above)" >&2; status=1; fi
echo "test: done in $(( $(date +%s) - start )) s, status $status"
exit $status
