#!/usr/bin/env bash
# Redis and CouchDB stay consistent with the table after a crash. `sidestream run` counts
# calls per cell (a table) and sends the table to both stores through sink connectors; the
# test feeds calls with kcat, kills the process with SIGKILL in the middle, restarts it,
# feeds the rest, and checks that Redis, CouchDB and the table's topic (latest value per
# key) hold the same rows, that every cell's count covers every call fed (at-least-once),
# and that the restarted connectors skipped what the stores had already applied.
# The broker runs in its own process (sidestream-broker), so its data outlives the kill.
#   consistency_test.sh SIDESTREAM SIDESTREAM_BROKER POUCHDB_DIR
# Exit 0 pass, 1 fail, 77 skipped (a server binary is missing).
set -uo pipefail
binary=$1
broker_binary=$2
pouchdb_dir=$3
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
pids=()
run_pid=""

cleanup() {
  [ -n "$run_pid" ] && kill -9 "$run_pid" 2>/dev/null
  for pid in "${pids[@]}"; do kill -9 "$pid" 2>/dev/null; done
  wait 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

fail() {
  echo "FAILED: $*"
  echo "--- sidestream output"
  tail -20 "$work"/run*.err 2>/dev/null
  for log in redis pouchdb broker; do
    echo "--- $log"; tail -5 "$work/$log.log" "$work/$log.err" 2>/dev/null
  done
  exit 1
}

for program in redis-server redis-cli kcat node curl; do
  command -v "$program" >/dev/null || { echo "SKIPPED: $program is missing"; exit 77; }
done
bash "$here/../../servers/install_npm_package.sh" "$pouchdb_dir" pouchdb-server@4.2.0 ||
  { echo "SKIPPED: pouchdb-server could not be installed (npm)"; exit 77; }
pouchdb_dir=$(cd "$pouchdb_dir" && pwd)

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() {
  local port=$1 deadline=$((SECONDS + 60))
  until (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do
    [ $SECONDS -lt $deadline ] || fail "nothing listens on port $port"
    sleep 0.1
  done
}

redis_port=$(free_port)
redis-server --port "$redis_port" --bind 127.0.0.1 --save "" --appendonly no --dir "$work" \
  >"$work/redis.log" 2>&1 &
pids+=($!)
couchdb_port=$(free_port)
(cd "$work" && exec node "$pouchdb_dir/node_modules/pouchdb-server/bin/pouchdb-server" \
  --in-memory --host 127.0.0.1 --port "$couchdb_port") >"$work/pouchdb.log" 2>&1 &
pids+=($!)

sed -e "s/@REDIS_PORT@/$redis_port/" -e "s/@COUCHDB_PORT@/$couchdb_port/" \
  "$here/consistency.sql" >"$work/job.sql"
# The broker of another process has no admin API: it creates every topic itself, internal
# ones included (their names come from the plan).
topics=(--topic calls:4 --topic CALLS_PER_CELL:4 --topic sidestream_dead_letters:1)
while read -r topic; do
  topics+=(--topic "$topic:4")
done < <("$binary" explain "$work/job.sql" 2>/dev/null | grep -o 'sidestream_[A-Za-z0-9_.-]*-\(repartition\|changelog\)' | sort -u)
[ ${#topics[@]} -gt 6 ] || fail "the plan names no internal topics: $("$binary" explain "$work/job.sql" 2>&1 | head -20)"
"$broker_binary" "${topics[@]}" >"$work/broker.out" 2>"$work/broker.err" &
pids+=($!)
deadline=$((SECONDS + 30))
until grep -q "^bootstrap.servers=" "$work/broker.out" 2>/dev/null; do
  [ $SECONDS -lt $deadline ] || fail "sidestream-broker did not start: $(cat "$work/broker.err")"
  sleep 0.1
done
bootstrap=$(sed -n 's/^bootstrap.servers=//p' "$work/broker.out")
wait_port "$redis_port"
wait_port "$couchdb_port"

start_run() {
  local name=$1
  # sidestream-broker is a mock cluster: run detects it and defaults to one stream thread (with
  # two, the mock's group coordinator once stalled the group here after the kill -9).
  "$binary" run "$work/job.sql" --bootstrap-servers "$bootstrap" >"$work/$name.out" 2>"$work/$name.err" &
  run_pid=$!
  local deadline=$((SECONDS + 60))
  until grep -q "^ready:" "$work/$name.err" 2>/dev/null; do
    kill -0 "$run_pid" 2>/dev/null || fail "sidestream run exited early"
    [ $SECONDS -lt $deadline ] || fail "sidestream run was not ready in 60 s"
    sleep 0.2
  done
}

# Calls $1..$2: caller k<i%7> in cell C<i%13>.
produce() {
  for i in $(seq "$1" "$2"); do
    echo "k$((i % 7)):{\"cell\":\"C$((i % 13))\"}"
  done | kcat -b "$bootstrap" -P -t calls -K: || fail "kcat could not produce"
}

# The latest CALLS per cell in the table's topic, "C0=12 C1=11 ...".
table_rows() {
  kcat -b "$bootstrap" -C -t CALLS_PER_CELL -e -q -f '%k %s\n' 2>/dev/null |
    sed 's/{"CALLS":\([0-9]*\)}/\1/' |
    awk '{last[$1]=$2} END {for (k in last) print k "=" last[k]}' | sort | tr '\n' ' '
}
redis_rows() {
  for key in $(redis-cli -p "$redis_port" --scan --pattern 'cell:*' | sort); do
    echo "${key#cell:}=$(redis-cli -p "$redis_port" HGET "$key" CALLS)"
  done | sort | tr '\n' ' '
}
couchdb_rows() {
  curl -s "http://127.0.0.1:$couchdb_port/cells/_all_docs?include_docs=true" |
    python3 -c 'import json,sys
rows=json.load(sys.stdin).get("rows", [])
print(" ".join(sorted("%s=%s" % (r["id"], r["doc"].get("CALLS")) for r in rows)) + (" " if rows else ""))'
}

start_run run1
grep -q "on 1 stream thread(s)" "$work/run1.err" ||
  fail "run did not detect the mock broker (one stream thread): $(grep '^ready:' "$work/run1.err")"
grep -q "CELLS_REDIS | SINK | redis | RUNNING" "$work/run1.out" ||
  fail "SHOW CONNECTORS did not list the running connectors: $(cat "$work/run1.out")"
# Feed in slices while the job runs, and kill it with SIGKILL in the middle: what it
# processed but did not commit is processed again after the restart.
produce 0 999
deadline=$((SECONDS + 60))
until [ -n "$(redis_rows)" ] && [ -n "$(couchdb_rows)" ]; do
  [ $SECONDS -lt $deadline ] || fail "nothing reached Redis and CouchDB in 60 s"
  sleep 0.2
done
produce 1000 1999
kill -9 "$run_pid"
wait "$run_pid" 2>/dev/null
run_pid=""
before_restart="$(redis_rows)"
echo "killed with SIGKILL; Redis then held: $before_restart"

start_run run2
produce 2000 2999
# Every cell's final count covers every call fed (the table is at-least-once).
expected_min=$((3000 / 13))
deadline=$((SECONDS + 120))
while :; do
  table=$(table_rows); redis=$(redis_rows); couchdb=$(couchdb_rows)
  complete=1
  for row in $table; do [ "${row#*=}" -ge "$expected_min" ] || complete=0; done
  [ "$(echo "$table" | wc -w)" -eq 13 ] || complete=0
  [ $complete -eq 1 ] && [ "$table" = "$redis" ] && [ "$table" = "$couchdb" ] && break
  [ $SECONDS -lt $deadline ] ||
    fail "stores and table differ after 120 s
  table:   $table
  redis:   $redis
  couchdb: $couchdb"
  sleep 0.5
done
kill -INT "$run_pid"
wait "$run_pid"
status=$?
run_pid=""
[ "$status" -eq 0 ] || fail "sidestream run exited with $status after Ctrl-C"
total=0
for row in $table; do total=$((total + ${row#*=})); done
[ "$total" -ge 3000 ] || fail "the counts add up to $total, fewer than the 3000 calls fed"
grep -q "sink dead letters 0" "$work/run2.err" || fail "records went to the dead-letter topic"
echo "PASSED: after a kill -9 and a restart, Redis, CouchDB and CALLS_PER_CELL hold the same 13 rows ($table); counts add up to $total for 3000 calls"
