#!/usr/bin/env bash
# State follows a query across a restart: a `sidestream run` counts calls, stops (committing
# its state changes to changelog topics and its offsets), and a second run restores the
# state from the changelogs before it continues. Without the restore the second run would
# count from zero. Needs a broker that outlives both runs: a real Apache Kafka broker.
#   restore_test.sh SIDESTREAM_BINARY
# Exit 0 pass, 1 fail, 77 skipped (no real broker to be had).
set -uo pipefail
binary=$1
here=$(cd "$(dirname "$0")" && pwd)
source "$here/common.sh"
start_real_broker

start_run() {
  "$binary" run "$here/restore.sql" --bootstrap-servers "$bootstrap" >"$work/run.out" 2>"$work/run.err" &
  run_pid=$!
  local deadline=$((SECONDS + 60))
  until grep -q "^ready:" "$work/run.err" 2>/dev/null; do
    kill -0 "$run_pid" 2>/dev/null || fail "sidestream run exited early"
    [ $SECONDS -lt $deadline ] || fail "sidestream run was not ready in 60 s"
    sleep 0.2
  done
}

stop_run() {
  kill -INT "$run_pid"
  wait "$run_pid"
  local status=$?
  run_pid=""
  [ "$status" -eq 0 ] || fail "sidestream run exited with $status after Ctrl-C"
}

# 30 calls: 10 in each of three cells; caller k calls callees k-0 .. k-9 (one per call).
produce_calls() {
  local round=$1
  for i in $(seq 0 29); do
    echo "k$((i % 3)):{\"cell\":\"C$((i % 3))\",\"callee\":\"k$((i % 3))-$round-$i\"}"
  done | kcat -b "$bootstrap" -P -t calls -K: || fail "kcat could not produce"
}

# Waits until the latest count of every cell is `count`, and of every caller's callees too.
wait_for_counts() {
  local count=$1 deadline=$((SECONDS + 60)) cells callers
  while :; do
    cells=$(kcat -b "$bootstrap" -C -t CALLS_PER_CELL -e -q -f '%k %s\n' 2>/dev/null |
            awk '{last[$1]=$2} END {for (k in last) print k, last[k]}' | sort | tr '\n' ' ')
    callers=$(kcat -b "$bootstrap" -C -t CALLEES -e -q -f '%k %s\n' 2>/dev/null |
              sed 's/@[0-9/]*//' | awk '{last[$1]=$2} END {for (k in last) print k, last[k]}' |
              sort | tr '\n' ' ')
    [ "$cells" = "C0 {\"CALLS\":$count} C1 {\"CALLS\":$count} C2 {\"CALLS\":$count} " ] &&
      [ "$callers" = "k0 {\"CALLEES\":$count} k1 {\"CALLEES\":$count} k2 {\"CALLEES\":$count} " ] &&
      return 0
    [ $SECONDS -lt $deadline ] || fail "expected counts of $count; cells: $cells; callers: $callers"
    sleep 0.5
  done
}

start_run
produce_calls 1
wait_for_counts 10
stop_run
grep -q "state changes [1-9]" "$work/run.err" || fail "no state change was written: $(tail -1 "$work/run.err")"

start_run
produce_calls 2
wait_for_counts 20
stop_run
restored=$(sed -n 's/.*restored \([0-9]*\)$/\1/p' "$work/run.err" | tail -1)
[ "${restored:-0}" -gt 0 ] || fail "the second run restored nothing: $(tail -1 "$work/run.err")"
echo "PASSED: counts went on from 10 to 20 per cell and per caller across a restart ($restored changelog records restored)"
