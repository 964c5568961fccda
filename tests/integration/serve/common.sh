# Shared by the `sidestream serve` tests: starts the server on a free port with the embedded
# broker, sets $base (http://127.0.0.1:port) and $bootstrap, and stops it on exit.
work=$(mktemp -d)
serve_pid=""
cleanup() {
  [ -n "$serve_pid" ] && kill "$serve_pid" 2>/dev/null && wait "$serve_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

fail() {
  echo "FAILED: $*"
  echo "--- sidestream serve output"
  tail -30 "$work/serve.out" "$work/serve.err" 2>/dev/null
  exit 1
}

start_serve() {
  "$sidestream" serve --port 0 "$@" >"$work/serve.out" 2>"$work/serve.err" &
  serve_pid=$!
  for _ in $(seq 1 100); do
    base=$(grep -o 'http://[0-9.:]*' "$work/serve.out" 2>/dev/null | head -1)
    [ -n "$base" ] && break
    kill -0 "$serve_pid" 2>/dev/null || fail "serve exited at start"
    sleep 0.1
  done
  [ -n "$base" ] || fail "serve did not print its address"
  bootstrap=$(sed -n 's/^bootstrap.servers=//p' "$work/serve.out")
}
