#!/usr/bin/env bash
# Builds Sidestream in release mode and runs the benchmarks, 5 repetitions each,
# reporting median, min and max. Extra arguments go to every benchmark binary.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh
mkdir -p build/release
cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=Release -DSIDESTREAM_BUILD_TESTS=OFF \
  > build/release/configure.log 2>&1 || { cat build/release/configure.log; exit 1; }
cmake --build build/release -j "$(nproc)" --target front_end_bench
build/release/bench/front_end_bench --benchmark_repetitions=5 \
  --benchmark_report_aggregates_only=true "$@"
