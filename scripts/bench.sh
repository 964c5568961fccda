#!/usr/bin/env bash
# Builds Sidestream in release mode and runs the benchmarks, 5 repetitions each,
# reporting median, min and max. Extra arguments go to every benchmark binary.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/build-release.sh front_end_bench
build/release/bench/front_end_bench --benchmark_repetitions=5 \
  --benchmark_report_aggregates_only=true "$@"
