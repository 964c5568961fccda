#!/usr/bin/env bash
# smoke_test.sh: a real Kafka broker (KRaft, from Maven Central) starts here,
# takes and returns messages through kcat, keeps a consumer group's committed
# offset, and stops without leaving a process behind.
# Env: SIDESTREAM_KAFKA_CACHE (default $HOME/.cache/sidestream/kafka).
# Exit: 0 pass, 1 fail, 77 skip (no Java / kcat / Maven, or Maven Central unreachable).
set -uo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cache="${SIDESTREAM_KAFKA_CACHE:-$HOME/.cache/sidestream/kafka}"

skip() { echo "SKIPPED: $*"; exit 77; }
fail() { echo "FAIL: $*"; [[ -n "${work:-}" && -f "$work/broker.log" ]] && { echo "---- last 40 lines of broker.log ----"; tail -n 40 "$work/broker.log"; }; exit 1; }

command -v java >/dev/null 2>&1 || skip "java is not installed"
java -version >/dev/null 2>&1 || skip "java does not run"
command -v kcat >/dev/null 2>&1 || skip "kcat is not installed"

"$here/fetch.sh" "$cache"
case $? in
  0) ;;
  3) skip "Maven Central cannot be reached, so the Kafka broker cannot be fetched" ;;
  4) skip "mvn is not installed, so the Kafka broker cannot be fetched" ;;
  *) fail "fetch.sh failed (see $cache/fetch.log)" ;;
esac

work="$(mktemp -d "${TMPDIR:-/tmp}/sidestream-kafka.XXXXXX")"
cleanup() {
  "$here/stop.sh" "$work" || echo "WARN: stop.sh reported a problem"
  if [[ "${keep_work:-0}" == 1 ]]; then echo "work dir kept: $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

keep_work=1
bootstrap="$(SIDESTREAM_KAFKA_WATCH_PID=$$ "$here/start.sh" "$cache" "$work")" || fail "start.sh failed"
echo "broker up at $bootstrap in $(cat "$work/start_ms") ms, pid $(cat "$work/kafka.pid")"

k() { timeout 60 kcat -b "$bootstrap" "$@"; }
topic="smoke-$RANDOM-$$"
n=100

# 1. Produce 100 keyed messages to a topic that does not exist yet (auto-create).
seq 1 "$n" | awk '{printf "key-%d:value-%d\n", $1, $1}' \
  | k -P -t "$topic" -K: -X topic.request.required.acks=all \
  || fail "producing $n messages failed"

# 2. Consume them back, from the beginning to the end of the partition.
out="$(k -C -t "$topic" -o beginning -e -q -f '%k=%s\n')" || fail "consuming failed"
got="$(grep -c . <<<"$out")"
[[ "$got" == "$n" ]] || fail "consumed $got messages, expected $n"
grep -qx 'key-42=value-42' <<<"$out" || fail "key-42=value-42 not found in what was consumed"
echo "ok: produced and consumed $n keyed messages on $topic"

# 3. A consumer group commits its offset: read all with group G, add 5 more
#    messages, read again with G: exactly the 5 new ones must come back.
group="smoke-group-$$"
# Note: in -G mode kcat's -o is applied to every assignment and so overrides
# the committed offset; use auto.offset.reset for a group with no commit yet.
out="$(k -G "$group" -X auto.offset.reset=earliest -e -q -f '%k\n' "$topic")" \
  || fail "first group consume failed"
got="$(grep -c . <<<"$out")"
[[ "$got" == "$n" ]] || fail "group $group consumed $got messages, expected $n"
seq 101 105 | awk '{printf "key-%d:value-%d\n", $1, $1}' | k -P -t "$topic" -K: || fail "second produce failed"
out="$(k -G "$group" -X auto.offset.reset=earliest -e -q -f '%k\n' "$topic")" \
  || fail "second group consume failed"
got="$(grep -c . <<<"$out")"
[[ "$got" == 5 && "$(head -n1 <<<"$out")" == key-101 ]] \
  || fail "group $group resumed with $got messages (first: $(head -n1 <<<"$out")), expected 5 from key-101: offset commit did not work"
echo "ok: consumer group $group committed its offset and resumed after it"

keep_work=0
"$here/stop.sh" "$work" || fail "stop.sh failed"
pid="$(cat "$work/kafka.pid" 2>/dev/null || true)"
[[ -z "$pid" ]] || fail "kafka.pid still there after stop"
echo "PASS: real Kafka broker smoke test"
