#!/usr/bin/env bash
# Installs packages and builds the given targets in release mode into build/release.
# Usage: scripts/build-release.sh TARGET...
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh
mkdir -p build/release
cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=Release -DSIDESTREAM_BUILD_TESTS=OFF \
  -DSIDESTREAM_NATIVE_CPU=ON \
  > build/release/configure.log 2>&1 || { cat build/release/configure.log; exit 1; }
cmake --build build/release -j "$(nproc)" --target "$@"
