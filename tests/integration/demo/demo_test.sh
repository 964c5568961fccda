#!/usr/bin/env bash
# `sidestream demo` for 180 s, its output piped (no terminal: the screen is printed every 10 s):
# it serves the web console and REST API at the URL it prints, exits 0, and its last screen
# shows a closed minute of cell health, an impossible-travel alert, the planted threat SMS and
# the first campaign's uplift, at clock times and with no epoch milliseconds. A minute closes
# 30 s (its grace) after it ends, so one closes within 90 s of any start; 180 s leaves room for
# a loaded machine (two CI runs at once on 2 cores closed none within 120 s).
#   demo_test.sh SIDESTREAM
set -uo pipefail
log=$(mktemp)
trap 'rm -f "$log"; [ -n "${demo:-}" ] && kill "$demo" 2>/dev/null' EXIT
"$1" demo --duration 180 --rate 1000 --port 0 >"$log" 2>&1 &
demo=$!
fail() {
  echo "FAILED: $*"
  echo "--- last screen"
  awk '/^Sidestream demo, /{screen=""} {screen=screen $0 "\n"} END {printf "%s", screen}' "$log"
  exit 1
}
url=""
for _ in $(seq 1 300); do
  url=$(grep -oE 'web console: http://[0-9.]+:[0-9]+/' "$log" | head -1 | cut -d' ' -f3)
  [ -n "$url" ] && break
  kill -0 "$demo" 2>/dev/null || break
  sleep 0.1
done
[ -n "$url" ] || fail "no web console URL printed: $(head -5 "$log")"
code=$(curl -s -o /dev/null -w '%{http_code}' "$url")
[ "$code" = 200 ] || fail "the console at $url answered $code"
curl -s "${url}info" | grep -q '"KsqlServerInfo"' || fail "no ksqlDB /info at ${url}info"
wait "$demo"
status=$?
demo=""
[ "$status" -eq 0 ] || fail "demo exited with $status: $(tail -5 "$log")"
screen=$(awk '/^Sidestream demo, /{screen=""} {screen=screen $0 "\n"} END {printf "%s", screen}' "$log")
echo "$screen" | grep -A1 "^Worst cells" | grep -qE '^  C[0-9]+  [0-9]{2}:[0-9]{2}:00  calls' ||
  fail "no closed minute of cell health"
# The travel join realigns its inputs by seeking; a seek that timed out once failed the query
# and restarted it from a full restore, so it fell behind and showed nothing (session 10).
echo "$screen" | grep -qE 'impossible travel .* km in ' || fail "no impossible-travel alert"
echo "$screen" | grep -q "^Fraud alerts" || fail "no fraud alerts section"
echo "$screen" | grep -A1 "^Threat SMS" | grep -qE '^  [0-9]{2}:[0-9]{2}:[0-9]{2}  [a-z]' ||
  fail "no threat SMS with a clock time"
# The first campaign goes out 10 s in; its treatment arm converts four times as often.
echo "$screen" | grep -A1 "^Campaign uplift" | grep -qE '^  C-DEMO-1  \+[0-9.]+ points' ||
  fail "no campaign uplift for C-DEMO-1"
echo "$screen" | grep -qE '[0-9]{13}' && fail "an epoch-milliseconds time is on screen"
grep -q "query .* failed" "$log" && fail "a query failed: $(grep -m1 'query .* failed' "$log")"
echo "PASSED: the demo served its console at $url and showed cell health, travel alerts, threat SMS and campaign uplift"
