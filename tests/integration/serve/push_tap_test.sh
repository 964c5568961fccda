#!/usr/bin/env bash
# Scalable push queries (push.v2.enabled, ksqlDB's ksql.query.push.v2.enabled) on a real Kafka
# broker: a push query of filters and projections over a persistent query's sink, over HTTP/2
# (/query-stream) and HTTP/1.1 (/query), taps that query's results in process. It sees the
# rows produced after it started (and not those before), the broker's consumer groups are the
# same before and while it runs (it has no consumer), and closing the connection removes the
# tap. A LIMIT ends it with ksqlDB's "Limit Reached". A push query the tap cannot serve
# (auto.offset.reset=earliest) still runs as a query of its own, with its consumer group.
#   push_tap_test.sh SIDESTREAM
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

"$binary" serve --port 0 --set "bootstrap.servers=$bootstrap" --set service.id=taptest \
  >"$work/run.out" 2>"$work/run.err" &
run_pid=$!
until=$((SECONDS + 90))
until grep -q "^listening on" "$work/run.out" 2>/dev/null; do
  kill -0 "$run_pid" 2>/dev/null || fail "serve exited at start"
  [ $SECONDS -lt $until ] || fail "serve did not start in 90 s"
  sleep 0.2
done
base=$(sed -n 's/^listening on \(http:\/\/[0-9.:]*\).*/\1/p' "$work/run.out")

post() {  # post PATH BODY: prints the status, the body in $work/body
  printf '%s' "$2" >"$work/request"
  curl -s -m 30 -o "$work/body" -w '%{http_code}' -H 'Content-Type: application/json' \
    --data-binary "@$work/request" "$base$1"
}
metric() { curl -s "$base/metrics" | awk -v m="$1" '$1 == m {print $2}'; }
wait_metric() {  # wait_metric NAME VALUE
  for _ in $(seq 1 150); do
    [ "$(metric "$1")" = "$2" ] && return 0
    sleep 0.1
  done
  fail "$1 is $(metric "$1"), not $2"
}
wait_for() {  # wait_for FILE PATTERN
  for _ in $(seq 1 300); do
    grep -q -- "$2" "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  fail "no $2 in $1: $(head -c 600 "$1")"
}
groups() {
  java -cp "$cache/lib/*" "$here/../real_kafka/GroupState.java" "$bootstrap" "" 2>"$work/groups.err" |
    awk '$1 == "group" {print $2}'
}
call() { printf '%s\n' "$1:{\"SECS\":$2,\"CELL\":\"$3\"}" | kcat -b "$bootstrap" -P -t calls -K: || fail "kcat"; }

got=$(post /ksql '{"ksql":"CREATE STREAM CALLS (CALLER STRING KEY, SECS INT, CELL STRING) WITH (kafka_topic='"'"'calls'"'"', value_format='"'"'JSON'"'"', partitions=2); CREATE STREAM LONG_CALLS AS SELECT * FROM CALLS WHERE SECS > 5;"}')
[ "$got" = 200 ] || fail "create -> $got $(cat "$work/body")"
# Before any push query: the persistent query has joined its group.
call c0 10 a
for _ in $(seq 1 300); do
  produced=$(curl -s "$base/metrics" | awk '/^sidestream_query_records_produced_total/ {s += $2} END {print s + 0}')
  [ "$produced" -ge 1 ] && break
  sleep 0.1
done
[ "$produced" -ge 1 ] || fail "the persistent query produced nothing"
groups >"$work/groups.before" || fail "could not list the groups: $(tail -3 "$work/groups.err")"
grep -q . "$work/groups.before" || fail "no consumer group at all: the listing is broken"

# Two taps: HTTP/2 /query-stream (delimited rows), HTTP/1.1 /query (ksqlDB's array).
curl -s -N -m 120 --http2-prior-knowledge "$base/query-stream" -o "$work/h2.out" \
  -d '{"sql":"SELECT CALLER, SECS * 2 AS D FROM LONG_CALLS WHERE CELL = '"'"'a'"'"' EMIT CHANGES;"}' &
h2_pid=$!
curl -s -N -m 120 --http1.1 "$base/query" -o "$work/h1.out" \
  -d '{"ksql":"SELECT * FROM LONG_CALLS EMIT CHANGES;"}' &
