#!/usr/bin/env bash
# Installs puppeteer-core (drives Debian's chromium for the web console's test, PLATFORM.md)
# into DIR once. Cached: does nothing when DIR already has it. Serialised with flock, since
# several test processes may ask at once. puppeteer-core downloads no browser.
#   install_puppeteer.sh DIR    exit 0 installed, 77 npm missing or the registry unreachable
set -uo pipefail
mkdir -p "$1"
dir=$(cd "$1" && pwd)
package="$dir/node_modules/puppeteer-core/package.json"
exec 9>"$dir/.install.lock"
flock 9
[ -f "$package" ] && exit 0
if ! command -v npm >/dev/null || ! command -v node >/dev/null; then
  echo "node or npm is missing, so no puppeteer-core" >&2; exit 77
fi
if ! (cd "$dir" && npm install --no-audit --no-fund puppeteer-core@25 >"$dir/install.log" 2>&1); then
  echo "npm install puppeteer-core@25 failed (registry unreachable?):" >&2
  tail -3 "$dir/install.log" >&2
  exit 77
fi
[ -f "$package" ] || { echo "npm installed no puppeteer-core" >&2; exit 77; }
