#!/usr/bin/env bash
# Pull queries on streams (ksqlDB 0.23+): a SELECT without EMIT CHANGES on a stream scans its
# topic from the start to the end offsets captured when it starts, in ksqlDB's shapes: on
# /query a JSON array of a header (no KEY marks), rows and a final message ("Query Completed",
# or "Limit Reached"); on /query-stream a header line and one array per row. Rows go in through
# /inserts-stream over several partitions; an empty stream gives the header alone; ksqlDB's
# refusals (GROUP BY, ROWOFFSET, negative LIMIT, an unknown stream) are 400s naming the cause.
set -uo pipefail
sidestream=$1
here=$(cd "$(dirname "$0")" && pwd)
source "$here/common.sh"
command -v curl >/dev/null || { echo "SKIPPED: curl is missing"; exit 77; }
start_serve

post() {  # post FLAG PATH BODY [ACCEPT]: prints the status, the body in $work/body
  printf '%s' "$3" >"$work/request"
  curl -s -m 30 $1 -o "$work/body" -w '%{http_code}' -H 'Content-Type: application/json' \
    ${4:+-H "Accept: $4"} --data-binary "@$work/request" "$base$2"
}
expect_body() {  # expect_body WHAT EXPECTED_FILE
  diff -u "$2" "$work/body.cmp" >"$work/diff" || fail "$1: $(cat "$work/diff")"
  echo "ok: $1"
}
# The body with the query id masked (it differs each run); rows sorted where asked.
normalize() {  # normalize [sort]
  sed -E 's/"queryId":"[^"]*"/"queryId":"Q"/' "$work/body" >"$work/body.cmp"
  if [ "${1:-}" = sort ]; then
    { head -1 "$work/body.cmp"; tail -n +2 "$work/body.cmp" | sort; } >"$work/sorted"
    mv "$work/sorted" "$work/body.cmp"
  fi
}

got=$(post --http1.1 /ksql '{"ksql":"CREATE STREAM CALLS (CALLER STRING KEY, SECS INT) WITH (kafka_topic='"'"'calls'"'"', value_format='"'"'JSON'"'"', partitions=3); CREATE STREAM QUIET (ID INT KEY, V STRING) WITH (kafka_topic='"'"'quiet'"'"', value_format='"'"'JSON'"'"', partitions=2);"}')
[ "$got" = 200 ] || fail "CREATE STREAM -> $got $(cat "$work/body")"

printf '%s\n' '{"target":"CALLS"}' '{"CALLER":"a","SECS":10}' '{"CALLER":"b","SECS":20}' \
  '{"CALLER":"c","SECS":30}' '{"CALLER":"d","SECS":40}' '{"CALLER":"e","SECS":50}' \
  '{"CALLER":"a","SECS":60}' >"$work/inserts"
got=$(curl -s --http1.1 -o "$work/acks" -w '%{http_code}' --data-binary "@$work/inserts" \
  "$base/inserts-stream")
[ "$got" = 200 ] && [ "$(grep -c '"status":"ok"' "$work/acks")" = 6 ] ||
  fail "inserts-stream -> $got $(cat "$work/acks")"

# /query-stream over HTTP/2: every row of the three partitions (sorted: partitions interleave).
got=$(post --http2-prior-knowledge /query-stream '{"sql":"SELECT * FROM CALLS;"}')
[ "$got" = 200 ] || fail "SELECT * -> $got $(cat "$work/body")"
normalize sort
cat >"$work/expected" <<'END'
{"columnNames":["CALLER","SECS"],"columnTypes":["STRING","INTEGER"],"queryId":"Q"}
["a",10]
["a",60]
["b",20]
["c",30]
["d",40]
["e",50]
END
expect_body "/query-stream: every row of every partition" "$work/expected"

# WHERE and a projection with an expression.
got=$(post --http2-prior-knowledge /query-stream \
  '{"sql":"SELECT CALLER, SECS * 2 AS DOUBLED FROM CALLS WHERE SECS > 20 AND CALLER <> '"'"'e'"'"';"}')
[ "$got" = 200 ] || fail "WHERE -> $got $(cat "$work/body")"
normalize sort
cat >"$work/expected" <<'END'
{"columnNames":["CALLER","DOUBLED"],"columnTypes":["STRING","INTEGER"],"queryId":"Q"}
["a",120]
["c",60]
["d",80]
END
expect_body "/query-stream: WHERE and projection" "$work/expected"

# /query over HTTP/1.1: ksqlDB's array, with the final message; LIMIT ends it early.
got=$(post --http1.1 /query '{"ksql":"SELECT CALLER FROM CALLS WHERE CALLER = '"'"'a'"'"';"}')
[ "$got" = 200 ] || fail "/query -> $got $(cat "$work/body")"
normalize
cat >"$work/expected" <<'END'
[{"header":{"queryId":"Q","schema":"`CALLER` STRING"}},
{"row":{"columns":["a"]}},
{"row":{"columns":["a"]}},
{"finalMessage":"Query Completed"}]
END
expect_body "/query: rows and Query Completed" "$work/expected"
got=$(post --http1.1 /query '{"ksql":"SELECT * FROM CALLS LIMIT 2;"}')
[ "$got" = 200 ] || fail "/query LIMIT -> $got $(cat "$work/body")"
[ "$(grep -c '"row"' "$work/body")" = 2 ] && grep -q '{"finalMessage":"Limit Reached"}]' "$work/body" ||
  fail "LIMIT 2: $(cat "$work/body")"
