#!/usr/bin/env bash
# A push query whose client stops reading ends, rather than buffering without bound: with
# push.query.max.queued.bytes at its least (64 KiB), a client that sends a push query over
# HTTP/1.1 and never reads (a 4 KiB receive buffer) is dropped once the rows waiting for it
# pass that, and counted in sidestream_push_queries_dropped_total{reason="client_slow"}. The
# server stays healthy and the query is gone (sidestream_push_queries_open back to 0).
set -uo pipefail
sidestream=$1
here=$(cd "$(dirname "$0")" && pwd)
source "$here/common.sh"
for program in curl kcat python3; do
  command -v "$program" >/dev/null || { echo "SKIPPED: $program is missing"; exit 77; }
done
start_serve --set push.query.max.queued.bytes=65536

metric() { curl -s "$base/metrics" | awk -v m="$1" '$1 == m {print $2}'; }
dropped='sidestream_push_queries_dropped_total{reason="client_slow"}'
status=$(curl -s -o "$work/body" -w '%{http_code}' -H 'Content-Type: application/json' \
  --data-binary '{"ksql":"CREATE STREAM BIG (V INT, PAD STRING) WITH (kafka_topic='"'"'big'"'"', value_format='"'"'JSON'"'"', partitions=1);"}' \
  "$base/ksql")
[ "$status" = 200 ] || fail "CREATE STREAM BIG -> $status $(cat "$work/body")"

# The client: sends the query, then only sleeps (killed at exit).
python3 - "${base#http://}" >"$work/client.out" 2>&1 <<'PY' &
import socket, sys, time
host, port = sys.argv[1].split(":")
body = b'{"sql":"SELECT * FROM BIG EMIT CHANGES;","properties":{"auto.offset.reset":"earliest"}}'
sock = socket.socket()
sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
sock.connect((host, int(port)))
sock.sendall(b"POST /query-stream HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
             b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
print("sent", flush=True)
time.sleep(300)
PY
client=$!
trap 'kill $client 2>/dev/null; cleanup' EXIT
for _ in $(seq 1 100); do [ "$(metric sidestream_push_queries_open)" = 1 ] && break; sleep 0.1; done
[ "$(metric sidestream_push_queries_open)" = 1 ] || fail "the push query did not open"

# About 40 MB of rows: more than the socket buffers on both sides hold.
pad=$(printf 'x%.0s' $(seq 1 100))
seq 1 300000 | sed "s/.*/{\"V\":&,\"PAD\":\"$pad\"}/" | kcat -b "$bootstrap" -P -t big -p 0 ||
  fail "kcat"
for _ in $(seq 1 600); do [ "$(metric "$dropped")" = 1 ] && break; sleep 0.1; done
[ "$(metric "$dropped")" = 1 ] ||
  fail "the unread push query was not dropped: $dropped is '$(metric "$dropped")'"
for _ in $(seq 1 50); do [ "$(metric sidestream_push_queries_open)" = 0 ] && break; sleep 0.1; done
[ "$(metric sidestream_push_queries_open)" = 0 ] || fail "the dropped push query is still open"
grep -q "fell behind" "$work/serve.err" || fail "no log line says why the push query ended"
[ "$(curl -s -o /dev/null -w '%{http_code}' "$base/healthcheck")" = 200 ] ||
  fail "the server is not healthy after dropping the query"
echo "PASSED: a push query whose client stopped reading was dropped at 64 KiB queued and counted"
