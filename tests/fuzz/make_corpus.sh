#!/usr/bin/env bash
# Regenerates the committed seed corpus, tests/fuzz/corpus/<target>: fuzz_seeds writes
# candidate seeds from real inputs (tests/sql, the example queries, shared/qtt and
# shared/cdr, rows written by the encoders), and libFuzzer's -merge keeps the smallest set
# of them that reaches the same coverage. Run it after a change that makes the seeds stale,
# and commit the result.
# Usage: tests/fuzz/make_corpus.sh [target...]   (SIDESTREAM_SHARED_DIR: default ../shared)
set -euo pipefail
cd "$(dirname "$0")/../.."

targets=${*:-sql json delimited kafka protobuf row_codec}
build_dir=${SIDESTREAM_FUZZ_BUILD_DIR:-build/fuzz}
shared_dir=${SIDESTREAM_SHARED_DIR:-../shared}
bench/fuzz --build-only
cmake --build "$build_dir" --target fuzz_seeds > /dev/null
candidates=$(mktemp -d)
trap 'rm -rf "$candidates"' EXIT
"$build_dir/tests/fuzz/fuzz_seeds" "$candidates" . "$shared_dir"
for target in $targets; do
  corpus="tests/fuzz/corpus/$target"
  rm -rf "$corpus"
  mkdir -p "$corpus"
  ASAN_OPTIONS=detect_leaks=0 "$build_dir/tests/fuzz/${target}_fuzzer" -merge=1 "$corpus" \
    "$candidates/$target" > "$candidates/$target.log" 2>&1 \
    || { tail -n 40 "$candidates/$target.log"; exit 1; }
  echo "make_corpus: $target: $(ls "$corpus" | wc -l) seeds of $(ls "$candidates/$target" | wc -l)," \
       "$(du -sb "$corpus" | cut -f1) bytes"
done
