#!/usr/bin/env bash
# Rebuild the report UI in a temporary copy and fail if it differs from the committed template.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
committed="$here/../skeleton_replay/render/_static/report-template.html"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
# build from a clean copy of the sources with its own `npm ci` (never share node_modules: npm ci empties it)
mkdir -p "$tmp/report-ui" "$tmp/skeleton_replay/schema"
cp -r "$here/index.html" "$here/package.json" "$here/package-lock.json" "$here/tsconfig.json" "$here/vite.config.ts" \
  "$here/src" "$here/scripts" "$here/.nvmrc" "$tmp/report-ui/"
cp "$here/../skeleton_replay/schema/snapshot.schema.json" "$tmp/skeleton_replay/schema/"
(cd "$tmp/report-ui" && npm ci --no-audit --no-fund >"$tmp/build.log" 2>&1) || { cat "$tmp/build.log" >&2; echo "check-bundle: npm ci failed" >&2; exit 1; }
(cd "$tmp/report-ui" && node scripts/gen-types.mjs --check >&2) || { echo "check-bundle: src/types/snapshot.ts drifted from the schema; run: npm run gen-types" >&2; exit 1; }
bash "$tmp/report-ui/scripts/build.sh" "$tmp/out.html" 2>>"$tmp/build.log" || { cat "$tmp/build.log" >&2; echo "check-bundle: the report UI build failed" >&2; exit 1; }
if [ ! -f "$committed" ]; then
  echo "check-bundle: $committed is missing; run: bash report-ui/scripts/build.sh" >&2; exit 1
fi
if ! cmp -s "$tmp/out.html" "$committed"; then
  echo "check-bundle: skeleton_replay/render/_static/report-template.html is stale; run: bash report-ui/scripts/build.sh" >&2
  exit 1
fi
echo "check-bundle: report-template.html matches the sources" >&2
