#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine and runs every test: installs packages, builds with
# -Wall -Wextra -Werror under AddressSanitizer and UndefinedBehaviorSanitizer, runs ctest,
# then builds the libFuzzer targets with clang and runs each for a short fixed time over its
# seed corpus (bench/fuzz; SIDESTREAM_FUZZ_SECONDS, default 20 per target, 0 skips them).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh
build_dir=${SIDESTREAM_TEST_BUILD_DIR:-build/test}
mkdir -p "$build_dir"
cmake -S . -B "$build_dir" -G Ninja -DSIDESTREAM_SANITIZE=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DSIDESTREAM_BUILD_BENCH=OFF > "$build_dir/configure.log" 2>&1 \
  || { cat "$build_dir/configure.log"; exit 1; }
cmake --build "$build_dir" -j "$(nproc)"
# Leaks in third-party singletons (ANTLR's static DFA cache) are not ours to chase.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
ctest --test-dir "$build_dir" --output-on-failure -j "$(nproc)" "$@"

fuzz_seconds=${SIDESTREAM_FUZZ_SECONDS:-20}
if [ "$fuzz_seconds" -gt 0 ]; then
  echo
  echo "Fuzzing: each libFuzzer target for $fuzz_seconds s (bench/fuzz; ctest's summary is above)"
  bench/fuzz --seconds "$fuzz_seconds"
fi
