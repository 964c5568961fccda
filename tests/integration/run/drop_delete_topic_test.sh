#!/usr/bin/env bash
# DROP ... DELETE TOPIC and TERMINATE clean up on a real broker (the embedded one cannot delete
# topics): a first `sidestream run` fills a CSAS sink and a CTAS with internal topics (its
# repartition topic and changelog); a second declares the same queries, then drops the stream
# with DELETE TOPIC (which stops the query writing it, as in ksqlDB) and terminates the table's
# query. The stream's topic and the table query's internal topics are gone; the input topic
# and the table's own topic stay.
#   drop_delete_topic_test.sh SIDESTREAM_BINARY
# Exit 0 pass, 1 fail, 77 skipped (no real broker to be had).
set -uo pipefail
binary=$1
here=$(cd "$(dirname "$0")" && pwd)
source "$here/common.sh"
start_real_broker

topics() { kcat -b "$bootstrap" -L 2>/dev/null | sed -n 's/^ *topic "\([^"]*\)".*/\1/p' | sort; }

cat >"$work/create.sql" <<'SQL'
CREATE STREAM calls (caller STRING KEY, cell STRING)
  WITH (KAFKA_TOPIC='calls', VALUE_FORMAT='JSON', PARTITIONS=2);
CREATE STREAM copied AS SELECT caller, cell FROM calls;
CREATE TABLE per_cell AS SELECT cell, COUNT(*) AS calls FROM calls GROUP BY cell;
SQL
{ cat "$work/create.sql"; echo "DROP STREAM copied DELETE TOPIC;"; echo "TERMINATE ALL;"; } \
  >"$work/drop.sql"

"$binary" run "$work/create.sql" --bootstrap-servers "$bootstrap" --duration 3 \
  >"$work/run.out" 2>"$work/run.err" &
run_pid=$!
deadline=$((SECONDS + 60))
until grep -q "^ready:" "$work/run.err" 2>/dev/null; do
  kill -0 "$run_pid" 2>/dev/null || fail "sidestream run exited early"
  [ $SECONDS -lt $deadline ] || fail "sidestream run was not ready in 60 s"
  sleep 0.2
done
for i in $(seq 0 9); do echo "k$i:{\"cell\":\"C$((i % 2))\"}"; done |
  kcat -b "$bootstrap" -P -t calls -K: || fail "kcat could not produce"
wait "$run_pid" || fail "the first run failed"
run_pid=""
before=$(topics)
grep -qx COPIED <<<"$before" || fail "no COPIED topic after the first run: $before"
internal=$(grep -c '^sidestream_CTAS_PER_CELL' <<<"$before")
[ "$internal" -ge 2 ] || fail "expected the table query's repartition and changelog topics: $before"

"$binary" run "$work/drop.sql" --bootstrap-servers "$bootstrap" --duration 1 \
  >"$work/run.out" 2>"$work/run.err" || fail "the dropping run failed"
grep -q "^warning:" "$work/run.err" && fail "unexpected warning: $(grep '^warning:' "$work/run.err")"
after=$(topics)
grep -qx COPIED <<<"$after" && fail "COPIED is still there after DROP ... DELETE TOPIC: $after"
grep -q '^sidestream_CTAS_PER_CELL' <<<"$after" &&
  fail "internal topics are still there after TERMINATE: $(grep '^sidestream_' <<<"$after")"
grep -qx calls <<<"$after" || fail "the input topic went too: $after"
grep -qx PER_CELL <<<"$after" || fail "TERMINATE deleted the table's own topic: $after"
echo "PASSED: DROP ... DELETE TOPIC deleted COPIED; TERMINATE deleted $internal internal topics"
