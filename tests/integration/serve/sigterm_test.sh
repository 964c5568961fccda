#!/usr/bin/env bash
# A busy `sidestream serve` stops cleanly on SIGTERM, as Kubernetes stops a pod: on a real
# Kafka broker, serve runs a copy (CSAS) and a count per cell (CTAS, through a repartition
# topic) while 200k records arrive; SIGTERM comes mid-stream. It must exit 0 within
# shutdown.timeout.ms; right after, every one of its consumer groups must be Empty (its
# members left; they did not wait out the session timeout), and the copy's committed offsets
# must not run ahead of its output (outputs are delivered before offsets are committed).
# A restart then finishes the input: nothing is lost.
#   sigterm_test.sh SIDESTREAM
# Exit 0 pass, 1 fail, 77 skipped (no real broker: Java, Maven or Maven Central missing).
set -uo pipefail
binary=$1
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../run/common.sh"
for program in kcat curl; do
  command -v "$program" >/dev/null || { echo "SKIPPED: $program is missing"; exit 77; }
done
start_real_broker
cache=${SIDESTREAM_KAFKA_CACHE:-$HOME/.cache/sidestream/kafka}
records=200000
deadline_ms=20000

cat >"$work/queries.sql" <<'SQL'
CREATE STREAM calls (caller VARCHAR KEY, cell VARCHAR, n INT)
  WITH (KAFKA_TOPIC='calls', VALUE_FORMAT='JSON', PARTITIONS=4);
CREATE STREAM copied WITH (KAFKA_TOPIC='COPIED') AS SELECT * FROM calls;
CREATE TABLE per_cell WITH (KAFKA_TOPIC='PER_CELL') AS
  SELECT cell, COUNT(*) AS calls FROM calls GROUP BY cell;
SQL
python3 -c "
for i in range($records): print('k%d:{\"cell\":\"C%d\",\"n\":%d}' % (i % 1000, i % 37, i))
" >"$work/calls.txt"

start_serve() {
  local name=$1
  "$binary" serve --port 0 --set "bootstrap.servers=$bootstrap" --set service.id=sigterm \
    --set "queries.file=$work/queries.sql" --set "shutdown.timeout.ms=$deadline_ms" \
    --set commit.interval.ms=500 >"$work/$name.out" 2>"$work/$name.err" &
  run_pid=$!
  local until=$((SECONDS + 90))
  until grep -q "^listening on" "$work/$name.out" 2>/dev/null; do
    kill -0 "$run_pid" 2>/dev/null || fail "serve exited at start: $(tail -5 "$work/$name.err")"
    [ $SECONDS -lt $until ] || fail "serve did not start in 90 s"
    sleep 0.2
  done
  base=$(sed -n 's/^listening on \(http:\/\/[0-9.:]*\).*/\1/p' "$work/$name.out")
}
consumed() {
  curl -s "$base/metrics" | awk '/^sidestream_query_records_consumed_total\{query_id="CSAS_COPIED/ {s+=$2} END {print s+0}'
}
groups() { java -cp "$cache/lib/*" "$here/../real_kafka/GroupState.java" "$bootstrap" sigterm 2>/dev/null; }
count_topic() { kcat -b "$bootstrap" -C -t "$1" -e -q -f '\n' 2>/dev/null | wc -l; }

start_serve serve1
kcat -b "$bootstrap" -P -t calls -K: -l "$work/calls.txt" || fail "kcat could not produce"
until=$((SECONDS + 120))
until [ "$(consumed)" -ge 20000 ]; do
  [ $SECONDS -lt $until ] || fail "the copy consumed only $(consumed) records in 120 s"
  sleep 0.2
done
busy=$(consumed)
[ "$busy" -lt "$records" ] || fail "the copy finished ($busy) before SIGTERM: not busy; raise records"
started=$(date +%s%N)
kill -TERM "$run_pid"
wait "$run_pid"
status=$?
run_pid=""
took_ms=$((($(date +%s%N) - started) / 1000000))
[ "$status" -eq 0 ] || fail "serve exited with $status after SIGTERM: $(tail -5 "$work/serve1.err")"
[ "$took_ms" -lt "$deadline_ms" ] || fail "serve took $took_ms ms to stop (deadline $deadline_ms)"
echo "SIGTERM after $busy of $records records: exited 0 in $took_ms ms"

groups >"$work/groups.txt" || fail "could not describe the consumer groups: $(groups 2>&1 | tail -3)"
cat "$work/groups.txt" | grep '^group'
[ "$(grep -c '^group' "$work/groups.txt")" -ge 3 ] || fail "expected the copy's, the count's stages' groups"
grep '^group' "$work/groups.txt" | grep -v ' Empty members=0' &&
  fail "a group still has members after serve stopped: it did not leave"
copy_group=$(awk '/^group .*COPIED/ {print $2}' "$work/groups.txt" | head -1)
committed=$(awk -v g="$copy_group" '$1 == "offset" && $2 == g {s += $5} END {print s+0}' "$work/groups.txt")
copied=$(count_topic COPIED)
echo "the copy committed $committed input offsets and wrote $copied records"
[ "$committed" -gt 0 ] || fail "the copy committed nothing at SIGTERM"
[ "$copied" -ge "$committed" ] || fail "committed offsets ($committed) ahead of the output ($copied)"

start_serve serve2
until=$((SECONDS + 180))
until [ "$(count_topic COPIED)" -ge "$records" ]; do
  [ $SECONDS -lt $until ] || fail "after the restart the copy holds $(count_topic COPIED) of $records"
  sleep 1
done
echo "PASSED: a busy serve stopped cleanly on SIGTERM in $took_ms ms, left its groups, committed behind its output, and a restart finished the input"
