# Shared by the `sidestream run` tests: a work directory, cleanup on exit, failure
# reporting, and a real Kafka broker on demand. Source it after setting `here`.
work=$(mktemp -d)
run_pid=""
broker_work=""

cleanup() {
  [ -n "$run_pid" ] && kill "$run_pid" 2>/dev/null && wait "$run_pid" 2>/dev/null
  [ -n "$broker_work" ] && bash "$here/../real_kafka/stop.sh" "$broker_work" >/dev/null 2>&1
  rm -rf "$work"
}
trap cleanup EXIT

fail() {
  echo "FAILED: $*"
  echo "--- sidestream output"
  cat "$work/run.out" "$work/run.err" 2>/dev/null | tail -30
  exit 1
}

# Starts a real Apache Kafka broker (tests/integration/real_kafka) and sets `bootstrap`;
# exits 77 (skipped) when Java, Maven or Maven Central is missing.
start_real_broker() {
  local cache=${SIDESTREAM_KAFKA_CACHE:-$HOME/.cache/sidestream/kafka}
  if ! command -v java >/dev/null || ! command -v mvn >/dev/null; then
    echo "SKIPPED: Java or Maven is missing, so no real Kafka broker"; exit 77
  fi
  if ! bash "$here/../real_kafka/fetch.sh" "$cache" >"$work/fetch.log" 2>&1; then
    echo "SKIPPED: cannot fetch Apache Kafka from Maven Central"; tail -3 "$work/fetch.log"; exit 77
  fi
  broker_work="$work/broker"
  mkdir -p "$broker_work"
  bootstrap=$(bash "$here/../real_kafka/start.sh" "$cache" "$broker_work") ||
    fail "real broker did not start"
}
