#!/usr/bin/env bash
# fetch_apicurio.sh [CACHE_DIR]
# Fetches Apicurio Registry 3.0.9 (the Quarkus "all" tarball, 109 MB) from Maven Central
# into CACHE_DIR (default ~/.cache/sidestream/apicurio) once, unpacks it, and prints the path
# of the runner jar. `mvn dependency:get` fails for this artifact (its parent POM is not
# served), so plain curl fetches the tarball.
#
# Exit codes: 0 ok (jar path on stdout); 1 fetch or unpack failed; 3 Maven Central unreachable.
set -euo pipefail
version=3.0.9
cache="${1:-$HOME/.cache/sidestream/apicurio}"
mkdir -p "$cache"
cache="$(cd "$cache" && pwd)"
dir="$cache/apicurio-registry-app-$version"
jar="$dir/apicurio-registry-app-$version-runner.jar"
stamp="$dir/.complete"

if [[ -f "$stamp" && -f "$jar" ]]; then echo "$jar"; exit 0; fi

# Two test runs may share one cache: let one fetch, the other wait for it.
exec 9>"$cache/.fetch.lock"
flock 9
if [[ -f "$stamp" && -f "$jar" ]]; then echo "$jar"; exit 0; fi

url="https://repo.maven.apache.org/maven2/io/apicurio/apicurio-registry-app/$version/apicurio-registry-app-$version-all.tar.gz"
tarball="$cache/apicurio-registry-app-$version-all.tar.gz"
if [[ ! -f "$tarball" ]]; then
  echo "fetch_apicurio.sh: fetching $url ..." >&2
  if ! curl -fsSL --retry 2 --connect-timeout 20 -o "$tarball.partial.$$" "$url" 2>"$cache/fetch.log"; then
    rm -f "$tarball.partial.$$"
    echo "fetch_apicurio.sh: cannot fetch Apicurio from Maven Central: $(head -c 300 "$cache/fetch.log")" >&2
    exit 3
  fi
  mv "$tarball.partial.$$" "$tarball"
fi
tmp="$cache/unpack.$$"
rm -rf "$tmp"
mkdir -p "$tmp"
trap 'rm -rf "$tmp"' EXIT
if ! tar -xzf "$tarball" -C "$tmp"; then
  echo "fetch_apicurio.sh: cannot unpack $tarball (removed; rerun to fetch again)" >&2
  rm -f "$tarball"
  exit 1
fi
found="$(find "$tmp" -name "apicurio-registry-app-$version-runner.jar" | head -n1)"
if [[ -z "$found" ]]; then
  echo "fetch_apicurio.sh: no runner jar inside $tarball" >&2
  exit 1
fi
rm -rf "$dir"
mv "$(dirname "$found")" "$dir"
touch "$stamp"
echo "$jar"
