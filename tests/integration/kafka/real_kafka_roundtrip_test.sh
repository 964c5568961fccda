#!/usr/bin/env bash
# real_kafka_roundtrip_test.sh ROUNDTRIP_BIN
# kafka_roundtrip (TopicAdmin through the admin API, BatchProducer, BatchConsumer) against a
# real Apache Kafka broker from tests/integration/real_kafka, then kcat reads the same topic
# back from another process.
# Env: SIDESTREAM_KAFKA_CACHE (default $HOME/.cache/sidestream/kafka).
# Exit: 0 pass, 1 fail, 77 skip (no Java / kcat / Maven, or Maven Central unreachable).
set -uo pipefail

roundtrip_bin="${1:?usage: $0 ROUNDTRIP_BIN}"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
real="$here/../real_kafka"
cache="${SIDESTREAM_KAFKA_CACHE:-$HOME/.cache/sidestream/kafka}"

skip() { echo "SKIPPED: $*"; exit 77; }
fail() { echo "FAIL: $*"; [[ -n "${work:-}" && -f "$work/broker.log" ]] && { echo "---- last 30 lines of broker.log ----"; tail -n 30 "$work/broker.log"; }; exit 1; }

command -v java >/dev/null 2>&1 || skip "java is not installed"
java -version >/dev/null 2>&1 || skip "java does not run"
command -v kcat >/dev/null 2>&1 || skip "kcat is not installed"
"$real/fetch.sh" "$cache"
case $? in
  0) ;;
  3) skip "Maven Central cannot be reached, so the Kafka broker cannot be fetched" ;;
  4) skip "mvn is not installed, so the Kafka broker cannot be fetched" ;;
  *) fail "fetch.sh failed (see $cache/fetch.log)" ;;
esac

work="$(mktemp -d "${TMPDIR:-/tmp}/sidestream-kafka-rt.XXXXXX")"
keep_work=1
cleanup() {
  "$real/stop.sh" "$work" || echo "WARN: stop.sh reported a problem"
  if [[ "$keep_work" == 1 ]]; then echo "work dir kept: $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

bootstrap="$(SIDESTREAM_KAFKA_WATCH_PID=$$ "$real/start.sh" "$cache" "$work")" || fail "start.sh failed"
echo "real broker up at $bootstrap in $(cat "$work/start_ms") ms"

topic="roundtrip-$RANDOM-$$"
# The broker's num.partitions is 1: 3 partitions prove the admin API created the topic.
"$roundtrip_bin" --bootstrap "$bootstrap" --topic "$topic" --partitions 3 --messages 5000 \
  --group "rt-$$" || fail "kafka_roundtrip against the real broker failed"

meta="$(timeout 60 kcat -b "$bootstrap" -L -t "$topic")" || fail "kcat -L failed"
grep -q "topic \"$topic\" with 3 partitions" <<<"$meta" || fail "topic not created with 3 partitions: $meta"
# 5000 messages plus the marker that kafka_roundtrip produced last.
got="$(timeout 60 kcat -b "$bootstrap" -C -t "$topic" -o beginning -e -q -f '%k\n' | grep -c .)"
[[ "$got" == 5001 ]] || fail "kcat read $got messages back, expected 5001"
echo "ok: kcat read back all $got messages"

keep_work=0
echo "PASS: Kafka layer against a real broker"
