#!/usr/bin/env bash
# Installs one npm package into DIR once, for the tests that need a Node.js tool or client
# (pouchdb-server, puppeteer-core, ksqldb-client; PLATFORM.md). Cached: does nothing when DIR
# already has it. Serialised with flock, since several test processes may ask at once.
#   install_npm_package.sh DIR PACKAGE@VERSION
#     exit 0 installed, 77 node or npm missing or the registry unreachable
set -uo pipefail
[ $# -eq 2 ] || { echo "usage: install_npm_package.sh DIR PACKAGE@VERSION" >&2; exit 2; }
mkdir -p "$1"
dir=$(cd "$1" && pwd)
spec=$2
name=${spec%@*}
manifest="$dir/node_modules/$name/package.json"
exec 9>"$dir/.install.lock"
flock 9
[ -f "$manifest" ] && exit 0
if ! command -v npm >/dev/null || ! command -v node >/dev/null; then
  echo "node or npm is missing, so no $name" >&2; exit 77
fi
if ! (cd "$dir" && npm install --no-audit --no-fund "$spec" >"$dir/install.log" 2>&1); then
  echo "npm install $spec failed (registry unreachable?):" >&2
  tail -3 "$dir/install.log" >&2
  exit 77
fi
[ -f "$manifest" ] || { echo "npm installed no $name" >&2; exit 77; }
