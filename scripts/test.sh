#!/usr/bin/env bash
# The whole test suite, against what users install: an sdist is built, a wheel is built from it for
# each of Python 3.11, 3.12 and 3.13 (each that exists; all three under CI) and installed into that
# version's venv in place of the editable checkout; the suite then runs against the installed
# package, from an empty folder (the checkout is not on sys.path). Then the Python tests run once more with
# the pure-Python tracer callbacks (SKELETON_PURE_PYTHON=1), the report UI checks (Node from the
# system, else installed into a venv), and the browser tests in Debian's Chromium. First, the Python static
# checks (scripts/static.sh: ruff, ruff format --check, mypy --strict); their findings fail the run too.
# Independent stages run side by side, SKELETON_TEST_JOBS at a time (default 2, for a 2-core machine; 1 runs them
# one after the other): each from its own empty folder with its own TMPDIR, its output kept in a log that is
# printed whole when it ends, its exit status kept (any failure fails the run, after every stage has run).
# Usage: scripts/test.sh [extra pytest args]
set -euo pipefail
cd "$(dirname "$0")/.."
export PYENV_VERSION="${PYENV_VERSION:-3.11:3.12:3.13}"
start=$(date +%s)
stamp() { echo "test: $1 after $(( $(date +%s) - start )) s"; }
max_jobs="${SKELETON_TEST_JOBS:-2}"
case "$max_jobs" in
  ''|*[!0-9]*|0) echo "test: SKELETON_TEST_JOBS must be a number >= 1, not '$max_jobs'" >&2; exit 2;;
esac
repo="$PWD"
work="$(mktemp -d)"  # the sdist, the wheels, and each stage's folder, TMPDIR and log
dist="$work/dist"; mkdir -p "$dist"

# -- stages run side by side -----------------------------------------------------------------------------------
# job NAME FUNCTION [ARGS]: runs FUNCTION (from an empty folder, TMPDIR of its own) once fewer than max_jobs run.
status=0
declare -A job_pid=() job_start=()
job_failed=()
reap() {  # print and forget every stage that has ended
  local name rc
  for name in "${!job_pid[@]}"; do
    [ -f "$work/$name/rc" ] || continue
    wait "${job_pid[$name]}" 2>/dev/null || true
    rc="$(cat "$work/$name/rc")"
    echo "== $name: exit status $rc, took $(( $(cat "$work/$name/end") - ${job_start[$name]} )) s" \
         "(CPU user, system: $(tail -n 1 "$work/$name/cpu")); its output, whole:"
    cat "$work/$name/log"
    echo "test: $name done (status $rc) after $(( $(cat "$work/$name/end") - start )) s"
    rm -rf "$work/$name/tmp"  # a pytest pass leaves ~3 GB of temp files: free them before the next stage
    if [ "$rc" != 0 ]; then status=1; job_failed+=("$name"); fi
    unset "job_pid[$name]"
  done
}
job() {
  local name="$1"; shift
  while [ "${#job_pid[@]}" -ge "$max_jobs" ]; do sleep 1; reap; done
  mkdir -p "$work/$name/cwd" "$work/$name/tmp"
  echo "== $name: started"
  (
    set +e
    (set -e; cd "$work/$name/cwd"; export TMPDIR="$work/$name/tmp"; "$@")
    rc=$?
    date +%s >"$work/$name/end"
    times >"$work/$name/cpu"  # its 2nd line: the user and system CPU time of the stage's processes
    echo $rc >"$work/$name/rc"
  ) >"$work/$name/log" 2>&1 &
  job_pid[$name]=$!
  job_start[$name]=$(date +%s)
}
wait_for() {  # wait_for NAME...: until those stages have ended (printing them, and any other that ended)
  local name
  for name in "$@"; do
    while [ -n "${job_pid[$name]:-}" ]; do sleep 1; reap; done
  done
}
wait_all() { while [ "${#job_pid[@]}" -gt 0 ]; do sleep 1; reap; done; }
versions=()
installed=""
restore_editable() {
  rm -rf "$work"
  if [ -n "$installed" ] && [ -z "${CI:-}" ]; then  # a developer's venvs go back to the editable checkout
    for v in "${versions[@]}"; do
      ".venv-$v/bin/python" -m pip install -q --disable-pip-version-check --no-deps -e . 2>&1 \
        | grep -v "is ignored" || true
      ".venv-$v/bin/python" scripts/drop_stale_install.py
    done
  fi
}
on_exit() {  # stop the stages still running (a failure outside them), put the venvs back
  local name
  for name in "${!job_pid[@]}"; do kill -- "${job_pid[$name]}" 2>/dev/null || true; done
  restore_editable
}
trap on_exit EXIT

# -- the report UI: generated types and the committed bundle must match their sources. Never skipped. ----------
report_ui() {
  echo "report-ui: node $(node --version)"
  (cd "$repo/report-ui" && npm ci --no-audit --no-fund --loglevel=error && npm run -s check-types && npm test --silent)
  bash "$repo/report-ui/scripts/check-bundle.sh"
}
ui_started=""
if command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1; then
  job report-ui report_ui  # Node is there: alongside the venvs' setup
  ui_started=1
