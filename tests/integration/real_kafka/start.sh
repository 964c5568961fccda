#!/usr/bin/env bash
# start.sh CACHE_DIR WORK_DIR
# Starts a single-node KRaft Kafka broker (combined broker+controller) on two
# free loopback ports, from the classpath that fetch.sh put in CACHE_DIR/lib.
# Writes into WORK_DIR: server.properties, log4j2.properties, data/ (log.dirs),
# broker.log (everything the JVM prints), kafka.pid, bootstrap (host:port).
# Waits until the broker answers a metadata request (kcat -L), deadline 90 s
# (override: SIDESTREAM_KAFKA_START_TIMEOUT), then prints the bootstrap address.
#
# Optional env:
#   SIDESTREAM_KAFKA_WATCH_PID  a pid to watch: if it dies, a tiny watchdog
#                               kills the broker (so a SIGKILLed test cannot
#                               leave it running). stop.sh also stops it.
#   SIDESTREAM_KAFKA_HEAP       -Xmx value (default 512m).
set -euo pipefail

if [[ $# -ne 2 ]]; then
  echo "usage: $0 CACHE_DIR WORK_DIR" >&2
  exit 2
fi
lib="$(cd "$1" && pwd)/lib"
mkdir -p "$2"
work="$(cd "$2" && pwd)"
timeout_s="${SIDESTREAM_KAFKA_START_TIMEOUT:-90}"
heap="${SIDESTREAM_KAFKA_HEAP:-512m}"

[[ -f "$lib/.complete" ]] || { echo "start.sh: $lib is not complete; run fetch.sh first" >&2; exit 1; }
command -v java >/dev/null || { echo "start.sh: java not found" >&2; exit 1; }
command -v kcat >/dev/null || { echo "start.sh: kcat not found" >&2; exit 1; }
if [[ -f "$work/kafka.pid" ]] && kill -0 "$(cat "$work/kafka.pid")" 2>/dev/null; then
  echo "start.sh: a broker is already running from $work (pid $(cat "$work/kafka.pid"))" >&2
  exit 1
fi

# A port is taken as free when nothing listens on it nor has a socket on it.
port_in_use() {
  if command -v ss >/dev/null 2>&1 && [[ -n "$(ss -Htan "( sport = :$1 )" 2>/dev/null)" ]]; then
    return 0
  fi
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}
pick_port() {
  local p
  for _ in $(seq 1 200); do
    p=$(( 20000 + (RANDOM * 32768 + RANDOM) % 30000 ))
    [[ "$p" == "${1:-}" ]] && continue
    port_in_use "$p" || { echo "$p"; return 0; }
  done
  echo "start.sh: no free loopback port found" >&2
  return 1
}
broker_port="$(pick_port)"
controller_port="$(pick_port "$broker_port")"
bootstrap="127.0.0.1:$broker_port"

# Cluster id: 16 random bytes, URL-safe base64 without padding (Kafka's Uuid
# string form). Like Uuid.randomUuid(), avoid a leading '-'. Saves a JVM start
# over `StorageTool random-uuid`.
cluster_id=""
while [[ -z "$cluster_id" || "$cluster_id" == -* ]]; do
  cluster_id="$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')"
done

cat >"$work/server.properties" <<PROPS
# Single-node KRaft, combined mode, written by start.sh for Sidestream's tests.
process.roles=broker,controller
node.id=1
listeners=PLAINTEXT://127.0.0.1:$broker_port,CONTROLLER://127.0.0.1:$controller_port
advertised.listeners=PLAINTEXT://127.0.0.1:$broker_port
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER
# Static quorum: works the same on Kafka 3.x and 4.x; format without --standalone.
controller.quorum.voters=1@127.0.0.1:$controller_port
log.dirs=$work/data
num.partitions=1
default.replication.factor=1
auto.create.topics.enable=true
offsets.topic.replication.factor=1
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
# Kafka's default: a new group waits 3 s for its members, so that the members of every
# stream thread join in one rebalance instead of a rebalance each (a commit refused during a
# rebalance leaves processed records to be read again: at-least-once duplicates).
group.initial.rebalance.delay.ms=3000
# Keep a test broker light on a small shared machine.
num.network.threads=2
num.io.threads=2
num.recovery.threads.per.data.dir=1
log.segment.bytes=67108864
PROPS

cat >"$work/log4j2.properties" <<'PROPS'
# Log4j2 config for the test broker: everything to stdout, which start.sh sends to broker.log.
status = warn
appender.out.type = Console
appender.out.name = STDOUT
appender.out.layout.type = PatternLayout
appender.out.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.out.ref = STDOUT
logger.request.name = kafka.request.logger
logger.request.level = WARN
logger.controller.name = org.apache.kafka.controller
logger.controller.level = INFO
logger.state.name = state.change.logger
logger.state.level = WARN
PROPS

jvm_opts=(-Xms64m "-Xmx$heap" -XX:+UseG1GC -XX:+ExitOnOutOfMemoryError
          -Djava.awt.headless=true
          "-Dlog4j2.configurationFile=$work/log4j2.properties"
          "-Dkafka.logs.dir=$work")
log="$work/broker.log"

fail() {
  echo "start.sh: $1" >&2
  if [[ -f "$log" ]]; then
    echo "---- last 40 lines of $log ----" >&2
    tail -n 40 "$log" >&2
  fi
  if [[ -n "${pid:-}" ]]; then
    kill -KILL "$pid" 2>/dev/null || true
    rm -f "$work/kafka.pid"
  fi
  exit 1
}

# 1. Format the storage (a no-op when WORK_DIR was formatted already).
if ! java "${jvm_opts[@]}" -cp "$lib/*" kafka.tools.StorageTool format \
      --cluster-id "$cluster_id" --config "$work/server.properties" --ignore-formatted \
      >"$log" 2>&1; then
  fail "formatting the storage failed"
fi

# 2. Start the broker in the background, detached from our stdin and terminal.
t0=$(date +%s%N)
setsid java "${jvm_opts[@]}" -cp "$lib/*" kafka.Kafka "$work/server.properties" \
  >>"$log" 2>&1 </dev/null &
pid=$!
echo "$pid" >"$work/kafka.pid"
echo "$bootstrap" >"$work/bootstrap"

# 3. Wait until it answers metadata: a cheap TCP probe first, then kcat -L.
deadline=$(( $(date +%s) + timeout_s ))
while :; do
  kill -0 "$pid" 2>/dev/null || { pid=""; fail "the broker exited during start-up"; }
  if (exec 3<>"/dev/tcp/127.0.0.1/$broker_port") 2>/dev/null \
     && kcat -b "$bootstrap" -L -m 5 2>/dev/null | grep -q "broker 1 at"; then
    break
  fi
  (( $(date +%s) < deadline )) || fail "the broker did not answer metadata within ${timeout_s}s"
  sleep 0.5
done
t1=$(date +%s%N)
echo "$(( (t1 - t0) / 1000000 ))" >"$work/start_ms"

# 4. Optional watchdog: kill the broker if the watched process dies first.
if [[ -n "${SIDESTREAM_KAFKA_WATCH_PID:-}" ]]; then
  setsid bash -c '
    while kill -0 "$1" 2>/dev/null; do
      if ! kill -0 "$2" 2>/dev/null; then
        kill -TERM "$1" 2>/dev/null
        for _ in $(seq 1 100); do kill -0 "$1" 2>/dev/null || exit 0; sleep 0.2; done
        kill -KILL "$1" 2>/dev/null; exit 0
      fi
      sleep 1
    done' kafka-watchdog "$pid" "$SIDESTREAM_KAFKA_WATCH_PID" \
    >/dev/null 2>&1 </dev/null &
  echo "$!" >"$work/watchdog.pid"
fi

echo "start.sh: broker pid $pid ready at $bootstrap after $(cat "$work/start_ms") ms (log: $log)" >&2
echo "$bootstrap"
