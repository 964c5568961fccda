#!/usr/bin/env bash
# Crosses process boundaries: kcat produces CDR-like records, a `sidestream run` process
# computes, kcat consumes the results, which are then checked.
#   run_test.sh SIDESTREAM_BINARY embedded   # sidestream hosts the embedded broker
#   run_test.sh SIDESTREAM_BINARY real       # a real Kafka broker (tests/integration/real_kafka)
# Exit 0 pass, 1 fail, 77 skipped (no real broker to be had).
set -uo pipefail
binary=$1
mode=${2:-embedded}
here=$(cd "$(dirname "$0")" && pwd)
source "$here/common.sh"

# Waits until FILE holds a line matching PATTERN, for at most SECONDS.
wait_for_line() {
  local file=$1 pattern=$2 seconds=$3
  local deadline=$((SECONDS + seconds))
  while [ $SECONDS -lt $deadline ]; do
    grep -q "$pattern" "$file" 2>/dev/null && return 0
    kill -0 "$run_pid" 2>/dev/null || return 1
    sleep 0.2
  done
  return 1
}

if [ "$mode" = real ]; then
  start_real_broker
  "$binary" run "$here/queries.sql" --bootstrap-servers "$bootstrap" >"$work/run.out" 2>"$work/run.err" &
  run_pid=$!
else
  "$binary" run "$here/queries.sql" >"$work/run.out" 2>"$work/run.err" &
  run_pid=$!
  wait_for_line "$work/run.out" "^bootstrap.servers=" 30 || fail "no bootstrap address printed"
  bootstrap=$(sed -n 's/^bootstrap.servers=//p' "$work/run.out" | head -1)
fi

# 100 calls over three cells, one a second; durations 0..99.
for i in $(seq 0 99); do
  echo "+4917000000$((i % 7)):{\"cell\":\"C$((i % 3))\",\"duration\":$i,\"ts\":$((1700000000000 + i * 1000))}"
done > "$work/input.txt"
# The sink topics exist once the queries started; then produce.
deadline=$((SECONDS + 30))
until kcat -b "$bootstrap" -L -t LONG_CALLS 2>/dev/null | grep -q "partition 0"; do
  [ $SECONDS -lt $deadline ] || fail "sink topic LONG_CALLS was not created"
  sleep 0.2
done
kcat -b "$bootstrap" -P -t calls -K: -l "$work/input.txt" || fail "kcat could not produce"

# Consume until all results are there (deadline 60 s).
consume() {
  kcat -b "$bootstrap" -C -t "$1" -e -q -f '%k\t%s\n' 2>/dev/null
}
deadline=$((SECONDS + 60))
while :; do
  consume LONG_CALLS > "$work/long_calls.txt"
  consume CALLS_PER_CELL > "$work/per_cell.txt"
  long=$(wc -l < "$work/long_calls.txt")
  updates=$(wc -l < "$work/per_cell.txt")
  [ "$long" -ge 39 ] && [ "$updates" -ge 100 ] && break
  [ $SECONDS -lt $deadline ] || fail "expected 39 long calls and 100 table updates, got $long and $updates"
  sleep 0.5
done

# Check the results themselves.
[ "$long" -eq 39 ] || fail "expected exactly 39 long calls, got $long"
grep -q '"DURATION":99' "$work/long_calls.txt" || fail "long call with duration 99 missing"
if grep -q '"DURATION":60[,}]' "$work/long_calls.txt"; then fail "duration 60 is not > 60"; fi
# The last update per cell and minute: 100 calls over 60-second windows of three cells.
last_counts=$(awk -F'\t' '{last[$1]=$2} END {for (k in last) print k "\t" last[k]}' "$work/per_cell.txt")
total=$(echo "$last_counts" | sed -n 's/.*"CALLS":\([0-9]*\).*/\1/p' | awk '{s+=$1} END {print s}')
[ "$total" -eq 100 ] || fail "final counts per cell and window add up to $total, not 100"
echo "$last_counts" | head -1 | grep -qE '^C[0-9]@[0-9]{13}/[0-9]{13}[[:space:]]' || fail "windowed key is not readable: $(echo "$last_counts" | head -1)"

