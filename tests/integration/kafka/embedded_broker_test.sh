#!/usr/bin/env bash
# embedded_broker_test.sh BROKER_BIN ROUNDTRIP_BIN
# The embedded broker hosted alone by `sidestream-broker` serves other processes: kcat
# lists, produces and consumes (also in a consumer group that commits), and kafka_roundtrip
# (BatchProducer/BatchConsumer/TopicAdmin) runs against it from its own process. SIGTERM
# stops the broker with exit code 0.
# Exit: 0 pass, 1 fail, 77 skip (kcat missing).
set -uo pipefail

broker_bin="${1:?usage: $0 BROKER_BIN ROUNDTRIP_BIN}"
roundtrip_bin="${2:?usage: $0 BROKER_BIN ROUNDTRIP_BIN}"
skip() { echo "SKIPPED: $*"; exit 77; }
fail() { echo "FAIL: $*"; [[ -s "${work:-/nonexistent}/broker.err" ]] && tail -n 20 "$work/broker.err"; exit 1; }
command -v kcat >/dev/null 2>&1 || skip "kcat is not installed"

work="$(mktemp -d "${TMPDIR:-/tmp}/sidestream-embedded.XXXXXX")"
broker_pid=""
cleanup() {
  if [[ -n "$broker_pid" ]] && kill -0 "$broker_pid" 2>/dev/null; then kill -KILL "$broker_pid"; fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

# Start the broker as a coprocess and read its first line: the address, which is also the
# signal that it is ready (its topics exist by then). read -t is the deadline; no sleeping.
coproc BROKER { exec "$broker_bin" --topic cdr:3 --topic groups:2 --topic roundtrip:4 2>"$work/broker.err"; }
broker_pid=$BROKER_PID
line=""
read -r -t 30 -u "${BROKER[0]}" line || fail "the broker printed no address within 30 s"
[[ "$line" == bootstrap.servers=127.0.0.1:* ]] || fail "unexpected first line: '$line'"
bootstrap="${line#bootstrap.servers=}"
echo "broker pid $broker_pid at $bootstrap"

k() { timeout 60 kcat -b "$bootstrap" "$@"; }

# 1. Metadata: the topics the broker was told to create, with their partition counts.
meta="$(k -L -t cdr)" || fail "kcat -L failed"
grep -q 'topic "cdr" with 3 partitions' <<<"$meta" || fail "cdr is not there with 3 partitions: $meta"

# 2. Produce 1000 keyed messages from one process, consume them from another.
n=1000
seq 1 "$n" | awk '{printf "key-%d:value-%d\n", $1, $1}' \
  | k -P -t cdr -K: -X enable.idempotence=true || fail "kcat produce failed"
out="$(k -C -t cdr -o beginning -e -q -f '%k=%s\n')" || fail "kcat consume failed"
got="$(grep -c . <<<"$out")"
[[ "$got" == "$n" ]] || fail "consumed $got messages, expected $n"
grep -qx 'key-42=value-42' <<<"$out" || fail "key-42=value-42 not consumed"
parts="$(k -C -t cdr -o beginning -e -q -f '%p\n' | sort -u | wc -l)"
[[ "$parts" == 3 ]] || fail "messages landed on $parts partitions, expected 3"
echo "ok: kcat produced and consumed $n messages across processes"

# 3. A consumer group across processes: commit, then resume after the commit.
seq 1 50 | awk '{printf "g-%d:v\n", $1}' | k -P -t groups -K: || fail "produce to groups failed"
args=(-G itest-group -X auto.offset.reset=earliest -X session.timeout.ms=6000
      -X heartbeat.interval.ms=1000 -e -q -f '%k\n')
out="$(k "${args[@]}" groups)" || fail "first group consume failed"
got="$(grep -c . <<<"$out")"
[[ "$got" == 50 ]] || fail "group consumed $got, expected 50"
seq 51 55 | awk '{printf "g-%d:v\n", $1}' | k -P -t groups -K: || fail "second produce failed"
out="$(k "${args[@]}" groups)" || fail "second group consume failed"
got="$(grep -c . <<<"$out")"
[[ "$got" == 5 ]] || fail "group resumed with $got messages, expected the 5 new ones"
echo "ok: consumer group committed and resumed across processes"

# 4. Sidestream's own clients from another process (topic made by the broker process:
#    the mock has no CreateTopics, and EnsureTopic accepts the existing topic).
"$roundtrip_bin" --bootstrap "$bootstrap" --topic roundtrip --partitions 4 --messages 2000 \
  --group rt-group || fail "kafka_roundtrip against the embedded broker failed"
echo "ok: kafka_roundtrip against the embedded broker"

# 5. SIGTERM stops it cleanly.
kill -TERM "$broker_pid"
wait "$broker_pid"
rc=$?
broker_pid=""
[[ "$rc" == 0 ]] || fail "the broker exited with $rc after SIGTERM"
echo "PASS: embedded broker across processes"
