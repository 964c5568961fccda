#!/usr/bin/env bash
# fetch.sh CACHE_DIR
# Copies the Kafka broker's classpath (see pom.xml) into CACHE_DIR/lib, once.
# A stamp file (CACHE_DIR/lib/.complete) holds a hash of pom.xml: while it
# matches, nothing is fetched and Maven is not even started.
# Maven's local repository stays in its default place (~/.m2/repository).
#
# Exit codes: 0 ok; 1 Maven failed for another reason (see CACHE_DIR/fetch.log);
#             2 usage; 3 Maven Central could not be reached; 4 mvn not installed.
set -euo pipefail

if [[ $# -ne 1 ]]; then
  echo "usage: $0 CACHE_DIR" >&2
  exit 2
fi
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
pom="$here/pom.xml"
mkdir -p "$1"
cache="$(cd "$1" && pwd)"
lib="$cache/lib"
stamp="$lib/.complete"
want="$(sha256sum "$pom" | cut -d' ' -f1)"

is_complete() {
  [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]]
}

is_complete && exit 0

# Two test runs may share one cache: let one fetch, the other wait for it.
exec 9>"$cache/.fetch.lock"
flock 9
is_complete && exit 0

if ! command -v mvn >/dev/null 2>&1; then
  echo "fetch.sh: mvn is not installed; cannot fetch the Kafka broker" >&2
  exit 4
fi

tmp="$cache/lib.partial.$$"
rm -rf "$tmp"
trap 'rm -rf "$tmp"' EXIT
log="$cache/fetch.log"
# Name the plugin in full: with a bare `dependency:` prefix and no network,
# Maven only says "No plugin found for prefix" and hides the network error.
plugin="org.apache.maven.plugins:maven-dependency-plugin:3.8.1"
# -U: retry what an earlier failed attempt cached as missing (after a network blip).
echo "fetch.sh: fetching the Kafka broker classpath into $lib (Maven Central)..." >&2
if ! mvn -B -q -U -Dstyle.color=never -f "$pom" "$plugin:copy-dependencies" \
       -DoutputDirectory="$tmp" -DincludeScope=runtime >"$log" 2>&1; then
  # Tell "no network / registry down" apart from a real problem with the pom
  # (an artifact that is missing or refused is a real problem: fail).
  if grep -qE 'Could not find artifact|Failure to find|was not found in|status code: 4[0-9][0-9]' "$log"; then
    echo "fetch.sh: Maven Central has no such artifact or refused it; last lines of $log:" >&2
    tail -n 20 "$log" >&2
    exit 1
  fi
  if grep -qiE 'UnknownHost|unknown host|Temporary failure in name resolution|Connect(ion)? (timed out|refused)|connect timed out|Network is unreachable|No route to host|Could not transfer|Failure to transfer|transfer failed|offline mode|Connection reset|Remote host terminated' "$log"; then
    echo "fetch.sh: cannot reach Maven Central; Maven said:" >&2
    grep -m3 -E '\[ERROR\]' "$log" | cut -c1-400 >&2 || true
    exit 3
  fi
  echo "fetch.sh: Maven failed to fetch the Kafka broker classpath; last lines of $log:" >&2
  tail -n 20 "$log" >&2
  exit 1
fi
if ! compgen -G "$tmp/kafka_2.13-*.jar" >/dev/null; then
  echo "fetch.sh: Maven succeeded but no kafka_2.13 jar landed in $tmp" >&2
  exit 1
fi
rm -rf "$lib"
mv "$tmp" "$lib"
echo "$want" >"$stamp"
echo "fetch.sh: $(ls "$lib"/*.jar | wc -l) jars in $lib" >&2
