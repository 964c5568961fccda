#!/usr/bin/env bash
# What an aborted or unfinished transaction wrote is invisible to read_committed readers, on a
# real Apache Kafka broker (the embedded mock broker does not hide aborted records): abort_check
# writes 10 aborted, 5 committed and 3 later-aborted records (and 2 committed by another
# producer while those 3 were open) and reads them back as a store restoring its changelog
# does; kcat then shows that all 20 are in the log (read_uncommitted) and that a
# read_committed reader gets the 7.
#   abort_test.sh ABORT_CHECK_BINARY
# Exit 0 pass, 1 fail, 77 skipped (no real broker to be had).
set -uo pipefail
binary=$1
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../run/common.sh"
command -v kcat >/dev/null || { echo "SKIPPED: kcat is missing"; exit 77; }
start_real_broker

"$binary" "$bootstrap" eos_abort_check >"$work/run.out" 2>"$work/run.err" ||
  fail "$(cat "$work/run.out")"
cat "$work/run.out"
count() {
  kcat -b "$bootstrap" -C -t eos_abort_check -e -q -X "isolation.level=$1" -f '%s\n' | grep -c .
}
uncommitted=$(count read_uncommitted)
committed=$(count read_committed)
[ "$uncommitted" -eq 20 ] || fail "read_uncommitted saw $uncommitted records, not 20"
[ "$committed" -eq 7 ] || fail "read_committed saw $committed records, not 7"
echo "PASSED: read_uncommitted sees 20 records, read_committed the 7 committed ones"
