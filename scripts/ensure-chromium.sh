#!/usr/bin/env bash
# Browser tests use Debian's Chromium through Playwright (playwright install cannot download here).
# Installs it with apt where it is missing and we are root; otherwise says loudly that browser tests
# will be skipped. Prints the path of the browser, or nothing.
set -uo pipefail
find_chromium() { command -v chromium || command -v chromium-browser || true; }
path="$(find_chromium)"
if [ -z "$path" ] && [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "chromium: installing Debian's chromium with apt (about a minute)" >&2
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >/tmp/skeleton-apt.log 2>&1 \
    || echo "chromium: apt-get install failed, see /tmp/skeleton-apt.log" >&2
  path="$(find_chromium)"
fi
if [ -z "$path" ]; then
  cat >&2 <<'MSG'
################################################################################
#  NO CHROMIUM: browser tests (e2e/) WILL BE SKIPPED.                           #
#  Install Debian's chromium (apt-get install chromium) or set SKELETON_CHROMIUM #
#  to a Chromium binary, then run the tests again.                              #
################################################################################
MSG
fi
echo "$path"
