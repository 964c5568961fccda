#!/usr/bin/env bash
# An idle push query whose HTTP/1.1 client closes its connection ends within seconds, though
# no row is written that could fail: over /query and /query-stream, for a query of its own and
# for a tap of a persistent query's output (push.v2.enabled). sidestream_push_queries_open and
# sidestream_push_query_taps_open go back to 0.
set -uo pipefail
sidestream=$1
here=$(cd "$(dirname "$0")" && pwd)
source "$here/common.sh"
for program in curl python3; do
  command -v "$program" >/dev/null || { echo "SKIPPED: $program is missing"; exit 77; }
done
start_serve

metric() { curl -s "$base/metrics" | awk -v m="$1" '$1 == m {print $2}'; }
ksql() {
  local status
  status=$(curl -s -o "$work/body" -w '%{http_code}' -H 'Content-Type: application/json' \
    --data-binary "{\"ksql\":\"$1\"}" "$base/ksql")
  [ "$status" = 200 ] || fail "$1 -> $status $(cat "$work/body")"
}
ksql "CREATE STREAM S (V INT) WITH (kafka_topic='s', value_format='JSON', partitions=1);"
ksql "CREATE STREAM COPY AS SELECT * FROM S;"

# Each client sends its push query over HTTP/1.1, reads the response's first bytes (the
# header), then closes the connection. No record is produced, so no row is ever written.
cat >"$work/client.py" <<'PY'
import socket, sys
host, port = sys.argv[1].split(":")
path, sql = sys.argv[2], sys.argv[3]
body = ('{"sql":"%s","ksql":"%s","properties":{}}' % (sql, sql)).encode()
sock = socket.create_connection((host, int(port)), timeout=60)
sock.sendall(b"POST " + path.encode() + b" HTTP/1.1\r\nHost: x\r\n"
             b"Content-Type: application/json\r\nContent-Length: " + str(len(body)).encode() +
             b"\r\n\r\n" + body)
received = b""
while b"\r\n\r\n" not in received or not received.split(b"\r\n\r\n", 1)[1]:
    chunk = sock.recv(4096)
    if not chunk:
        sys.exit("connection closed before the header: " + received.decode(errors="replace"))
    received += chunk
print(received.split(b"\r\n", 1)[0].decode(), flush=True)
sock.close()
PY
run_client() {
  python3 "$work/client.py" "${base#http://}" "$1" "$2" >>"$work/clients.out" 2>&1 ||
    fail "client $1 $2: $(cat "$work/clients.out")"
}
run_client /query-stream "SELECT * FROM S EMIT CHANGES;"
run_client /query "SELECT * FROM S EMIT CHANGES;"
run_client /query-stream "SELECT * FROM COPY EMIT CHANGES;"
run_client /query "SELECT * FROM COPY EMIT CHANGES;"
grep -c "HTTP/1.1 200" "$work/clients.out" | grep -qx 4 || fail "clients: $(cat "$work/clients.out")"

for _ in $(seq 1 150); do
  [ "$(metric sidestream_push_queries_open)" = 0 ] &&
    [ "$(metric sidestream_push_query_taps_open)" = 0 ] && break
  sleep 0.1
done
[ "$(metric sidestream_push_queries_open)" = 0 ] ||
  fail "push queries still open after their clients left: $(metric sidestream_push_queries_open)"
[ "$(metric sidestream_push_query_taps_open)" = 0 ] ||
  fail "taps still open after their clients left: $(metric sidestream_push_query_taps_open)"
[ "$(curl -s -o /dev/null -w '%{http_code}' "$base/healthcheck")" = 200 ] ||
  fail "the server is not healthy"
echo "PASSED: 4 idle push queries (2 of their own, 2 taps) ended when their HTTP/1.1 clients left"
