#!/usr/bin/env bash
# Exactly-once across kill -9 on a real Apache Kafka broker, as Kafka Streams' EOS system test
# checks it: `sidestream run --processing-guarantee exactly_once_v2` runs a windowed
# aggregation, a two-stage count and a stream-table join over CDRs while the CDRs arrive in
# slices; it is killed with SIGKILL at random points and restarted each time. Then a
# read_committed reader of its outputs must see exactly the multiset of records of a reference
# run that was never interrupted (at_least_once, which without failures writes each record
# once): nothing twice, nothing missing.
#   kill_test.sh SIDESTREAM CDR_PRODUCE
# Size: 30,000 CDRs and 4 kills; SIDESTREAM_EOS_FULL=1 runs 200,000 CDRs and 20 kills;
# SIDESTREAM_EOS_CDRS, SIDESTREAM_EOS_KILLS and SIDESTREAM_EOS_SEED override; with
# SIDESTREAM_EOS_GUARANTEE=at_least_once the killed run must fail the test (duplicates).
# Exit 0 pass, 1 fail, 77 skipped (no real broker to be had).
set -uo pipefail
binary=$1
cdr_produce=$2
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../run/common.sh"
command -v kcat >/dev/null || { echo "SKIPPED: kcat is missing"; exit 77; }
if [ "${SIDESTREAM_EOS_FULL:-0}" = 1 ]; then cdrs=200000 kills=20; else cdrs=30000 kills=4; fi
cdrs=${SIDESTREAM_EOS_CDRS:-$cdrs}
kills=${SIDESTREAM_EOS_KILLS:-$kills}
seed=${SIDESTREAM_EOS_SEED:-$RANDOM}
RANDOM=$seed
echo "exactly-once kill test: $cdrs CDRs, $kills kills, seed $seed"
start_real_broker
ref_pid=""
cleanup_runs() {
  [ -n "$ref_pid" ] && kill -9 "$ref_pid" 2>/dev/null
  [ -n "$run_pid" ] && kill -9 "$run_pid" 2>/dev/null
  wait 2>/dev/null
  run_pid=""
  # SIDESTREAM_EOS_KEEP=DIR keeps the logs and dumps for a look.
  [ -n "${SIDESTREAM_EOS_KEEP:-}" ] && rm -rf "$SIDESTREAM_EOS_KEEP" && cp -r "$work" "$SIDESTREAM_EOS_KEEP"
  cleanup
}
trap cleanup_runs EXIT

sed 's/@SUFFIX@/REF/' "$here/cdr_jobs.sql" >"$work/ref.sql"
sed 's/@SUFFIX@/EOS/' "$here/cdr_jobs.sql" >"$work/eos.sql"

wait_ready() {
  local pid=$1 log=$2 deadline=$((SECONDS + 60))
  until grep -q "^ready:" "$log" 2>/dev/null; do
    kill -0 "$pid" 2>/dev/null || fail "sidestream run exited early: $(tail -5 "$log")"
    [ $SECONDS -lt $deadline ] || fail "sidestream run was not ready in 60 s: $(tail -5 "$log")"
    sleep 0.1
  done
}
runs=0
start_eos() {
  runs=$((runs + 1))
  "$binary" run "$work/eos.sql" --bootstrap-servers "$bootstrap" --stream-threads 1 \
    --processing-guarantee "${SIDESTREAM_EOS_GUARANTEE:-exactly_once_v2}" >"$work/eos$runs.out" 2>"$work/eos$runs.err" &
  run_pid=$!
  wait_ready "$run_pid" "$work/eos$runs.err"
}

# The reference run first: its statements create the input topics (PARTITIONS=4).
"$binary" run "$work/ref.sql" --bootstrap-servers "$bootstrap" --stream-threads 1 \
  >"$work/ref.out" 2>"$work/ref.err" &
ref_pid=$!
wait_ready "$ref_pid" "$work/ref.err"
start_eos

# Every CDR's event time lies in the last minutes (a broker deletes older segments); the
# profiles are an hour older than every call.
start_ms=$(( $(date +%s) * 1000 - cdrs - 15 * 60 * 1000 ))
profiles=$("$cdr_produce" --bootstrap-servers "$bootstrap" --topic profile --messages 5000 \
  --seed 7 --start-ms $((start_ms - 3600 * 1000))) || fail "could not produce the profiles"
callers=$(echo "$profiles" | sed -n 's/.*"distinct_callers":\([0-9]*\).*/\1/p')
# Both runs hold every profile in their join's table store, committed, before the first call
# arrives. Otherwise which calls find their profile would depend on timing, not on the input:
# a join task whose table input has not been fetched yet runs without it after max.task.idle
# (5 s), as Kafka Streams does, and a restart under load can take that long.
committed_profiles() {
  kcat -b "$bootstrap" -C -t "sidestream_CSAS_WITH_HOME_$1_2-join-0-right-changelog" -e -q \
    -X isolation.level=read_committed -f '%o\n' 2>/dev/null | grep -c .
}
deadline=$((SECONDS + 120))
until [ "$(committed_profiles REF)" -ge "$callers" ] && [ "$(committed_profiles EOS)" -ge "$callers" ]; do
  [ $SECONDS -lt $deadline ] || fail "the joins' table stores did not reach the $callers profiles: $(committed_profiles REF) and $(committed_profiles EOS)"
  sleep 0.5
