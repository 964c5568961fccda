#!/usr/bin/env bash
# Scale-out on a real Apache Kafka broker: three `sidestream run` processes with the same
# application id (exactly_once_v2, RocksDB state, each its own state directory and instance id)
# share the eight partitions of every stage of two queries (a windowed count per caller, a
# count per cell through a repartition topic) while CDRs arrive in three slices. After the
# first slice one process is killed with SIGKILL; after the second a fourth process joins. The
# final table of each output (latest value per key and window, read_committed) must equal that
# of a reference run: one process that ran alone and was never interrupted.
# With `standby` (--num-standby-replicas 1 on every process), the survivors must take over the
# killed process's tasks with tail restores: after the kill their logs show restores from a
# local checkpoint, at least 8 for each full one (without standbys the killed tasks restore in
# full: about 22 tail restores to 17 full ones. A rare full one with standbys is a task that
# moved between the survivors in the rebalances after the kill before a copy of it was made;
# the joiner, which has no state yet, restores in full: expected and not checked).
#   scale_out_test.sh SIDESTREAM CDR_PRODUCE [standby]
# Size: 24,000 CDRs; SIDESTREAM_SCALE_FULL=1 runs 300,000 (SIDESTREAM_SCALE_CDRS overrides).
# SIDESTREAM_SCALE_KEEP=DIR keeps the logs and dumps.
# Exit 0 pass, 1 fail, 77 skipped (no real broker to be had).
set -uo pipefail
binary=$1
cdr_produce=$2
mode=${3:-plain}
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../run/common.sh"
command -v kcat >/dev/null || { echo "SKIPPED: kcat is missing"; exit 77; }
if [ "${SIDESTREAM_SCALE_FULL:-0}" = 1 ]; then cdrs=300000; else cdrs=24000; fi
cdrs=${SIDESTREAM_SCALE_CDRS:-$cdrs}
standby_flags=()
[ "$mode" = standby ] && standby_flags=(--num-standby-replicas 1)
echo "scale-out test: $cdrs CDRs over 8 partitions, 3 processes, one killed, one joining ($mode)"
start_real_broker

