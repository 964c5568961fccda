#!/usr/bin/env bash
# GET /chc/ready of `sidestream serve`: a serve whose query restores a large changelog answers
# 503 (with a JSON body naming what it waits for: its consumer's first partition assignment,
# then the restoring task) until its task is restored, then 200; /chc/live
# answers 200 all along. The broker runs in its own process (sidestream-broker), so the
# changelog outlives the first serve; the second one (state.store memory) restores it in full.
set -uo pipefail
sidestream=$1
broker_binary=$2
command -v curl >/dev/null || { echo "SKIPPED: curl is missing"; exit 77; }
command -v kcat >/dev/null || { echo "SKIPPED: kcat is missing"; exit 77; }
work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; done
  rm -rf "$work"
}
trap cleanup EXIT
fail() {
  echo "FAILED: $*"
  tail -20 "$work"/*.err 2>/dev/null
  exit 1
}
keys=40000  # about 2.5 MB of changelog: under the mock broker's 5 MiB per partition

cat >"$work/queries.sql" <<'EOF'
CREATE STREAM CALLS (CALLER STRING KEY, SECS INT) WITH (kafka_topic='calls', value_format='JSON', partitions=1);
CREATE TABLE TOTALS AS SELECT CALLER, COUNT(*) AS N FROM CALLS GROUP BY CALLER;
EOF
# The broker of another process has no admin API: it creates every topic itself, internal
# ones included (their names come from the plan).
topics=(--topic calls:1 --topic TOTALS:1 --topic sidestream_dead_letters:1)
while read -r topic; do
  topics+=(--topic "$topic:1")
done < <("$sidestream" explain "$work/queries.sql" 2>/dev/null |
  grep -o 'sidestream_[A-Za-z0-9_.-]*-changelog' | sort -u)
[ ${#topics[@]} -gt 6 ] || fail "the plan names no changelog: $("$sidestream" explain "$work/queries.sql" 2>&1)"
"$broker_binary" "${topics[@]}" >"$work/broker.out" 2>"$work/broker.err" &
pids+=($!)
deadline=$((SECONDS + 30))
until grep -q "^bootstrap.servers=" "$work/broker.out" 2>/dev/null; do
  [ $SECONDS -lt $deadline ] || fail "sidestream-broker did not start"
  sleep 0.1
done
bootstrap=$(sed -n 's/^bootstrap.servers=//p' "$work/broker.out")

start_serve() {  # start_serve NAME: sets $base and $serve_pid
  "$sidestream" serve --port 0 --bootstrap-servers "$bootstrap" --set state.store=memory \
    --set queries.file="$work/queries.sql" >"$work/$1.out" 2>"$work/$1.err" &
  serve_pid=$!
  pids+=("$serve_pid")
  base=""
  for _ in $(seq 1 300); do
    base=$(grep -o 'http://[0-9.:]*' "$work/$1.out" 2>/dev/null | head -1)
    [ -n "$base" ] && return 0
    kill -0 "$serve_pid" 2>/dev/null || fail "$1 exited at start"
    sleep 0.1
  done
  fail "$1 did not print its address"
}
last_key_count() {  # the N of the last key, from a pull query
  curl -s -m 10 "$base/query" -H 'Content-Type: application/json' \
    -d "{\"ksql\":\"SELECT N FROM TOTALS WHERE CALLER='k$((keys - 1))';\"}" |
    grep -o '"columns":\[[0-9]*\]'
}

start_serve serve1
seq 0 $((keys - 1)) | sed 's/.*/k&:{"SECS":1}/' | kcat -b "$bootstrap" -P -t calls -K: ||
  fail "kcat could not produce"
deadline=$((SECONDS + 120))
until [ "$(last_key_count)" = '"columns":[1]' ]; do
  [ $SECONDS -lt $deadline ] || fail "serve1 did not aggregate the $keys keys"
  sleep 0.5
done
[ "$(curl -s -o /dev/null -w '%{http_code}' "$base/chc/ready")" = 200 ] || fail "serve1 not ready"
# SIGTERM commits: the stores' changes go to the changelog, the offsets after them.
kill -TERM "$serve_pid"
wait "$serve_pid" || fail "serve1 did not stop cleanly"

# The second serve restores TOTALS' changelog in full before its task processes anything.
# Not ready from the start: first its consumer waits for its partitions (the group join takes
# seconds on the embedded broker), then its task restores.
start_serve serve2
saw_awaiting=0
saw_restoring=0
deadline=$((SECONDS + 120))
while :; do
  code=$(curl -s -m 5 -o "$work/ready" -w '%{http_code}' "$base/chc/ready")
  if [ "$code" = 503 ]; then
    grep -q '"isHealthy":false' "$work/ready" || fail "503 body: $(cat "$work/ready")"
    if grep -q '"restoringTasks":1' "$work/ready"; then
      grep -q 'restoring state from changelog topics' "$work/ready" ||
        fail "503 body: $(cat "$work/ready")"
      saw_restoring=1
    elif grep -q '"consumersAwaitingAssignment":1' "$work/ready"; then
      [ $saw_restoring = 0 ] || fail "awaiting an assignment after the restore: $(cat "$work/ready")"
      grep -q 'waiting for a first partition assignment' "$work/ready" ||
        fail "503 body: $(cat "$work/ready")"
      saw_awaiting=1
    else
      fail "503 body: $(cat "$work/ready")"
    fi
    [ "$(curl -s -o /dev/null -w '%{http_code}' "$base/chc/live")" = 200 ] ||
      fail "/chc/live is not 200 during the restore"
  elif [ "$code" = 200 ]; then
    [ $saw_restoring = 1 ] || fail "ready before its task was restored: $(cat "$work/ready")"
    grep -q '"isHealthy":true' "$work/ready" || fail "200 body: $(cat "$work/ready")"
    break
  else
    fail "/chc/ready -> $code $(cat "$work/ready")"
  fi
  [ $SECONDS -lt $deadline ] || fail "no restore seen in /chc/ready (restored: $(grep -c restored "$work/serve2.err"))"
  sleep 0.02
done
grep -q "restored in" "$work/serve2.err" || fail "serve2 logged no restore"
[ $saw_awaiting = 1 ] || echo "note: the first assignment came before the first /chc/ready"
# Ready means restored: the state answers without any new input.
[ "$(last_key_count)" = '"columns":[1]' ] || fail "restored state: $(last_key_count)"
echo "PASSED"
