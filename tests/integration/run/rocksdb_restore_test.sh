#!/usr/bin/env bash
# RocksDB state survives a restart on the same disk: `sidestream run --state-store rocksdb`
# counts calls (a windowed COUNT_DISTINCT and a COUNT per cell), stops cleanly (each task
# writes its .checkpoint), and a second run opens its local stores and replays only the
# changelogs' tail past the checkpoints (nothing, after a clean stop). A third run without
# the state directory, and a fourth with a damaged checkpoint and store, restore in full
# from the changelogs. The counts go on from where they were every time.
# The broker runs in its own process (sidestream-broker), so its data outlives the runs.
#   rocksdb_restore_test.sh SIDESTREAM_BINARY SIDESTREAM_BROKER_BINARY
# Exit 0 pass, 1 fail.
set -uo pipefail
binary=$1
broker_binary=$2
here=$(cd "$(dirname "$0")" && pwd)
source "$here/common.sh"
broker_pid=""
trap 'cleanup; [ -n "$broker_pid" ] && kill "$broker_pid" 2>/dev/null' EXIT
state="$work/state"

# The broker of another process has no admin API: it creates every topic, internal ones too.
topics=(--topic calls:2 --topic CALLS_PER_CELL:2 --topic CALLEES:2)
while read -r topic; do
  topics+=(--topic "$topic:2")
done < <("$binary" explain "$here/restore.sql" 2>/dev/null |
         grep -o 'sidestream_[A-Za-z0-9_.-]*-\(repartition\|changelog\)' | sort -u)
[ ${#topics[@]} -gt 6 ] || fail "the plan names no internal topics"
"$broker_binary" "${topics[@]}" >"$work/broker.out" 2>"$work/broker.err" &
broker_pid=$!
deadline=$((SECONDS + 30))
until grep -q "^bootstrap.servers=" "$work/broker.out" 2>/dev/null; do
  [ $SECONDS -lt $deadline ] || fail "sidestream-broker did not start: $(cat "$work/broker.err")"
  sleep 0.1
done
bootstrap=$(sed -n 's/^bootstrap.servers=//p' "$work/broker.out")

start_run() {
  "$binary" run "$here/restore.sql" --bootstrap-servers "$bootstrap" --stream-threads 1 \
    --state-store rocksdb --state-dir "$state" >"$work/run.out" 2>"$work/run.err" &
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
  cp "$work/run.err" "$work/run$1.err"
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

# Changelog records replayed, summed over the restore lines of run $1 ("... N changelog
# records replayed (how)"), for restores of kind $2 (a pattern).
replayed() {
  grep "changelog records replayed ($2" "$work/run$1.err" |
    sed -n 's/.* \([0-9]*\) changelog records replayed.*/\1/p' | awk '{s+=$1} END {print s+0}'
}
restores() { grep -c "changelog records replayed ($2" "$work/run$1.err"; }

start_run
produce_calls 1
wait_for_counts 10
stop_run 1
checkpoints=$(find "$state" -name .checkpoint | wc -l)
[ "$checkpoints" -gt 0 ] || fail "no task wrote a checkpoint under $state"
written=$(sed -n 's/.*state changes \([0-9]*\),.*/\1/p' "$work/run1.err" | tail -1)
[ "${written:-0}" -gt 0 ] || fail "the first run wrote no state change"

# 2. Local state plus the changelog tail: after a clean stop the tail is empty.
start_run
produce_calls 2
wait_for_counts 20
stop_run 2
[ "$(restores 2 local)" -eq "$checkpoints" ] ||
  fail "expected $checkpoints restores from checkpoints: $(grep restored "$work/run2.err")"
[ "$(restores 2 full)" -eq 0 ] || fail "a task restored in full: $(grep 'full restore' "$work/run2.err")"
tail_records=$(replayed 2 local)
[ "$tail_records" -eq 0 ] ||
  fail "replayed $tail_records changelog records past the checkpoints after a clean stop"

# 3. No state directory: every task restores in full, and says why.
rm -rf "$state"
start_run
produce_calls 3
wait_for_counts 30
stop_run 3
grep -q "full restore from the changelogs: no checkpoint" "$work/run3.err" ||
  fail "no log line says why the tasks restored in full"
[ "$(restores 3 local)" -eq 0 ] || fail "a task used a local state that was deleted"
full_records=$(replayed 3 full)
[ "$full_records" -ge "$written" ] ||
  fail "a full restore replayed $full_records records, fewer than the $written the first run wrote"

# 4. A damaged checkpoint and a damaged store: those tasks restore in full, the others not.
damaged_checkpoint=$(find "$state" -name .checkpoint | sort | head -1)
echo "garbage" >"$damaged_checkpoint"
damaged_store=$(find "$state" -name CURRENT | sort | tail -1)
echo "garbage" >"$damaged_store"
start_run
produce_calls 4
wait_for_counts 40
stop_run 4
grep -q "full restore from the changelogs: checkpoint .* is unreadable" "$work/run4.err" ||
  fail "no log line names the damaged checkpoint"
grep -q "full restore from the changelogs: the local state is unreadable" "$work/run4.err" ||
  fail "no log line names the damaged store"
echo "PASSED: counts went 10, 20, 30, 40 across restarts; $checkpoints tasks restored from" \
  "checkpoints with $tail_records records replayed (a full restore replayed $full_records)"
echo "--- the second run's restores:"
grep "restored in" "$work/run2.err"
echo "--- the fourth run's full restores:"
grep "full restore from" "$work/run4.err"