declare -A pids
cleanup_runs() {
  local pid
  for pid in "${pids[@]}" ${ref_pid:-}; do kill -9 "$pid" 2>/dev/null; done
  wait 2>/dev/null
  [ -n "${SIDESTREAM_SCALE_KEEP:-}" ] && rm -rf "$SIDESTREAM_SCALE_KEEP" &&
    cp -r "$work" "$SIDESTREAM_SCALE_KEEP"
  cleanup
}
trap cleanup_runs EXIT
fail() {
  echo "FAILED: $*"
  local log
  for log in "$work"/*.err; do
    echo "--- $log"
    grep -v "^consumed" "$log" | tail -8
  done
  exit 1
}

sed 's/@SUFFIX@/REF/' "$here/scale_out.sql" >"$work/ref.sql"
sed 's/@SUFFIX@/SCALE/' "$here/scale_out.sql" >"$work/scale.sql"

wait_ready() {
  local pid=$1 log=$2 deadline=$((SECONDS + 60))
  until grep -q "^ready:" "$log" 2>/dev/null; do
    kill -0 "$pid" 2>/dev/null || fail "sidestream run exited early: $(tail -5 "$log")"
    [ $SECONDS -lt $deadline ] || fail "sidestream run was not ready in 60 s: $(tail -5 "$log")"
    sleep 0.1
  done
}
# Starts scaled-out process $1: its own instance id (its transactional ids) and state directory.
# The broker aborts a killed process's open transaction after its transaction.timeout.ms (10 s
# by default, as in Kafka Streams); read_committed readers, and the survivors restoring its
# tasks (the records committed after it belong to the state), wait for it until then.
start_process() {
  local name=$1
  "$binary" run "$work/scale.sql" --bootstrap-servers "$bootstrap" --stream-threads 1 \
    --processing-guarantee exactly_once_v2 --instance-id "$name" --state-store rocksdb \
    --state-dir "$work/state-$name" "${standby_flags[@]}" >"$work/$name.out" 2>"$work/$name.err" &
  pids[$name]=$!
}

# The reference first: its statements create the input topic (PARTITIONS=8).
"$binary" run "$work/ref.sql" --bootstrap-servers "$bootstrap" --stream-threads 1 \
  >"$work/ref.out" 2>"$work/ref.err" &
ref_pid=$!
wait_ready "$ref_pid" "$work/ref.err"
for name in p1 p2 p3; do start_process "$name"; done
for name in p1 p2 p3; do wait_ready "${pids[$name]}" "$work/$name.err"; done

# Active restores (task starts) in a log, past line $2: "local" or "full".
active_restores() {
  tail -n +"$(($2 + 1))" "$1" | grep -v "standby of" |
    grep -c "changelog records replayed ($([ "$3" = local ] && echo local || echo full)"
}
# Every process runs tasks before the first slice: the group has all three members.
deadline=$((SECONDS + 60))
for name in p1 p2 p3; do
  until [ "$(active_restores "$work/$name.err" 0 local)" -gt 0 ] ||
        [ "$(active_restores "$work/$name.err" 0 full)" -gt 0 ]; do
    [ $SECONDS -lt $deadline ] || fail "process $name got no task in 60 s"
    sleep 0.2
  done
done

# Every CDR's event time lies in the last minutes (a broker deletes older segments).
start_ms=$(( $(date +%s) * 1000 - cdrs - 15 * 60 * 1000 ))
slice=$(( (cdrs + 2) / 3 ))
produced=0
produce_next() {
  local count=$(( cdrs - produced < slice ? cdrs - produced : slice ))
  "$cdr_produce" --bootstrap-servers "$bootstrap" --topic cdr --messages "$count" --seed 13 \
    --skip "$produced" --start-ms "$start_ms" >/dev/null || fail "could not produce CDRs"
  produced=$((produced + count))
}

# The final table of output $1_$2: the latest value of each key (with its window), sorted.
final_table() {
  kcat -b "$bootstrap" -C -t "$1_$2" -e -q -X isolation.level=read_committed \
    -f '%k\t%s\n' 2>/dev/null |
    awk -F '\t' '{ last[$1] = $2 } END { for (key in last) print key "\t" last[key] }' |
    LC_ALL=C sort
}
committed_outputs() {
  kcat -b "$bootstrap" -C -t "CALLS_PER_CELL_SCALE" -e -q -X isolation.level=read_committed \
    -f '%o\n' 2>/dev/null | grep -c .
}

produce_next
deadline=$((SECONDS + 60))
until [ "$(committed_outputs)" -gt 0 ]; do
  [ $SECONDS -lt $deadline ] || fail "the scaled-out processes committed no output in 60 s"
  sleep 0.2
done
# Standby copies: give each survivor a pass over the tasks it does not run (once a second).
[ "$mode" = standby ] && sleep 3
produce_next
victim=p2
declare -A lines_at_kill
for name in p1 p3; do lines_at_kill[$name]=$(wc -l <"$work/$name.err"); done
kill -9 "${pids[$victim]}"
wait "${pids[$victim]}" 2>/dev/null
unset "pids[$victim]"
echo "killed $victim (SIGKILL) after $produced CDRs"

# The survivors take the killed process's tasks once its session times out (6 s).
deadline=$((SECONDS + 60))
until [ $(( $(active_restores "$work/p1.err" "${lines_at_kill[p1]}" local) +
            $(active_restores "$work/p1.err" "${lines_at_kill[p1]}" full) +
            $(active_restores "$work/p3.err" "${lines_at_kill[p3]}" local) +
            $(active_restores "$work/p3.err" "${lines_at_kill[p3]}" full) )) -ge 8 ]; do
  [ $SECONDS -lt $deadline ] || fail "the survivors did not take over the killed tasks in 60 s"
  sleep 0.5
done
start_process p4
wait_ready "${pids[p4]}" "$work/p4.err"
produce_next

# The reference is done when its final tables stop changing; the scaled-out processes when
# theirs equal it (or the deadline passes).
deadline=$((SECONDS + 120))
last="" stable=0
while :; do
  for output in CALLS_PER_MINUTE CALLS_PER_CELL; do final_table "$output" REF; done >"$work/ref.txt"
  sum=$(md5sum <"$work/ref.txt")
  cells=$(awk -F '"CALLS":' 'NF > 1 { split($2, n, /[,}]/); s += n[1] } END { print s + 0 }' \
    <(final_table CALLS_PER_CELL REF))
  if [ "$sum" = "$last" ] && [ "$cells" -eq "$cdrs" ]; then stable=$((stable + 1)); else stable=0; fi
  [ $stable -ge 2 ] && break
  last=$sum
  [ $SECONDS -lt $deadline ] || fail "the reference did not finish: its per-cell counts add up to $cells of $cdrs"
  sleep 1
done
deadline=$((SECONDS + 120))
while :; do
  for output in CALLS_PER_MINUTE CALLS_PER_CELL; do final_table "$output" SCALE; done >"$work/scale.txt"
  cmp -s "$work/ref.txt" "$work/scale.txt" && break
  [ $SECONDS -lt $deadline ] || break
  sleep 2
done
rows=$(wc -l <"$work/ref.txt")
if ! cmp -s "$work/ref.txt" "$work/scale.txt"; then
  echo "--- first differences (< reference, > scaled out)"
  diff "$work/ref.txt" "$work/scale.txt" | head -20
  fail "the scaled-out final tables differ from the single process's ($rows rows):" \
    "$(diff "$work/ref.txt" "$work/scale.txt" | grep -c '^<') missing or different," \
    "$(diff "$work/ref.txt" "$work/scale.txt" | grep -c '^>') extra or different"
fi
echo "the final tables match: $rows rows (latest value per key and window) from $cdrs CDRs"

# What the survivors restored after the kill.
local_after=0 full_after=0
for name in p1 p3; do
  local_after=$((local_after + $(active_restores "$work/$name.err" "${lines_at_kill[$name]}" local)))
  full_after=$((full_after + $(active_restores "$work/$name.err" "${lines_at_kill[$name]}" full)))
done
echo "after the kill the survivors started tasks with $local_after tail restores (local state)" \
  "and $full_after full restores"
if [ "$mode" = standby ]; then
  warmed=$(cat "$work/p1.err" "$work/p3.err" | grep -c "standby of query")
  [ "$warmed" -gt 0 ] || fail "no standby copy was made (no 'standby of query' line)"
  # The progress lines (every 5 s) count the copies' replayed records, as /metrics does.
  replayed=$(grep -ho "standby copies [0-9]* (records replayed [0-9]\+" "$work/p1.err" \
    "$work/p3.err" | awk '{ print $NF }' | sort -n | tail -1)
  [ "${replayed:-0}" -gt 0 ] || fail "no progress line counts records replayed into standby copies"
  [ $((full_after * 8)) -le "$local_after" ] ||
    fail "with standbys the survivors restored $full_after tasks in full after the kill" \
      "(and $local_after from local state):" \
      "$(for name in p1 p3; do tail -n +"${lines_at_kill[$name]}" "$work/$name.err"; done |
         grep 'full restore from' | grep -v standby | head -3)"
  [ "$local_after" -gt 0 ] || fail "no tail restore after the kill"
  echo "--- a survivor's restores after the kill"
  tail -n +"$((lines_at_kill[p1] + 1))" "$work/p1.err" | grep "restored in" | grep -v standby | head -8
fi
echo "PASSED: 3 processes, one killed -9 and one joining, give the final tables of one process" \
  "($rows rows, $cdrs CDRs, $mode)"
