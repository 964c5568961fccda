#!/usr/bin/env bash
# with_apicurio.sh COMMAND [ARGS...]
# Runs COMMAND with a real schema registry: Apicurio Registry 3.0.9 (fetched once by
# fetch_apicurio.sh), started in memory on a free loopback port and stopped afterwards.
# COMMAND sees SIDESTREAM_SCHEMA_REGISTRY_URL (Confluent's API, /apis/ccompat/v7).
# Exit 77 (ctest's SKIP_RETURN_CODE) with the reason when Java or Apicurio is unavailable;
# otherwise COMMAND's exit code.
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
if ! command -v java >/dev/null 2>&1; then
  echo "SKIP: java is not installed; Apicurio Registry needs Java 17" >&2
  exit 77
fi
if ! jar="$("$here/fetch_apicurio.sh")"; then
  echo "SKIP: cannot fetch Apicurio Registry from Maven Central (see above)" >&2
  exit 77
fi
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
log="$(mktemp -t apicurio.XXXXXX.log)"
java -Xmx512m -Dquarkus.http.host=127.0.0.1 -Dquarkus.http.port="$port" -jar "$jar" >"$log" 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; rm -f "$log"' EXIT
url="http://127.0.0.1:$port/apis/ccompat/v7"
# Ready when the ccompat API answers; about 5 s, 120 s on a loaded machine at most.
deadline=$((SECONDS + 120))
until curl -fs "$url/subjects" >/dev/null 2>&1; do
  if ! kill -0 "$pid" 2>/dev/null; then
    echo "with_apicurio.sh: Apicurio exited while starting; its log:" >&2
    tail -n 30 "$log" >&2
    exit 1
  fi
  if ((SECONDS > deadline)); then
    echo "with_apicurio.sh: Apicurio did not answer on $url within 120 s" >&2
    tail -n 30 "$log" >&2
    exit 1
  fi
  sleep 0.2
done
echo "with_apicurio.sh: Apicurio Registry ready at $url" >&2
SIDESTREAM_SCHEMA_REGISTRY_URL="$url" "$@"
