#!/usr/bin/env bash
# Drives `sidestream serve` with curl over HTTP/1.1, HTTP/2 with prior knowledge, and HTTP/2
# by Upgrade: every route, DDL and SHOW through /ksql, push queries on /query and
# /query-stream fed by kcat, and a closed connection freeing its query.
set -uo pipefail
sidestream=$1
here=$(cd "$(dirname "$0")" && pwd)
source "$here/common.sh"
command -v curl >/dev/null || { echo "SKIPPED: curl is missing"; exit 77; }
command -v kcat >/dev/null || { echo "SKIPPED: kcat is missing"; exit 77; }
start_serve

# status_of VERSION_FLAG METHOD PATH [BODY]: prints "status body".
request() {
  local flag=$1 method=$2 path=$3 body=${4-}
  if [ -n "$body" ]; then
    printf '%s' "$body" >"$work/request"
    curl -s $flag -X "$method" -o "$work/body" -w '%{http_code} %{http_version}' \
      -H 'Content-Type: application/json' --data-binary "@$work/request" "$base$path"
  else
    curl -s $flag -X "$method" -o "$work/body" -w '%{http_code} %{http_version}' "$base$path"
  fi
}
expect() {  # expect "status version" FLAG METHOD PATH [BODY] -- grep pattern
  local want=$1; shift
  local pattern=${*: -1}
  local got
  got=$(request "${@:1:$#-1}")
  [ "$got" = "$want" ] || fail "${*:1:3} -> $got, expected $want: $(head -c 300 "$work/body")"
  grep -q -- "$pattern" "$work/body" ||
    fail "${*:1:3}: body lacks $pattern: $(head -c 300 "$work/body")"
}

for flag in --http1.1 --http2-prior-knowledge; do
  version=$([ $flag = --http1.1 ] && echo 1.1 || echo 2)
  expect "200 $version" $flag GET /info '"KsqlServerInfo"'
  expect "200 $version" $flag GET /healthcheck '"isHealthy":true'
  expect "200 $version" $flag GET /chc/live '"isHealthy"'
  expect "200 $version" $flag GET /chc/ready '"isHealthy"'
  expect "200 $version" $flag GET /clusterStatus '"hostAlive":true'
  expect "404 $version" $flag GET /nope '"error_code":40400'
  expect "405 $version" $flag GET /ksql '"error_code":40500'
  expect "400 $version" $flag POST /ksql '{not json' '"error_code":40000'
  expect "400 $version" $flag POST /ksql 'SELEC 1;' '"@type":"generic_error"'
  expect "400 $version" $flag POST /ksql '{"ksql":"SELEC 1;"}' '"message":"line 1:1: '
done
# /status ids are percent-decoded: a broken escape is a 400 naming it; escaped binary or an
# id of 60 KB is an unknown command (404), and the server stays up.
expect "400 1.1" --http1.1 GET /status/stream/%ZZ/create "Illegal escape in 'stream/%ZZ/create'"
expect "400 1.1" --http1.1 GET /status/% "Illegal escape in '%'"
expect "404 1.1" --http1.1 GET /status/%FF%FE%00 '"error_code":40400'
expect "404 1.1" --http1.1 GET "/status/$(head -c 60000 /dev/zero | tr '\0' a)" 'Command not found'
expect "200 1.1" --http1.1 GET /healthcheck '"isHealthy":true'
# HTTP/2 by Upgrade: h2c.
expect "200 2" --http2 GET /info '"KsqlServerInfo"'
# An oversized body gets ksqlDB's error shape.
head -c 1100000 /dev/zero | tr '\0' 'x' >"$work/big"
got=$(curl -s -o "$work/body" -w '%{http_code}' --data-binary "@$work/big" "$base/ksql")
[ "$got" = 413 ] && grep -q '"error_code":41300' "$work/body" || fail "oversized body -> $got"
got=$(curl -s --http2-prior-knowledge -o "$work/body" -w '%{http_code}' \
  --data-binary "@$work/big" "$base/query-stream")
[ "$got" = 413 ] && grep -q '"error_code":41300' "$work/body" || fail "oversized body h2 -> $got"

expect "200 1.1" --http1.1 POST /ksql \
  '{"ksql":"CREATE STREAM INPUT (K STRING KEY, ID INT) WITH (kafka_topic='"'"'input'"'"', value_format='"'"'JSON'"'"', partitions=1);"}' \
  '"message":"Stream created"'
expect "200 2" --http2-prior-knowledge POST /ksql '{"ksql":"SHOW STREAMS; DESCRIBE INPUT;"}' \
  '"name":"INPUT"'