# The windowed table read back: every busy cell's window start, from the key, is its WS.
# The second minute (calls 40-99) has exactly 20 calls per cell.
deadline=$((SECONDS + 60))
while :; do
  busy=$(consume BUSY_CELLS | grep '"WS"')
  [ "$(echo "$busy" | grep -c .)" -ge 3 ] && break
  [ $SECONDS -lt $deadline ] || fail "expected 3 busy cells, got: $busy"
  sleep 0.5
done
echo "$busy" | while IFS=$'\t' read -r key value; do
  start=$(echo "$key" | sed -n 's/^C[0-9]@\([0-9]*\)\/[0-9]*$/\1/p')
  echo "$value" | grep -q "\"WS\":$start[,}]" || { echo "window lost: $key $value"; exit 1; }
done || fail "a windowed source's window did not reach WINDOWSTART"

# The table re-grouping: 30 subscribers on plans P0-P2, then 15 move to P3 and 5 leave
# (tombstones). Final counts: P0 3, P1 4, P2 3, P3 15.
{
  for i in $(seq 0 29); do echo "s$i:{\"plan\":\"P$((i % 3))\"}"; done
  for i in $(seq 0 14); do echo "s$i:{\"plan\":\"P3\"}"; done
  for i in $(seq 20 24); do echo "s$i:"; done
} > "$work/subscribers.txt"
kcat -b "$bootstrap" -P -t subscribers -K: -Z -l "$work/subscribers.txt" || fail "kcat could not produce"
expected_plans=$(printf 'P0\t3\nP1\t4\nP2\t3\nP3\t15')
deadline=$((SECONDS + 60))
while :; do
  plans=$(consume PLAN_COUNTS | awk -F'\t' '{last[$1]=$2} END {for (k in last) print k "\t" last[k]}' |
          sed 's/\t.*"SUBSCRIBERS":\([0-9]*\).*/\t\1/' | sort)
  [ "$plans" = "$expected_plans" ] && break
  [ $SECONDS -lt $deadline ] || fail "plan counts after updates and deletes: $(echo $plans), expected $(echo $expected_plans)"
  sleep 0.5
done

# The stream-table join. Plans for callers a-g; z has none. Topics are read in no set order,
# so rounds of calls go out until one round finds every plan (the table was read by then).
for c in a b c d e f g; do echo "$c:{\"plan\":\"plan-$c\"}"; done > "$work/plans.txt"
kcat -b "$bootstrap" -P -t plans -K: -l "$work/plans.txt" || fail "kcat could not produce plans"
rounds=0
deadline=$((SECONDS + 60))
while :; do
  rounds=$((rounds + 1))
  for c in a b c d e f g z; do echo "$c:{\"round\":$rounds}"; done |
    kcat -b "$bootstrap" -P -t dialed -K: || fail "kcat could not produce calls"
  sleep 0.5
  joined=$(consume DIALED_WITH_PLAN)
  round=$(echo "$joined" | grep "\"ROUND\":$rounds[,}]")
  [ "$(echo "$round" | grep -c '"PLAN":"plan-')" -eq 7 ] && break
  [ $SECONDS -lt $deadline ] || fail "no round of calls found all 7 plans: $(echo "$round" | head -8)"
done
echo "$joined" | while IFS=$'\t' read -r key value; do
  case "$value" in *'"PLAN":null'*) [ "$key" != z ] || continue ;; esac
  echo "$value" | grep -q "\"PLAN\":\"plan-$key\"" || { echo "wrong plan: $key $value"; exit 1; }
done || fail "a call was joined with another caller's plan"
echo "$round" | grep -q '^z.*"PLAN":null' || fail "the caller without a plan is missing from a LEFT JOIN"

kill -INT "$run_pid"
wait "$run_pid"
status=$?
run_pid=""
[ "$status" -eq 0 ] || fail "sidestream run exited with $status after Ctrl-C"
# 100 calls x 3 stages, 100 windowed updates read back, 50 table messages, and 65 changes
# (30 adds, 15 moves as a retraction and an add, 5 retractions) through the repartition topic.
# ... and the join's 7 plans and 8 calls a round.
consumed=$((515 + 7 + 8 * rounds))
grep -q "stopped: consumed $consumed" "$work/run.err" || fail "progress line missing: $(tail -2 "$work/run.err")"
echo "PASSED ($mode): 39 long calls, 100 table updates through a repartition topic, final counts add up to 100, a windowed table read back keeps its windows, a re-grouped table's counts follow updates and deletes, a stream-table join finds every plan ($rounds rounds)"
