#!/usr/bin/env bash
# Failover time with and without a standby replica, on a real Apache Kafka broker: a COUNT per
# caller over N distinct callers on one partition (one task, N keys in its RocksDB store and
# changelog). Two `sidestream run` processes (same application id, at_least_once, RocksDB,
# their own state directories) share it: one runs the task, the other stands by (with
# --num-standby-replicas 1 it keeps a warm copy; with 0 it has nothing). Once every caller is
# counted (and the standby had 5 s to catch up), the active process is killed with SIGKILL and
# one new CDR is produced; the time is from the kill to that CDR's count in the output topic:
# the group noticing the death (session.timeout.ms, 6 s), the rebalance, the restore (full,
# or the tail past the standby's checkpoint) and the processing. Prints both times and the
# new active's restore line.
#   bench/standby_failover.sh SIDESTREAM CDR_PRODUCE [N=1000000]
set -uo pipefail
binary=$1 cdr_produce=$2 n=${3:-1000000}
here=$(cd "$(dirname "$0")/../tests/integration/run" && pwd)
source "$here/common.sh"
command -v kcat >/dev/null || { echo "SKIPPED: kcat is missing"; exit 77; }
start_real_broker
declare -A pids
trap 'for pid in "${pids[@]}"; do kill -9 "$pid" 2>/dev/null; done; wait 2>/dev/null; cleanup' EXIT

source_sql="CREATE STREAM cdr (caller_key STRING KEY, cell_id STRING, duration_s INT)
  WITH (KAFKA_TOPIC='cdr', KEY_FORMAT='KAFKA', VALUE_FORMAT='JSON', PARTITIONS=1);"
echo "$source_sql" >"$work/source.sql"
"$binary" run "$work/source.sql" --bootstrap-servers "$bootstrap" --duration 1 >/dev/null 2>&1
start_ms=$(( $(date +%s) * 1000 - n - 15 * 60 * 1000 ))
"$cdr_produce" --bootstrap-servers "$bootstrap" --topic cdr --messages "$n" --subscribers "$n" \
  --distinct-callers-first true --start-ms "$start_ms" >"$work/produced.json" ||
  fail "could not produce"
callers=$(sed -n 's/.*"distinct_callers":\([0-9]*\).*/\1/p' "$work/produced.json")
echo "produced $n CDRs, $callers distinct callers, into one partition"

end_offset() {
  kcat -b "$bootstrap" -Q -t "$1:0:-1" 2>/dev/null | awk '{print $NF}'
}

run_mode() {
  local replicas=$1 table="CALLS_STANDBY_$1" name
  { echo "$source_sql"
    echo "CREATE TABLE $table AS SELECT caller_key, COUNT(*) AS calls FROM cdr GROUP BY caller_key"
    echo "  EMIT CHANGES;"; } >"$work/query$replicas.sql"
  for name in a b; do
    "$binary" run "$work/query$replicas.sql" --bootstrap-servers "$bootstrap" --stream-threads 1 \
      --state-store rocksdb --state-dir "$work/state-$replicas-$name" --instance-id "$name" \
      --num-standby-replicas "$replicas" >"$work/$replicas-$name.out" 2>"$work/$replicas-$name.err" &
    pids[$name]=$!
  done
  # Done when the output holds a count for every CDR (one update each).
  local deadline=$((SECONDS + 1800))
  until [ "$(end_offset "$table")" -ge "$n" ] 2>/dev/null; do
    [ $SECONDS -lt $deadline ] || fail "the counts did not reach $n records"
    sleep 1
  done
  sleep 5  # the commit, and the standby's catch-up (a pass a second)
  local active="" other
  for name in a b; do
    grep -v "standby of" "$work/$replicas-$name.err" | grep -q "restored in" && active=$name
  done
  [ -n "$active" ] || fail "no process runs the task"
  other=$([ "$active" = a ] && echo b || echo a)
  local before lines
  before=$(end_offset "$table")
  lines=$(wc -l <"$work/$replicas-$other.err")
  local t0 t1
  t0=$(date +%s%N)
  kill -9 "${pids[$active]}"
  echo "new-caller:{\"cell_id\":\"C1\",\"duration_s\":1}" | kcat -b "$bootstrap" -P -t cdr -K: ||
    fail "kcat could not produce"
  deadline=$((SECONDS + 600))
  until [ "$(end_offset "$table")" -gt "$before" ] 2>/dev/null; do
    [ $SECONDS -lt $deadline ] || fail "no new output within 600 s of the kill"
    sleep 0.05
  done
  t1=$(date +%s%N)
  echo "num.standby.replicas=$replicas: $(( (t1 - t0) / 1000000 )) ms from kill -9 to the first new output"
  tail -n +"$((lines + 1))" "$work/$replicas-$other.err" | grep "restored in\|full restore" |
    grep -v "standby of" | sed 's/^/  /'
  for name in a b; do kill -9 "${pids[$name]}" 2>/dev/null; done
  wait 2>/dev/null
  pids=()
}
run_mode 0
run_mode 1
