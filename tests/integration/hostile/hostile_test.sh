#!/usr/bin/env bash
# Hostile messages cannot crash or stall Sidestream. A `sidestream run` process on the
# embedded broker runs a filter, a GROUP BY through a repartition topic, a join and a
# DELIMITED stream (hostile.sql). Each message of the corpus (corpus.py: invalid UTF-8,
# binary, NUL bytes, deep and huge values, wrong types, numbers out of range, keys in the
# wrong format, odd headers, a result too large for its topic, ...) is sent with kcat and
# followed by a good one. After each, the process is alive and the good message comes out;
# at the end every good message went through every query, every bad one is in the
# dead-letter topic with its reason and coordinates, and no acceptable one is.
#   hostile_test.sh SIDESTREAM_BINARY
set -uo pipefail
binary=$1
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../run/common.sh"
readers=()
stop_readers() { for pid in "${readers[@]}"; do kill "$pid" 2>/dev/null; done; }
trap 'stop_readers; cleanup' EXIT

wait_for() {  # wait_for SECONDS COMMAND...: until COMMAND succeeds, while sidestream lives
  local deadline=$((SECONDS + $1))
  shift
  until "$@"; do
    kill -0 "$run_pid" 2>/dev/null || fail "sidestream run died"
    [ $SECONDS -lt $deadline ] || return 1
    sleep 0.1
  done
}

count=$(python3 "$here/corpus.py" "$work/corpus") || fail "corpus.py failed"
"$binary" run "$here/hostile.sql" >"$work/run.out" 2>"$work/run.err" &
run_pid=$!
wait_for 30 grep -q "^bootstrap.servers=" "$work/run.out" || fail "no bootstrap address printed"
bootstrap=$(sed -n 's/^bootstrap.servers=//p' "$work/run.out" | head -1)
wait_for 30 grep -q "^ready:" "$work/run.err" || fail "queries did not start"

# Follow every output topic from its beginning.
for topic in LONG_CALLS CALLS_PER_CELL CALLS_WITH_PLAN HIGH_READINGS sidestream_dead_letters; do
  kcat -b "$bootstrap" -C -u -q -o beginning -t "$topic" -f '%k\t%s\n' >"$work/$topic.txt" \
    2>/dev/null &
  readers+=($!)
done

last_offset() {  # the offset of the last message in partition 0 of TOPIC, or -1
  local offset
  offset=$(kcat -b "$bootstrap" -C -t "$1" -p 0 -o -1 -c 1 -e -q -f '%o\n' 2>/dev/null)
  echo "${offset:--1}"
}
sent_offset=-1
send() {  # send TOPIC KEY_FILE|- VALUE_FILE|NULL HEADERS|-; sets sent_offset
  local args=(-b "$bootstrap" -P -t "$1" -p 0) before
  before=$(last_offset "$1")
  if [ "$4" != - ]; then
    IFS=';' read -ra headers <<<"$4"
    for header in "${headers[@]}"; do args+=(-H "$header"); done
  fi
  if [ "$3" = NULL ] || [ ! -s "$3" ]; then
    # kcat sends no message for an empty file: an empty or null value goes as a line.
    [ "$3" = NULL ] && args+=(-Z)
    [ "$2" != - ] || fail "no key: kcat cannot send an empty or null value without one"
    printf '%s\t\n' "$(cat "$2")" | kcat "${args[@]}" -K '\t' || fail "kcat could not produce to $1"
  else
    [ "$2" != - ] && args+=(-k "$(cat "$2")")
    kcat "${args[@]}" "$3" || fail "kcat could not produce to $1"
  fi
  wait_for 10 test "$(last_offset "$1")" -gt "$before" || fail "kcat did not send to $1"
  sent_offset=$(last_offset "$1")
}
send_text() {  # send_text TOPIC KEY|- VALUE
  printf '%s' "$3" >"$work/good.value"
  [ "$2" != - ] && printf '%s' "$2" >"$work/good.key"
  send "$1" "$([ "$2" != - ] && echo "$work/good.key" || echo -)" "$work/good.value" -
}

