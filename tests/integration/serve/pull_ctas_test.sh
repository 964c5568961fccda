#!/usr/bin/env bash
# Pull queries on a table derived from a table without aggregation (CREATE TABLE t AS SELECT
# ... FROM table WHERE ...), which serve keeps in a store of its own as ksqlDB does: scans,
# key lookups, IN, LIMIT, rows that leave the table (a tombstone, or an update the CTAS's
# WHERE drops); and the latency of a key lookup, which must not wait for the stream thread's
# poll to time out (it wakes the poll).
set -uo pipefail
sidestream=$1
here=$(cd "$(dirname "$0")" && pwd)
source "$here/common.sh"
command -v curl >/dev/null || { echo "SKIPPED: curl is missing"; exit 77; }
command -v kcat >/dev/null || { echo "SKIPPED: kcat is missing"; exit 77; }
start_serve

post() {  # post PATH BODY: prints the status, the body in $work/body
  printf '%s' "$2" >"$work/request"
  curl -s -m 30 -o "$work/body" -w '%{http_code}' -H 'Content-Type: application/json' \
    --data-binary "@$work/request" "$base$1"
}
pull_until() {  # pull_until SQL PATTERN
  for _ in $(seq 1 150); do
    [ "$(post /query "{\"ksql\":\"$1\"}")" = 200 ] && grep -q -- "$2" "$work/body" && return 0
    sleep 0.1
  done
  fail "pull $1: no $2 in $(head -c 600 "$work/body")"
}
rows() { grep -c '"row"' "$work/body"; }

got=$(post /ksql '{"ksql":"CREATE TABLE USERS (ID INT PRIMARY KEY, GRADE STRING, RANK INT) WITH (kafka_topic='"'"'users'"'"', value_format='"'"'JSON'"'"', partitions=2); CREATE TABLE TOP AS SELECT ID, GRADE, RANK * 2 AS DOUBLE_RANK FROM USERS WHERE RANK < 10; CREATE TABLE ALL_USERS AS SELECT * FROM USERS;"}')
[ "$got" = 200 ] || fail "create -> $got $(cat "$work/body")"
# Tables take rows through INSERT ... VALUES (/inserts-stream takes streams only).
insert() {  # insert ID GRADE RANK
  local got
  got=$(post /ksql "{\"ksql\":\"INSERT INTO USERS (ID, GRADE, RANK) VALUES ($1, '$2', $3);\"}")
  [ "$got" = 200 ] || fail "insert $* -> $got $(cat "$work/body")"
}
insert 1 A 1
insert 2 B 2
insert 3 C 30
insert 4 D 4

# A scan: the rows the CTAS's WHERE keeps, projected, with the key column marked KEY.
# Rows land on their partitions' tasks in any order: wait for each.
pull_until "SELECT * FROM TOP;" '\[1,"A",2\]'
pull_until "SELECT * FROM TOP;" '\[2,"B",4\]'
pull_until "SELECT * FROM TOP;" '\[4,"D",8\]'
[ "$(rows)" = 3 ] || fail "scan of TOP: $(cat "$work/body")"
grep -q '"schema":"`ID` INTEGER KEY, `GRADE` STRING, `DOUBLE_RANK` INTEGER"' "$work/body" ||
  fail "TOP header: $(cat "$work/body")"
grep -q '\[3,' "$work/body" && fail "row 3 (RANK 30) passed the CTAS's WHERE: $(cat "$work/body")"
# A key lookup, IN, a value filter, LIMIT; a SELECT * copy of the table.
pull_until "SELECT GRADE, DOUBLE_RANK FROM TOP WHERE ID=2;" '{"row":{"columns":\["B",4\]}}'
[ "$(rows)" = 1 ] || fail "key lookup: $(cat "$work/body")"
pull_until "SELECT ID FROM TOP WHERE ID IN (1, 3, 4, 9);" '\[4\]'
[ "$(rows)" = 2 ] || fail "IN: $(cat "$work/body")"
pull_until "SELECT ID FROM TOP WHERE GRADE > 'A';" '\[2\]'
[ "$(rows)" = 2 ] || fail "value filter: $(cat "$work/body")"
pull_until "SELECT * FROM TOP LIMIT 2;" '"row"'
[ "$(rows)" = 2 ] || fail "LIMIT: $(cat "$work/body")"
pull_until "SELECT * FROM ALL_USERS WHERE ID=3;" '{"row":{"columns":\[3,"C",30\]}}'
# An update the CTAS's WHERE drops: the row leaves TOP (a tombstone there).
insert 1 A 50
for _ in $(seq 1 150); do
  post /query '{"ksql":"SELECT * FROM TOP WHERE ID=1;"}' >/dev/null
  [ "$(rows)" = 0 ] && break
  sleep 0.1
done
[ "$(rows)" = 0 ] || fail "an update out of the WHERE stayed in TOP: $(cat "$work/body")"
pull_until "SELECT * FROM ALL_USERS WHERE ID=1;" '\[1,"A",50\]'
# A delete (a tombstone, here on a STRING key that kcat can write) leaves the derived table.
got=$(post /ksql '{"ksql":"CREATE TABLE NAMES (ID STRING PRIMARY KEY, V INT) WITH (kafka_topic='"'"'names'"'"', value_format='"'"'JSON'"'"', partitions=1); CREATE TABLE NAMES_COPY AS SELECT ID, V FROM NAMES;"}')
[ "$got" = 200 ] || fail "create NAMES -> $got $(cat "$work/body")"
printf '%s\n' 'a:{"V":1}' 'b:{"V":2}' | kcat -b "$bootstrap" -P -t names -K: || fail "kcat"
pull_until "SELECT * FROM NAMES_COPY WHERE ID='b';" '{"row":{"columns":\["b",2\]}}'
printf 'a:\n' | kcat -b "$bootstrap" -P -t names -K: -Z || fail "kcat tombstone"
for _ in $(seq 1 150); do
  post /query "{\"ksql\":\"SELECT * FROM NAMES_COPY WHERE ID='a';\"}" >/dev/null
  [ "$(rows)" = 0 ] && break
  sleep 0.1
done
[ "$(rows)" = 0 ] || fail "a deleted row stayed in NAMES_COPY: $(cat "$work/body")"
pull_until "SELECT * FROM NAMES_COPY;" '"row"'
[ "$(rows)" = 1 ] || fail "NAMES_COPY after the delete: $(cat "$work/body")"
# A stream derived without aggregation (CREATE STREAM AS SELECT) keeps no table: a pull query
# on it scans its topic instead (here still empty: the header and the final message).
got=$(post /ksql '{"ksql":"CREATE STREAM EVENTS (ID INT KEY, V INT) WITH (kafka_topic='"'"'events'"'"', value_format='"'"'JSON'"'"', partitions=1); CREATE STREAM COPY AS SELECT * FROM EVENTS;"}')
[ "$got" = 200 ] || fail "create stream -> $got $(cat "$work/body")"
[ "$(post /query '{"ksql":"SELECT * FROM COPY;"}')" = 200 ] && grep -q '"Query Completed"' "$work/body" ||
  fail "pull on a stream: $(cat "$work/body")"

# Latency of a key lookup, printed for the log (timing is for bench/pull_query_bench.py, not
# for a pass/fail test on a shared machine): the median of 21.
for i in $(seq 1 21); do
  curl -s -o /dev/null -w '%{time_total}\n' -H 'Content-Type: application/json' \
    -d '{"ksql":"SELECT * FROM TOP WHERE ID=4;"}' "$base/query"
done | sort -n | sed -n 11p | awk '{printf "pull key lookup median %.1f ms\n", $1 * 1000}'

kill -0 "$serve_pid" || fail "serve died"
echo "PASSED"
