#!/usr/bin/env bash
# Pull queries, /inserts-stream, /status and the limits of `sidestream serve`, with curl over
# HTTP/1.1 and HTTP/2 (prior knowledge): rows go in through /inserts-stream, a CREATE TABLE AS
# SELECT aggregates them, and pull queries read its stores (key lookups, IN, ranges, scans
# with WHERE and LIMIT, window bounds) in ksqlDB's response shapes.
set -uo pipefail
sidestream=$1
here=$(cd "$(dirname "$0")" && pwd)
source "$here/common.sh"
command -v curl >/dev/null || { echo "SKIPPED: curl is missing"; exit 77; }
start_serve --set max.persistent.queries=2 --set max.push.queries=1

# post FLAG PATH BODY: prints "status", the body in $work/body.
post() {
  printf '%s' "$3" >"$work/request"
  curl -s -m 30 $1 -o "$work/body" -w '%{http_code}' -H 'Content-Type: application/json' \
    --data-binary "@$work/request" "$base$2"
}
expect_post() {  # expect_post STATUS FLAG PATH BODY PATTERN
  local got
  got=$(post "$2" "$3" "$4")
  [ "$got" = "$1" ] || fail "$3 $4 -> $got, expected $1: $(head -c 400 "$work/body")"
  grep -q -- "$5" "$work/body" || fail "$3 $4: body lacks $5: $(head -c 600 "$work/body")"
}

expect_post 200 --http1.1 /ksql '{"ksql":"CREATE STREAM CALLS (CALLER STRING KEY, SECS INT) WITH (kafka_topic='"'"'calls'"'"', value_format='"'"'JSON'"'"', partitions=2); CREATE TABLE TOTALS AS SELECT CALLER, COUNT(*) AS N, SUM(SECS) AS SECS FROM CALLS GROUP BY CALLER; CREATE TABLE PER_MINUTE AS SELECT CALLER, COUNT(*) AS N FROM CALLS WINDOW TUMBLING (SIZE 1 MINUTE) GROUP BY CALLER;"}' \
  '"commandId":"table/`TOTALS`/create"'

# The limit on persistent queries names itself.
expect_post 400 --http1.1 /ksql '{"ksql":"CREATE TABLE MORE AS SELECT CALLER, COUNT(*) AS N FROM CALLS GROUP BY CALLER;"}' \
  'Configured limit: 2.'
grep -q "max.persistent.queries" "$work/body" || fail "limit message: $(cat "$work/body")"

# /status/<commandId> in ksqlDB's CommandStatus shape; an unknown one is 404.
got=$(curl -s -o "$work/body" -w '%{http_code}' "$base/status/table/\`TOTALS\`/create")
[ "$got" = 200 ] && grep -q '"status":"SUCCESS"' "$work/body" || fail "/status -> $got $(cat "$work/body")"
got=$(curl -s -o "$work/body" -w '%{http_code}' "$base/status/stream/NOPE/create")
[ "$got" = 404 ] && grep -q '"error_code":40400' "$work/body" || fail "/status unknown -> $got"

# /inserts-stream: one ack per row, an error object for a bad row, over HTTP/1.1 and HTTP/2.
printf '%s\n' '{"target":"CALLS"}' '{"CALLER":"alice","SECS":10,"ROWTIME":60000}' \
  '{"CALLER":"bob","SECS":5,"ROWTIME":60500}' '{"CALLER":"alice","SECS":"x"}' \
  '{"CALLER":"carol","SECS":7,"ROWTIME":125000}' >"$work/inserts"
got=$(curl -s --http1.1 -o "$work/acks1" -w '%{http_code}' --data-binary "@$work/inserts" \
  "$base/inserts-stream")
[ "$got" = 200 ] || fail "inserts-stream -> $got $(cat "$work/acks1")"
[ "$(sed -n 1p "$work/acks1")" = '{"status":"ok","seq":0}' ] || fail "acks: $(cat "$work/acks1")"
sed -n 3p "$work/acks1" | grep -q '"status":"error","seq":2,"error_code":40000' ||
  fail "bad row ack: $(cat "$work/acks1")"
[ "$(sed -n 4p "$work/acks1")" = '{"status":"ok","seq":3}' ] || fail "acks: $(cat "$work/acks1")"
printf '%s\n' '{"target":"calls"}' '{"CALLER":"alice","SECS":20,"ROWTIME":61000}' >"$work/inserts2"
got=$(curl -s --http2-prior-knowledge -o "$work/acks2" -w '%{http_code} %{http_version}' \
  --data-binary "@$work/inserts2" "$base/inserts-stream")
[ "$got" = "200 2" ] && grep -q '{"status":"ok","seq":0}' "$work/acks2" ||
  fail "inserts-stream h2 -> $got $(cat "$work/acks2")"
expect_post 400 --http1.1 /inserts-stream '{"target":"NOPE"}' 'unknown stream'
expect_post 400 --http1.1 /inserts-stream '{"target":"TOTALS"}' 'Cannot insert into a table'
expect_post 400 --http1.1 /inserts-stream 'nope' '"error_code":40000'

