#!/usr/bin/env bash
# Real sample snapshots for the dev server: runs each app in examples/ through Skeleton and copies
# its snapshot.json to report-ui/samples/example-<name>.json. Needs a Python with skeleton-replay
# installed (default: ../.venv-3.12/bin/python, else python3).
#   bash report-ui/scripts/make-samples.sh [PYTHON]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
root="$(dirname "$here")"
py="${1:-}"
if [ -z "$py" ]; then
  for cand in "$root/.venv-3.12/bin/python" "$root/.venv-3.11/bin/python" python3; do
    if "$cand" -c 'import skeleton_replay' >/dev/null 2>&1; then py="$cand"; break; fi
  done
fi
[ -n "$py" ] || { echo "make-samples: no Python with skeleton_replay installed (run: make demo)" >&2; exit 1; }
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
run() {  # name, then the app's arguments
  local name="$1"; shift
  CI=1 "$py" -m skeleton_replay run --no-open --no-html --out-dir "$tmp/$name" "$root/examples/$name/app.py" "$@" >/dev/null
  cp "$tmp/$name/snapshot.json" "$here/samples/example-$name.json"
  echo "samples/example-$name.json ($(wc -c < "$here/samples/example-$name.json") bytes)" >&2
}
run shop
run async_pipeline
run hot_loop --steps 8
