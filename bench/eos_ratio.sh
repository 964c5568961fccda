#!/usr/bin/env bash
# W2 (tumbling 1 min COUNT(*), AVG(setup_ms) per cell_id, EMIT CHANGES: a repartition, then a
# windowed aggregate) through a real Apache Kafka broker under at_least_once and
# exactly_once_v2, alternating, in one run on one broker: each run is a fresh `sidestream run`
# (one stream thread, each guarantee's default commit interval: 2 s and 100 ms) over the same
# N CDRs (4 partitions), timed from its queries' subscription to its last result in the output topic (the last
# offsets polled every 0.1 s or so; counted read_committed at the end). Prints records/s per run and the median ratio EOS / ALOS.
#   bench/eos_ratio.sh SIDESTREAM CDR_PRODUCE [N=200000] [RUNS=3]
set -uo pipefail
binary=$1 cdr_produce=$2 n=${3:-200000} runs=${4:-3}
here=$(cd "$(dirname "$0")/../tests/integration/run" && pwd)
source "$here/common.sh"
start_real_broker
cat >"$work/source.sql" <<SQL
CREATE STREAM cdr (caller_key STRING KEY, cell_id STRING, setup_ms INT)
  WITH (KAFKA_TOPIC='cdr', KEY_FORMAT='KAFKA', VALUE_FORMAT='JSON', PARTITIONS=4);
SQL
"$binary" run "$work/source.sql" --bootstrap-servers "$bootstrap" --duration 1 >/dev/null 2>&1
"$cdr_produce" --bootstrap-servers "$bootstrap" --topic cdr --messages "$n" >/dev/null ||
  fail "could not produce"
# The offset of the last result in each partition of $1 (reading the last 50 offsets only, so
# that a poll stays cheap), read uncommitted: under exactly_once_v2 the log's tail is mostly an
# open transaction, which a read_committed reader of the tail would not see until the end. The
# last transaction commits within a commit interval (100 ms) of its last result.
tail_offsets() {
  local partition
  for partition in 0 1 2 3; do
    kcat -b "$bootstrap" -C -t "$1" -p "$partition" -o -50 -e -q \
      -X isolation.level=read_uncommitted -f '%o\n' 2>/dev/null | tail -1
  done | tr '\n' ' '
}
ratios=()
for run in $(seq 1 "$runs"); do
  order=(at_least_once exactly_once_v2)
  [ $((run % 2)) -eq 0 ] && order=(exactly_once_v2 at_least_once)
  declare -A rate
  for guarantee in "${order[@]}"; do
    table="W2_${guarantee^^}_$run"
    { cat "$work/source.sql"
      echo "CREATE TABLE $table AS SELECT cell_id, COUNT(*) AS calls, AVG(setup_ms) AS avg_setup_ms"
      echo "  FROM cdr WINDOW TUMBLING (SIZE 1 MINUTE, GRACE PERIOD 30 SECONDS) GROUP BY cell_id"
      echo "  EMIT CHANGES;"; } >"$work/w2.sql"
    "$binary" run "$work/w2.sql" --bootstrap-servers "$bootstrap" --stream-threads 1 \
      --processing-guarantee "$guarantee" >"$work/run.out" 2>"$work/run.err" &
    run_pid=$!
    # From the moment its queries are subscribed ("ready:"): the group's join counts, the same
    # for both guarantees. (The first result's arrival, polled, proved unreliable: a poll of
    # still empty partitions can take seconds.)
    until grep -q "^ready:" "$work/run.err" 2>/dev/null; do sleep 0.05; done
    first=$(date +%s.%N) last="" last_change=$first
    deadline=$((SECONDS + 900))
    # Done when the last offsets stood still for 8 s (longer than either commit interval, and
    # than a rebalance pause).
    while :; do
      now=$(date +%s.%N)
      offsets=$(tail_offsets "$table")
      [ "$offsets" != "$last" ] && { last=$offsets; last_change=$now; }
      [ -n "${offsets// /}" ] && [ "$(echo "$now - $last_change > 8" | bc)" = 1 ] && break
      [ $SECONDS -lt $deadline ] || fail "$guarantee run $run did not finish"
      sleep 0.1
    done
    last_count=$(kcat -b "$bootstrap" -C -t "$table" -e -q -X isolation.level=read_committed \
      -f '%o\n' 2>/dev/null | grep -c .)
    kill -INT "$run_pid"; wait "$run_pid"; run_pid=""
    seconds=$(echo "$last_change - $first" | bc)
    rate[$guarantee]=$(echo "$n / $seconds" | bc)
    echo "run $run $guarantee: $last_count results, ${seconds} s, ${rate[$guarantee]} records/s"
  done
  ratios+=("$(echo "scale=3; ${rate[exactly_once_v2]} / ${rate[at_least_once]}" | bc)")
done
median=$(printf '%s\n' "${ratios[@]}" | sort -n | sed -n "$(( (${#ratios[@]} + 1) / 2 ))p")
echo "EOS / ALOS records/s per run: ${ratios[*]}; median $median"
