#!/usr/bin/env bash
# Installs pouchdb-server (CouchDB's HTTP API, PLATFORM.md) into DIR once, for the tests and
# benchmarks of the CouchDB sink. Cached: does nothing when DIR already has it. Serialised
# with flock, since several test processes may ask at once.
#   install_pouchdb.sh DIR      exit 0 installed, 77 npm missing or the registry unreachable
set -uo pipefail
mkdir -p "$1"
dir=$(cd "$1" && pwd)
binary="$dir/node_modules/.bin/pouchdb-server"
exec 9>"$dir/.install.lock"
flock 9
[ -x "$binary" ] && exit 0
if ! command -v npm >/dev/null || ! command -v node >/dev/null; then
  echo "node or npm is missing, so no pouchdb-server" >&2; exit 77
fi
if ! (cd "$dir" && npm install --no-audit --no-fund pouchdb-server@4.2.0 >"$dir/install.log" 2>&1); then
  echo "npm install pouchdb-server@4.2.0 failed (registry unreachable?):" >&2
  tail -3 "$dir/install.log" >&2
  exit 77
fi
[ -x "$binary" ] || { echo "npm installed no pouchdb-server binary" >&2; exit 77; }