echo "ok: /query: LIMIT 2 and Limit Reached"

# Accept: application/json on /query-stream: one JSON array.
got=$(post --http2-prior-knowledge /query-stream '{"sql":"SELECT SECS FROM CALLS WHERE SECS = 50;"}' \
  application/json)
[ "$got" = 200 ] || fail "json array -> $got"
normalize
printf '%s\n' '[{"columnNames":["SECS"],"columnTypes":["INTEGER"],"queryId":"Q"},' '[50]]' >"$work/expected"
expect_body "/query-stream as a JSON array" "$work/expected"

# A stream with no records: the header alone.
got=$(post --http2-prior-knowledge /query-stream '{"sql":"SELECT * FROM QUIET;"}')
[ "$got" = 200 ] || fail "empty -> $got $(cat "$work/body")"
normalize
echo '{"columnNames":["ID","V"],"columnTypes":["INTEGER","STRING"],"queryId":"Q"}' >"$work/expected"
expect_body "/query-stream on an empty stream: the header" "$work/expected"
got=$(post --http1.1 /query '{"ksql":"SELECT * FROM QUIET;"}')
normalize
printf '%s\n' '[{"header":{"queryId":"Q","schema":"`ID` INTEGER, `V` STRING"}},' \
  '{"finalMessage":"Query Completed"}]' >"$work/expected"
expect_body "/query on an empty stream: header and Query Completed" "$work/expected"

# Records written after a scan: the next scan sees them.
printf '%s\n' '{"target":"QUIET"}' '{"ID":1,"V":"x"}' >"$work/inserts"
curl -s --http1.1 -o /dev/null --data-binary "@$work/inserts" "$base/inserts-stream"
got=$(post --http2-prior-knowledge /query-stream '{"sql":"SELECT V FROM QUIET;"}')
[ "$(tail -1 "$work/body")" = '["x"]' ] || fail "after an insert: $(cat "$work/body")"
echo "ok: a later scan reads the new record"

# ksqlDB's refusals.
refused() {  # refused WHAT SQL MESSAGE
  got=$(post --http2-prior-knowledge /query-stream "{\"sql\":\"$2\"}")
  [ "$got" = 400 ] && grep -qF -- "$3" "$work/body" || fail "$1 -> $got $(cat "$work/body")"
  echo "ok: $1 refused"
}
refused "GROUP BY" "SELECT CALLER, COUNT(*) FROM CALLS GROUP BY CALLER;" \
  "Pull queries don't support GROUP BY clauses. See https://cnfl.io/queries for more info."
refused "ROWOFFSET" "SELECT CALLER, ROWOFFSET FROM CALLS;" \
  "Pull queries don't support the following columns in SELECT clauses: \`ROWOFFSET\`"
refused "ROWPARTITION in WHERE" "SELECT * FROM CALLS WHERE ROWPARTITION = 1;" \
  "Pull queries don't support the following columns in WHERE clauses: \`ROWPARTITION\`"
refused "an unknown stream" "SELECT * FROM NOPE;" "NOPE"
grep -q '"@type":"statement_error"' "$work/body" || fail "error shape: $(cat "$work/body")"

# Closing the connection stops a scan: 100k records take seconds to stream, and the scan is
# gone (sidestream_push_queries_open back to 0) as soon as the client hangs up.
open_scans() { curl -s "$base/metrics" | sed -n 's/^sidestream_push_queries_open //p'; }
if command -v kcat >/dev/null; then
  got=$(post --http1.1 /ksql '{"ksql":"CREATE STREAM BIG (V INT) WITH (kafka_topic='"'"'big'"'"', value_format='"'"'JSON'"'"', partitions=1);"}')
  [ "$got" = 200 ] || fail "CREATE STREAM BIG -> $got"
  seq 1 100000 | sed 's/.*/{"V":&}/' | kcat -b "$bootstrap" -P -t big -p 0 || fail "kcat"
  curl -s --http2-prior-knowledge -m 30 -H 'Content-Type: application/json' -o "$work/big" \
    --data-binary '{"sql":"SELECT * FROM BIG;"}' "$base/query-stream" &
  scan=$!
  for _ in $(seq 1 100); do [ "$(open_scans)" = 1 ] && break; sleep 0.05; done
  [ "$(open_scans)" = 1 ] || fail "the scan of BIG did not show as open"
  kill "$scan" 2>/dev/null
  wait "$scan" 2>/dev/null
  for _ in $(seq 1 20); do [ "$(open_scans)" = 0 ] && break; sleep 0.05; done
  [ "$(open_scans)" = 0 ] || fail "the scan went on after the client closed"
  [ "$(wc -l <"$work/big")" -lt 100001 ] || echo "note: the scan ended before the client closed"
  echo "ok: closing the connection stops the scan"
fi

# No scan is left open.
curl -s "$base/metrics" | grep -q '^sidestream_push_queries_open 0' ||
  fail "push queries left open: $(curl -s "$base/metrics" | grep push_queries_open)"
echo "PASSED: pull queries on streams"