grep -q '"@type":"sourceDescription"' "$work/body" || fail "DESCRIBE: $(cat "$work/body")"
expect "400 1.1" --http1.1 POST /ksql '{"ksql":"DESCRIBE NOPE;"}' '"@type":"statement_error"'

printf 'a:{"ID":1}\nb:{"ID":2}\n' | kcat -b "$bootstrap" -P -t input -K: || fail "kcat produce"

# Push queries: HTTP/2 /query-stream (delimited), HTTP/1.1 /query (ksqlDB's chunked array).
timeout 60 curl -s --http2-prior-knowledge "$base/query-stream" \
  -d '{"sql":"SELECT K, ID FROM INPUT EMIT CHANGES LIMIT 2;"}' >"$work/push2" ||
  fail "push query over HTTP/2: $(cat "$work/push2")"
grep -q '"columnNames":\["K","ID"\]' "$work/push2" || fail "push header: $(cat "$work/push2")"
grep -q '^\["a",1\]$' "$work/push2" && grep -q '^\["b",2\]$' "$work/push2" ||
  fail "push rows: $(cat "$work/push2")"
timeout 60 curl -s --http1.1 "$base/query" \
  -d '{"ksql":"SELECT ID FROM INPUT WHERE ID > 1 EMIT CHANGES LIMIT 1;"}' >"$work/push1" ||
  fail "push query over HTTP/1.1"
grep -q '{"row":{"columns":\[2\]}}' "$work/push1" || fail "legacy rows: $(cat "$work/push1")"
grep -q '"finalMessage":"Limit Reached"}]' "$work/push1" || fail "final: $(cat "$work/push1")"

# A query without LIMIT runs until its client leaves; then it is freed.
timeout 8 curl -s -N --http2-prior-knowledge "$base/query-stream" \
  -d '{"sql":"SELECT * FROM INPUT EMIT CHANGES;"}' >"$work/open" &
open_pid=$!
for _ in $(seq 1 100); do
  request --http1.1 POST /ksql '{"ksql":"SHOW QUERIES;"}' >/dev/null
  grep -q '"queryType":"PUSH"' "$work/body" && break
  sleep 0.1
done
grep -q '"queryType":"PUSH"' "$work/body" || fail "the open push query is not listed"
kill "$open_pid"; wait "$open_pid" 2>/dev/null
for _ in $(seq 1 100); do
  request --http1.1 POST /ksql '{"ksql":"SHOW QUERIES;"}' >/dev/null
  grep -q '"queryType":"PUSH"' "$work/body" || break
  sleep 0.1
done
grep -q '"queryType":"PUSH"' "$work/body" && fail "closing the connection left the query running"
grep -q '"K"' "$work/open" || fail "the open query sent no header: $(cat "$work/open")"

# PAUSE and RESUME answer as ksqlDB does, and SHOW QUERIES tells PAUSED from RUNNING.
expect "200 1.1" --http1.1 POST /ksql \
  '{"ksql":"CREATE STREAM COPIED AS SELECT K, ID FROM INPUT;"}' '"queryId":"CSAS_COPIED_'
query_id=$(sed -n 's/.*"queryId":"\(CSAS_COPIED_[0-9]*\)".*/\1/p' "$work/body")
expect "200 1.1" --http1.1 POST /ksql "{\"ksql\":\"PAUSE $query_id;\"}" '"message":"Query paused."'
grep -q "\"commandId\":\"pause/$query_id/execute\"" "$work/body" || fail "PAUSE: $(cat "$work/body")"
expect "200 1.1" --http1.1 POST /ksql '{"ksql":"SHOW QUERIES;"}' '"state":"PAUSED"'
expect "200 1.1" --http1.1 POST /ksql '{"ksql":"RESUME ALL;"}' '"message":"Query resumed."'
grep -q '"commandId":"resume/ALL/execute"' "$work/body" || fail "RESUME: $(cat "$work/body")"
expect "200 1.1" --http1.1 POST /ksql '{"ksql":"SHOW QUERIES;"}' '"state":"RUNNING"'
expect "400 1.1" --http1.1 POST /ksql '{"ksql":"PAUSE NOPE;"}' '"@type":"statement_error"'
# DROP ... DELETE TOPIC stops the writing query; the embedded broker keeps the topic, and says so.
expect "200 1.1" --http1.1 POST /ksql '{"ksql":"DROP STREAM COPIED DELETE TOPIC;"}' \
  '"warnings":\[{"message":"Topic COPIED was not deleted'
expect "200 1.1" --http1.1 POST /ksql '{"ksql":"SHOW QUERIES;"}' '"queries":\[\]'

kill -0 "$serve_pid" || fail "serve died"
echo "PASSED"