done
slice=$(( (cdrs + kills) / (kills + 1) ))
produced=0
# Produces the next `$1` CDRs (fewer at the end).
produce_next() {
  local count=$(( cdrs - produced < $1 ? cdrs - produced : $1 ))
  [ "$count" -gt 0 ] || return 0
  "$cdr_produce" --bootstrap-servers "$bootstrap" --topic cdr --messages "$count" --seed 11 \
    --skip "$produced" --start-ms "$start_ms" >/dev/null || fail "could not produce CDRs"
  produced=$((produced + count))
}

# Records a read_committed reader sees in the killed run's outputs.
committed_outputs() {
  local output total=0 count
  for output in CALLS_PER_MINUTE CALLS_PER_CELL WITH_HOME; do
    count=$(kcat -b "$bootstrap" -C -t "${output}_EOS" -e -q -X isolation.level=read_committed \
      -f '%o\n' 2>/dev/null | grep -c .)
    total=$((total + count))
  done
  echo "$total"
}

for kill in $(seq 1 "$kills"); do
  # A tenth of the slice first, to see the run at work: once it committed results of its own
  # (after it rejoined the groups, which waits for the killed members to time out), the rest
  # of the slice, and a random 0 to 0.5 s later the kill, while it works through it.
  before=$(committed_outputs)
  produce_next $((slice / 10))
  deadline=$((SECONDS + 90))
  until [ "$(committed_outputs)" -gt "$before" ]; do
    [ $SECONDS -lt $deadline ] || fail "run $runs committed no output in 90 s: $(tail -3 "$work/eos$runs.err")"
    sleep 0.2
  done
  produce_next $((slice - slice / 10))
  pause=$(( RANDOM % 500 ))
  sleep "$(printf '%d.%03d' $((pause / 1000)) $((pause % 1000)))"
  kill -9 "$run_pid"
  wait "$run_pid" 2>/dev/null
  echo "kill $kill: SIGKILL of run $runs ${pause} ms after its slice was produced: $(committed_outputs) outputs committed for $produced CDRs"
  start_eos
done
produce_next "$cdrs"

# The outputs as "<output> <key> <value>" lines, sorted: a multiset.
dump() {
  local suffix=$1 output
  for output in CALLS_PER_MINUTE CALLS_PER_CELL WITH_HOME; do
    kcat -b "$bootstrap" -C -t "${output}_$suffix" -e -q -X isolation.level=read_committed \
      -f "$output %k %s\n" 2>/dev/null
  done | LC_ALL=C sort
}

# The reference is done when its outputs stop growing, the count per cell holding one record
# per CDR.
deadline=$((SECONDS + 300))
last=-1 stable=0
while :; do
  dump REF >"$work/ref.txt"
  now=$(wc -l <"$work/ref.txt")
  cells=$(grep -c '^CALLS_PER_CELL ' "$work/ref.txt")
  if [ "$now" -eq "$last" ] && [ "$cells" -eq "$cdrs" ]; then stable=$((stable + 1)); else stable=0; fi
  [ $stable -ge 2 ] && break
  last=$now
  [ $SECONDS -lt $deadline ] || fail "the reference run did not finish: $now records, $cells per-cell counts of $cdrs"
  sleep 2
done
echo "reference run: $now output records"

# The killed run is done when it has as many records as the reference, and stays so.
deadline=$((SECONDS + 300))
while :; do
  dump EOS >"$work/eos.txt"
  got=$(wc -l <"$work/eos.txt")
  if [ "$got" -ge "$now" ]; then
    sleep 3
    dump EOS >"$work/eos.txt"
    break
  fi
  [ $SECONDS -lt $deadline ] || break
  sleep 2
done
kill -INT "$run_pid" 2>/dev/null
wait "$run_pid" 2>/dev/null
run_pid=""
sed -i 's/^\([A-Z_]*\)_EOS /\1 /' "$work/eos.txt" 2>/dev/null
missing=$(LC_ALL=C comm -23 "$work/ref.txt" "$work/eos.txt" | wc -l)
extra=$(LC_ALL=C comm -13 "$work/ref.txt" "$work/eos.txt" | wc -l)
for output in CALLS_PER_MINUTE CALLS_PER_CELL WITH_HOME; do
  echo "$output: $(grep -c "^$output " "$work/ref.txt") records in the reference, $(grep -c "^$output " "$work/eos.txt") after the kills"
done
if [ "$missing" -ne 0 ] || [ "$extra" -ne 0 ]; then
  echo "--- first differences (< only in the reference, > only after the kills)"
  diff "$work/ref.txt" "$work/eos.txt" | head -20
  for log in "$work"/eos*.err; do echo "--- $log"; grep -v "^consumed" "$log" | tail -5; done
  fail "after $kills kills the read_committed output differs from the uninterrupted run's: $missing missing, $extra extra (of $now)"
fi
echo "PASSED: after $kills kills -9 ($runs runs) a read_committed reader sees exactly the $now records of the uninterrupted run ($cdrs CDRs; seed $seed)"
