#!/usr/bin/env bash
# `sidestream cli` against a real `sidestream serve`, driven through a pseudo-terminal (tmux):
# a statement typed over two lines, SET, a push query whose rows appear as they are inserted
# and that Ctrl-C ends, a syntax error with its line:column, the history (Up recalls the last
# statement), RUN SCRIPT, and the history file written at exit. Then statements from a pipe.
#   cli_test.sh SIDESTREAM
# Exit 0 pass, 1 fail, 77 skipped (tmux or curl missing).
set -uo pipefail
binary=$1
for program in tmux curl; do
  command -v "$program" >/dev/null || { echo "SKIPPED: $program is missing"; exit 77; }
done
work=$(mktemp -d)
session="sidestream-cli-$$"
serve_pid=""
cleanup() {
  tmux kill-session -t "$session" 2>/dev/null
  [ -n "$serve_pid" ] && kill "$serve_pid" 2>/dev/null && wait "$serve_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
fail() {
  echo "FAILED: $*"
  echo "--- the terminal"; tmux capture-pane -p -t "$session" 2>/dev/null | grep -v '^$' | tail -40
  exit 1
}

"$binary" serve --port 0 >"$work/serve.out" 2>"$work/serve.err" &
serve_pid=$!
deadline=$((SECONDS + 30))
until grep -q "^listening on" "$work/serve.out" 2>/dev/null; do
  [ $SECONDS -lt $deadline ] || fail "serve did not start: $(cat "$work/serve.err")"
  sleep 0.1
done
base=$(sed -n 's/^listening on \(http:\/\/[0-9.:]*\).*/\1/p' "$work/serve.out")

screen() { tmux capture-pane -p -J -S -200 -t "$session"; }
# Waits until the terminal shows `text` at least `count` times (default once).
wait_screen() {
  local text=$1 count=${2:-1} deadline=$((SECONDS + 30))
  until [ "$(screen | grep -cF -- "$text")" -ge "$count" ]; do
    [ $SECONDS -lt $deadline ] || fail "the terminal did not show '$text' ($count times)"
    sleep 0.1
  done
}
# tmux reads an argument's trailing ';' as its command separator: send it escaped.
type_line() {
  tmux send-keys -t "$session" -l -- "${1%;}"
  [ "${1%;}" = "$1" ] || tmux send-keys -t "$session" -l '\;'
  tmux send-keys -t "$session" Enter
}

tmux new-session -d -s "$session" -x 160 -y 60 \
  "ASAN_OPTIONS=detect_leaks=0 '$binary' cli '$base' --history-file '$work/history'; sleep 30"
wait_screen "sidestream> "
type_line "CREATE STREAM calls (caller VARCHAR KEY,"
wait_screen ">> "
type_line "  cell VARCHAR) WITH (kafka_topic='calls', value_format='JSON', partitions=1);"
wait_screen "Stream created"
type_line "SET 'auto.offset.reset'='earliest';"
wait_screen "Successfully changed local property 'auto.offset.reset'"
type_line "SELECT caller, cell FROM calls EMIT CHANGES;"
wait_screen "| CALLER"
for row in "('a', 'C1')" "('b', 'C2')"; do
  curl -s -X POST "$base/ksql" -H 'Content-Type: application/json' \
    -d "{\"ksql\": \"INSERT INTO calls (caller, cell) VALUES $row;\"}" >/dev/null
done
wait_screen "| a            | C1"
wait_screen "| b            | C2"
tmux send-keys -t "$session" C-c
wait_screen "Query terminated"
wait_screen "2 rows"
type_line "SELEC 1;"
wait_screen "line 1:1: Syntax error at or near 'SELEC'"
tmux send-keys -t "$session" Up Enter  # the history recalls the last statement
wait_screen "line 1:1: Syntax error at or near 'SELEC'" 2
echo "CREATE STREAM more (k VARCHAR KEY, v INT) WITH (kafka_topic='more', value_format='JSON', partitions=1);" >"$work/script.sql"
type_line "RUN SCRIPT '$work/script.sql';"
wait_screen "Stream created" 2
type_line "exit"
wait_screen "Exiting Sidestream CLI."
# libedit writes a space as \040.
sed 's/\\040/ /g' "$work/history" | grep -qF "SELECT caller, cell FROM calls EMIT CHANGES;" ||
  fail "the history file lacks the push query: $(cat "$work/history" 2>&1)"

# From a pipe: no prompts, the answers, and exit 1 because a statement failed.
output=$(printf "SHOW STREAMS;\nDESCRIBE nosuch;\n" | "$binary" cli "$base")
status=$?
[ "$status" -eq 1 ] || fail "a failed piped statement should exit 1, not $status"
echo "$output" | grep -q "| CALLS " || fail "SHOW STREAMS from a pipe: $output"
echo "$output" | grep -q "NOSUCH" || fail "DESCRIBE nosuch from a pipe gave no error: $output"
echo "$output" | grep -q "sidestream>" && fail "prompts printed when reading from a pipe"
echo "PASSED: multi-line statements, SET, a live push query ended by Ctrl-C, errors with line:column, history, RUN SCRIPT, and piped input"