fi

# Chromium (apt where it is missing) alongside the setup; the browser tests wait for it.
bash scripts/ensure-chromium.sh >"$work/chromium-path" &
chromium_pid=$!

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
stamp "setup done"

if [ -z "$ui_started" ]; then
  node_bin="$(bash scripts/ensure-node.sh ".venv-${versions[0]}")" \
    || { echo "test: no Node for the report-ui checks" >&2; exit 1; }
  if [ -n "$node_bin" ]; then export PATH="$PWD/$node_bin:$PATH"; fi
  job report-ui report_ui
fi

# Python static checks (ruff, ruff format, mypy --strict): a finding fails the run, after the suite has run.
static_checks() { cd "$repo" && bash scripts/static.sh ".venv-${versions[0]}"; }
job static-checks static_checks

# What users install: sdist -> wheel per version -> installed over the editable checkout.
echo "== packaging: sdist, then a wheel from it for each Python"
".venv-${versions[0]}/bin/python" -m build --sdist --outdir "$dist" . >"$dist/build.log" 2>&1 \
  || { cat "$dist/build.log" >&2; echo "test: building the sdist failed" >&2; exit 1; }
sdist="$(ls "$dist"/*.tar.gz)"
for v in "${versions[@]}"; do
  ".venv-$v/bin/python" -m pip wheel -q --disable-pip-version-check --no-deps -w "$dist/$v" "$sdist" 2>&1 \
    | grep -v "is ignored" || true
done
wait_for static-checks  # it reads the venv the first wheel goes into
installed=1
for v in "${versions[@]}"; do
  wheel="$(ls "$dist/$v"/*.whl)"
  ".venv-$v/bin/python" -m pip install -q --disable-pip-version-check --no-deps --force-reinstall "$wheel" 2>&1 \
    | grep -v "is ignored" || true
  echo "test: Python $v: installed $(basename "$wheel")"
done
export SKELETON_TEST_INSTALLED=1  # tests/conftest.py checks that the installed package is what runs
stamp "packaging done"

# pytest runs from an empty folder (the job's own), so neither it nor a program it starts finds the checkout on
# sys.path.
pytest_in() {
  local v="$1"; shift
  "$repo/.venv-$v/bin/python" -m pytest -c "$repo/pyproject.toml" --rootdir "$repo" "$@"
}
suite() {
  echo "Python $1: unit, golden and CLI tests (installed wheel)"
  pytest_in "$1" "$repo/tests" -q -p no:randomly --durations=30 "${@:2}"
}
# The same suite with the pure-Python callbacks alone (as coverage.py runs its suite once per tracer):
# the newest Python covers both backends' Python callbacks (sysmon and --backend setprofile).
pure_suite() {
  echo "Python $1: the same tests with the pure-Python tracer callbacks (SKELETON_PURE_PYTHON=1)"
  SKELETON_PURE_PYTHON=1 SKELETON_REQUIRE_SPEEDUPS= \
    pytest_in "$1" "$repo/tests" -q -p no:randomly --durations=30 "${@:2}"
}
# The Python before the newest runs under CPython's debug memory allocator (PYTHONMALLOC=debug, what -X dev
# turns on), in pytest and in every program it starts: a C extension that frees a block with the wrong allocator
# or writes past one fails there, instead of passing by luck with the default allocator.
debug_suite() {
  echo "Python $1: under PYTHONMALLOC=debug"
  PYTHONMALLOC=debug suite "$@"
}
browser_suite() {
  echo "browser tests (Python $1)"
  local rc=0
  pytest_in "$1" "$repo/e2e" -q --durations=30 "${@:2}" || rc=$?
  if [ $rc -eq 5 ]; then echo "test: no browser tests were collected" >&2; return 0; fi
  return $rc
}
# In an order that ends the two lanes close together (CI, 2 cores: pure 3.13 + 3.13 and 3.12 + 3.11 + browser take
# about as long): the pure-Python pass and 3.12 first, then 3.11, 3.13, and the browser tests last.
pure="${versions[-1]}"
job "pure-Python-$pure" pure_suite "$pure" "$@"
for (( i=${#versions[@]}-2; i>=0; i-- )); do
  run=suite; [ "$i" -eq $(( ${#versions[@]} - 2 )) ] && run=debug_suite
  job "Python-${versions[i]}" "$run" "${versions[i]}" "$@"
done
job "Python-$pure" suite "$pure" "$@"
wait "$chromium_pid" || true
chromium="$(cat "$work/chromium-path")"
if [ -n "$chromium" ]; then export SKELETON_CHROMIUM="$chromium"; fi
job browser browser_suite "${versions[0]}" "$@"
wait_all
if [ ${#job_failed[@]} -ne 0 ]; then echo "test: FAILED: ${job_failed[*]} (their output is above)" >&2; fi
echo "test: done in $(( $(date +%s) - start )) s, status $status"
exit $status
