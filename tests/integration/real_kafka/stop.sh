#!/usr/bin/env bash
# stop.sh WORK_DIR
# Stops the broker that start.sh started from WORK_DIR: SIGTERM (a clean,
# controlled shutdown), up to 20 s (SIDESTREAM_KAFKA_STOP_TIMEOUT) to exit,
# then SIGKILL. Also stops start.sh's watchdog. Safe to run twice.
set -uo pipefail

if [[ $# -ne 1 ]]; then
  echo "usage: $0 WORK_DIR" >&2
  exit 2
fi
work="$1"
grace="${SIDESTREAM_KAFKA_STOP_TIMEOUT:-20}"

# True if PID is alive and still the process we started (guards against a
# recycled pid): its command line must name WORK_DIR.
is_ours() {
  [[ -n "$1" && -r "/proc/$1/cmdline" ]] && tr '\0' ' ' <"/proc/$1/cmdline" | grep -qF "$2"
}

# Alive and not a zombie (a zombie's parent has not reaped it yet; it is gone).
alive() {
  kill -0 "$1" 2>/dev/null || return 1
  local state
  state="$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" || return 1
  [[ "$state" != "Z" ]]
}

rc=0
if [[ -f "$work/watchdog.pid" ]]; then
  wpid="$(cat "$work/watchdog.pid")"
  is_ours "$wpid" kafka-watchdog && kill -KILL "$wpid" 2>/dev/null
  rm -f "$work/watchdog.pid"
fi

if [[ -f "$work/kafka.pid" ]]; then
  pid="$(cat "$work/kafka.pid")"
  if is_ours "$pid" "$work/server.properties"; then
    kill -TERM "$pid" 2>/dev/null
    deadline=$(( $(date +%s) + grace ))
    while alive "$pid" && (( $(date +%s) < deadline )); do
      sleep 0.2
    done
    if alive "$pid"; then
      echo "stop.sh: broker $pid still up after ${grace}s; sending SIGKILL" >&2
      kill -KILL "$pid" 2>/dev/null
      for _ in $(seq 1 50); do alive "$pid" || break; sleep 0.1; done
    fi
    if alive "$pid"; then
      echo "stop.sh: broker $pid would not die" >&2
      rc=1
    fi
  fi
  [[ $rc -eq 0 ]] && rm -f "$work/kafka.pid"
fi
exit $rc
