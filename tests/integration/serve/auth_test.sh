#!/usr/bin/env bash
# Authentication of `sidestream serve` (auth.basic.users, auth.bearer.tokens), over HTTP/1.1
# and HTTP/2: no credential gets 401, a wrong one 403 (ksqlDB's error shape), a right one goes
# through; /chc/live needs none; SHOW PROPERTIES does not print the secrets.
set -uo pipefail
sidestream=$1
here=$(cd "$(dirname "$0")" && pwd)
source "$here/common.sh"
command -v curl >/dev/null || { echo "SKIPPED: curl is missing"; exit 77; }
start_serve --set 'auth.basic.users=ops:s3cret, viewer:pw' --set auth.bearer.tokens=tok123

check() {  # check WANT_STATUS PATTERN CURL_ARGS...
  local want=$1 pattern=$2; shift 2
  local got
  got=$(curl -s -o "$work/body" -w '%{http_code}' "$@")
  [ "$got" = "$want" ] || fail "$* -> $got, expected $want: $(head -c 300 "$work/body")"
  grep -q -- "$pattern" "$work/body" || fail "$*: body lacks $pattern: $(cat "$work/body")"
}
for flag in --http1.1 --http2-prior-knowledge; do
  check 200 '"isHealthy"' $flag "$base/chc/live"
  check 401 '"error_code":40100' $flag "$base/info"
  check 401 '"@type":"generic_error"' $flag "$base/nope"
  check 401 '"error_code":40100' $flag -d '{"ksql":"SHOW STREAMS;"}' "$base/ksql"
  check 403 '"error_code":40300' $flag -u ops:wrong "$base/info"
  check 403 '"error_code":40300' $flag -H 'Authorization: Bearer nope' "$base/info"
  check 403 '"error_code":40300' $flag -H 'Authorization: Basic %%%' "$base/info"
  check 403 '"error_code":40300' $flag -H 'Authorization: Digest x' "$base/info"
  check 200 '"KsqlServerInfo"' $flag -u ops:s3cret "$base/info"
  check 200 '"KsqlServerInfo"' $flag -u viewer:pw "$base/info"
  check 200 '"KsqlServerInfo"' $flag -H 'Authorization: Bearer tok123' "$base/info"
  check 200 '"isHealthy"' $flag -H 'Authorization: Bearer tok123' "$base/chc/ready"
  check 200 '"@type":"properties"' $flag -u ops:s3cret -d '{"ksql":"SHOW PROPERTIES;"}' \
    "$base/ksql"
  grep -q 's3cret\|tok123' "$work/body" && fail "SHOW PROPERTIES printed a secret"
done
kill -0 "$serve_pid" || fail "serve died"
echo "PASSED"