h1_pid=$!
wait_for "$work/h2.out" '"columnNames":\["CALLER","D"\]'
wait_for "$work/h1.out" '"header"'
wait_metric sidestream_push_query_taps_open 2
call c1 20 a
call c2 1 a   # not in LONG_CALLS
call c3 30 b  # not in the first tap's WHERE
wait_for "$work/h2.out" '^\["c1",40\]$'
wait_for "$work/h1.out" '{"row":{"columns":\["c1",20,"a"\]}}'
wait_for "$work/h1.out" '{"row":{"columns":\["c3",30,"b"\]}}'
grep -q '"c0"' "$work/h2.out" "$work/h1.out" && fail "a tap saw c0, produced before it started"
grep -q '"c2"\|"c3"' "$work/h2.out" && fail "the HTTP/2 tap ignored its WHERE: $(cat "$work/h2.out")"
groups >"$work/groups.during" || fail "could not list the groups: $(tail -3 "$work/groups.err")"
diff -u "$work/groups.before" "$work/groups.during" ||
  fail "the taps changed the broker's consumer groups"
[ "$(metric sidestream_push_queries_open)" = 2 ] || fail "push queries open: $(metric sidestream_push_queries_open)"
echo "taps saw their rows; consumer groups unchanged: $(tr '\n' ' ' <"$work/groups.during")"
# Closing the connection removes the tap: over HTTP/2 at once (h2o reads the connection's
# end); over HTTP/1.1 h2o reads nothing while it streams a response, and sees the client gone
# when a write fails (the first write after the close only draws the peer's reset), so rows
# come after the close.
kill "$h2_pid"
wait "$h2_pid" 2>/dev/null
wait_metric sidestream_push_query_taps_open 1
kill "$h1_pid"
wait "$h1_pid" 2>/dev/null
for i in $(seq 1 20); do
  call "c7_$i" 70 b
  [ "$(metric sidestream_push_query_taps_open)" = 0 ] && break
  sleep 0.5
done
wait_metric sidestream_push_query_taps_open 0
wait_metric sidestream_push_queries_open 0
echo "closing the connections removed the taps"

# LIMIT over /query: the tap ends itself with ksqlDB's final message.
curl -s -N -m 60 --http1.1 "$base/query" -o "$work/limit.out" \
  -d '{"ksql":"SELECT CALLER FROM LONG_CALLS EMIT CHANGES LIMIT 2;"}' &
limit_pid=$!
wait_for "$work/limit.out" '"header"'
wait_metric sidestream_push_query_taps_open 1
call c4 40 a
call c5 50 a
call c6 60 a
wait "$limit_pid" || fail "the LIMIT query did not end: $(cat "$work/limit.out")"
grep -q '"finalMessage":"Limit Reached"' "$work/limit.out" || fail "LIMIT: $(cat "$work/limit.out")"
[ "$(grep -c '"row"' "$work/limit.out")" = 2 ] || fail "LIMIT 2: $(cat "$work/limit.out")"
wait_metric sidestream_push_query_taps_open 0
echo "LIMIT 2 ended the tap with Limit Reached"

# From earliest: not a tap; it runs as a query of its own, with a consumer group.
curl -s -N -m 120 --http2-prior-knowledge "$base/query-stream" -o "$work/old.out" \
  -d '{"sql":"SELECT * FROM LONG_CALLS EMIT CHANGES;","properties":{"auto.offset.reset":"earliest"}}' &
old_pid=$!
wait_for "$work/old.out" '^\["c0",10,"a"\]$'
[ "$(metric sidestream_push_query_taps_open)" = 0 ] || fail "an earliest push query was tapped"
groups >"$work/groups.old" || fail "could not list the groups: $(tail -3 "$work/groups.err")"
[ "$(wc -l <"$work/groups.old")" -gt "$(wc -l <"$work/groups.before")" ] ||
  fail "the query of its own made no consumer group: $(cat "$work/groups.old")"
kill "$old_pid"
wait "$old_pid" 2>/dev/null
wait_metric sidestream_push_queries_open 0
echo "PASSED: taps over HTTP/2 and HTTP/1.1 saw rows from their start, made no consumer group ($(wc -l <"$work/groups.before") before and during), and went with their connections"