# Pull queries: ask until the table has caught up with the inserts (its stream thread applies
# them on its next poll), then check the shapes.
pull_until() {  # pull_until FLAG PATH BODY PATTERN
  for _ in $(seq 1 100); do
    [ "$(post "$1" "$2" "$3")" = 200 ] && grep -q -- "$4" "$work/body" && return 0
    sleep 0.1
  done
  fail "pull $3: no $4 in $(head -c 600 "$work/body")"
}
pull_until --http1.1 /query '{"ksql":"SELECT * FROM TOTALS WHERE CALLER='"'"'alice'"'"';"}' \
  '{"row":{"columns":\["alice",2,30\]}}'
grep -q '"schema":"`CALLER` STRING KEY, `N` BIGINT, `SECS` INTEGER"' "$work/body" ||
  fail "pull header: $(cat "$work/body")"
grep -q 'finalMessage' "$work/body" && fail "a pull query has no finalMessage: $(cat "$work/body")"
# HTTP/2, /query-stream: a delimited header, then one array per row.
pull_until --http2-prior-knowledge /query-stream \
  '{"sql":"SELECT CALLER, N FROM TOTALS WHERE CALLER IN ('"'"'bob'"'"', '"'"'carol'"'"', '"'"'zed'"'"');"}' \
  '^\["carol",1\]$'
grep -q '"columnNames":\["CALLER","N"\]' "$work/body" || fail "h2 header: $(cat "$work/body")"
grep -q '^\["bob",1\]$' "$work/body" || fail "IN: $(cat "$work/body")"
[ "$(wc -l <"$work/body")" = 3 ] || fail "IN matched extra rows: $(cat "$work/body")"
# Accept: application/json gives one JSON array.
curl -s --http2-prior-knowledge -H 'Accept: application/json' "$base/query-stream" \
  -d '{"sql":"SELECT CALLER FROM TOTALS WHERE CALLER > '"'"'b'"'"';"}' >"$work/array"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d[0]["columnNames"]==["CALLER"] and sorted(d[1:])==[["bob"],["carol"]], d' \
  "$work/array" || fail "range as a JSON array: $(cat "$work/array")"
# A full scan with WHERE on a value column and LIMIT.
post --http1.1 /query '{"ksql":"SELECT CALLER FROM TOTALS WHERE SECS >= 5 LIMIT 2;"}' >/dev/null
[ "$(grep -c '"row"' "$work/body")" = 2 ] || fail "LIMIT: $(cat "$work/body")"
# A missing key: the header alone.
expect_post 200 --http1.1 /query '{"ksql":"SELECT * FROM TOTALS WHERE CALLER='"'"'nobody'"'"';"}' \
  '"header"'
grep -q '"row"' "$work/body" && fail "missing key gave rows: $(cat "$work/body")"
# Windowed: WINDOWSTART bounds pick windows.
pull_until --http1.1 /query \
  '{"ksql":"SELECT CALLER, WINDOWSTART, WINDOWEND, N FROM PER_MINUTE WHERE CALLER='"'"'alice'"'"' AND WINDOWSTART >= 60000 AND WINDOWSTART < 120000;"}' \
  '{"row":{"columns":\["alice",60000,120000,2\]}}'
post --http1.1 /query '{"ksql":"SELECT * FROM PER_MINUTE WHERE WINDOWSTART >= 120000;"}' >/dev/null
grep -q '\["carol",120000,180000,1\]' "$work/body" && [ "$(grep -c '"row"' "$work/body")" = 1 ] ||
  fail "window range: $(cat "$work/body")"
# ksqlDB's errors: a stream, a table nothing materializes, unsupported clauses, a bad WHERE.
expect_post 200 --http1.1 /ksql '{"ksql":"CREATE TABLE USERS (ID STRING PRIMARY KEY, NAME STRING) WITH (kafka_topic='"'"'users'"'"', value_format='"'"'JSON'"'"', partitions=1);"}' \
  'Table created'
expect_post 400 --http1.1 /query '{"ksql":"SELECT * FROM USERS;"}' \
  "The \`USERS\` table isn't queryable."
# A pull query on a stream scans its topic (pull_stream_test.sh); an aggregate there is refused.
expect_post 400 --http2-prior-knowledge /query-stream '{"sql":"SELECT COUNT(*) FROM CALLS;"}' \
  '"@type":"statement_error"'
expect_post 400 --http1.1 /query \
  '{"ksql":"SELECT CALLER, COUNT(*) FROM TOTALS GROUP BY CALLER;"}' \
  "Pull queries don't support GROUP BY clauses"
expect_post 400 --http1.1 /query '{"ksql":"SELECT * FROM TOTALS WHERE CALLER=1;"}' \
  '"error_code":40001'

# max.push.queries=1: a second push query gets 429 naming the limit; pull queries still run.
timeout 20 curl -s -N --http2-prior-knowledge "$base/query-stream" \
  -d '{"sql":"SELECT * FROM CALLS EMIT CHANGES;"}' >"$work/open" &
open_pid=$!
for _ in $(seq 1 100); do
  [ "$(post --http1.1 /query '{"ksql":"SELECT * FROM CALLS EMIT CHANGES;"}')" = 429 ] && break
  sleep 0.1
done
grep -q '"error_code":42900' "$work/body" && grep -q 'max.push.queries' "$work/body" ||
  fail "push limit: $(cat "$work/body")"
expect_post 200 --http1.1 /query '{"ksql":"SELECT * FROM TOTALS WHERE CALLER='"'"'bob'"'"';"}' \
  '"row"'
kill "$open_pid"; wait "$open_pid" 2>/dev/null

kill -0 "$serve_pid" || fail "serve died"
echo "PASSED"
