#!/usr/bin/env bash
# `sidestream demo` for a minute, its output piped (no terminal: the screen is printed every
# 10 s): it exits 0, and its last screen shows planted fraud alerts and threat SMS with clock
# times, and no epoch milliseconds.
#   demo_test.sh SIDESTREAM
set -uo pipefail
output=$("$1" demo --duration 65 --rate 3000 2>&1)
status=$?
screen=$(echo "$output" | awk '/^Sidestream demo, /{screen=""} {screen=screen $0 "\n"} END {printf "%s", screen}')
fail() { echo "FAILED: $*"; echo "--- last screen"; echo "$screen"; exit 1; }
[ "$status" -eq 0 ] || fail "demo exited with $status: $(echo "$output" | tail -5)"
echo "$screen" | grep -A1 "^Fraud alerts" | grep -qE '^  [0-9]{2}:[0-9]{2}:[0-9]{2}  (impossible travel|SIM-box)' ||
  fail "no fraud alert with a clock time"
echo "$screen" | grep -A1 "^Threat SMS" | grep -qE '^  [0-9]{2}:[0-9]{2}:[0-9]{2}  [a-z]' ||
  fail "no threat SMS with a clock time"
echo "$screen" | grep -qE '[0-9]{13}' && fail "an epoch-milliseconds time is on screen"
echo "PASSED: the demo's screen shows fraud alerts and threat SMS at clock times"
