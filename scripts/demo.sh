#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine, builds Sidestream in release mode and runs
# `sidestream demo`. Extra arguments go to the demo.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/build-release.sh sidestream
exec build/release/server/sidestream demo "$@"