declare -A bad_offset
while IFS=$'\t' read -r index name topic key value headers expectation; do
  send "$topic" "$key" "$value" "$headers"
  bad_offset[$index]=$sent_offset
  send_text calls "good-$index" "{\"cell\":\"G$index\",\"duration\":100,\"ts\":$((1700000000000 + index))}"
  [ "$topic" = readings ] && send_text readings - "R$index,0.9"
  wait_for 30 grep -aq "^good-$index	" "$work/LONG_CALLS.txt" ||
    fail "after message $index ($name) the next good call did not come out of the filter"
done <"$work/corpus/manifest.tsv"

# Every good message went through every query.
missing=()
for index in $(seq 0 $((count - 1))); do
  wait_for 30 grep -aq "^good-$index	" "$work/CALLS_WITH_PLAN.txt" || missing+=("join:$index")
  wait_for 30 grep -aq "^G$index	" "$work/CALLS_PER_CELL.txt" || missing+=("group-by:$index")
done
readings=$(awk -F'\t' '$3 == "readings"' "$work/corpus/manifest.tsv" | wc -l)
for index in $(awk -F'\t' '$3 == "readings" {print $1}' "$work/corpus/manifest.tsv"); do
  wait_for 30 grep -aq "\"CELL\":\"R$index\"\|	R$index," "$work/HIGH_READINGS.txt" ||
    missing+=("readings:$index")
done
[ ${#missing[@]} -eq 0 ] || fail "good messages missing from outputs: ${missing[*]}"

# Every bad message is in the dead-letter topic, with its coordinates and reason; no
# acceptable one is.
dead_letters() {  # dead_letters TOPIC OFFSET: the dead-letter records of that message
  # Whole lines only: kcat may be writing the last one.
  grep -aF "\"TOPIC\":\"$1\"" "$work/sidestream_dead_letters.txt" | grep -aE "\"OFFSET\":$2[,}].*}$"
}
has_dead_letter() { [ -n "$(dead_letters "$1" "$2")" ]; }
problems=()
dead=0
while IFS=$'\t' read -r index name topic key value headers expectation; do
  [ "$expectation" = ok ] || wait_for 10 has_dead_letter "$topic" "${bad_offset[$index]}"
  found=$(dead_letters "$topic" "${bad_offset[$index]}")
  case "$expectation" in
    ok)
      [ -z "$found" ] || problems+=("$index $name: dead-lettered: $(echo "$found" | head -1 | cut -c1-300)")
      ;;
    dead:*)
      reason=${expectation#dead:}
      if [ -z "$found" ]; then
        problems+=("$index $name: not in the dead-letter topic")
      elif ! echo "$found" | grep -aqF -- "$reason"; then
        problems+=("$index $name: reason lacks '$reason': $(echo "$found" | head -1 | cut -c1-300)")
      elif ! echo "$found" | grep -aq '"QUERY_ID":"[A-Z]'; then
        problems+=("$index $name: no QUERY_ID")
      else
        dead=$((dead + 1))
      fi
      ;;
  esac
done <"$work/corpus/manifest.tsv"
if [ ${#problems[@]} -gt 0 ]; then
  printf '%s\n' "${problems[@]}"
  fail "${#problems[@]} corpus messages were not handled as expected"
fi
# No good message was dead-lettered.
! grep -aq '"good-' "$work/sidestream_dead_letters.txt" || fail "a good message was dead-lettered"

kill -INT "$run_pid"
wait "$run_pid"
status=$?
run_pid=""
[ "$status" -eq 0 ] || fail "sidestream run exited with $status after Ctrl-C"
grep -q "^query .* failed" "$work/run.err" && fail "a query failed: $(grep -A1 '^query' "$work/run.err")"
echo "PASSED: $count hostile messages ($dead dead-lettered with their reason, the rest processed); the process stayed up and every good message after each went through the filter, the GROUP BY, the join and the DELIMITED stream ($readings readings)"
