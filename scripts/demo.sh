#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine, builds Sidestream in release mode and runs
# `sidestream demo`. Extra arguments go to the demo.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh
mkdir -p build/release
cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=Release -DSIDESTREAM_BUILD_TESTS=OFF \
  > build/release/configure.log 2>&1 || { cat build/release/configure.log; exit 1; }
cmake --build build/release -j "$(nproc)" --target sidestream
exec build/release/server/sidestream demo "$@"
