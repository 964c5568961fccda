#!/usr/bin/env bash
# Installs every build and test dependency from Debian 12's packages.
# Idempotent: skips apt when all packages are already present.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config git
  librdkafka-dev libantlr4-runtime-dev antlr4 librocksdb-dev libyaml-cpp-dev
  libsqlite3-dev sqlite3 libgtest-dev libgmock-dev libbenchmark-dev libcpp-httplib-dev
  nlohmann-json3-dev libsimdjson-dev libhiredis-dev redis-server kcat libfmt-dev
  libspdlog-dev libcli11-dev libhyperscan-dev libxgboost-dev libre2-dev libcurl4-openssl-dev
  libxxhash-dev libabsl-dev clang-format ccache libedit-dev
  libh2o-evloop-dev libssl-dev curl nghttp2-client  # `serve`: HTTP/1.1 + HTTP/2; its tests
  libavro-dev libprotobuf-dev libprotoc-dev protobuf-compiler  # AVRO and PROTOBUF formats (avro-c, protobuf's DynamicMessage)
  prometheus  # scrapes `serve`'s /metrics in serve.metrics
  wrk  # HTTP/1.1 load for bench/serve_bench.py (h2load, of nghttp2-client, for HTTP/2)
  chromium  # a real browser for the web console's test (serve.console, with npm's puppeteer-core)
  clang libclang-rt-14-dev libfuzzer-14-dev
  tzdata  # region time zones (CONVERT_TZ), read by Abseil at run time
)

# Node.js and npm serve pouchdb-server (CouchDB's API) to the CouchDB sink's tests; a machine
# with Node.js from elsewhere (it bundles npm) keeps it.
if ! command -v npm >/dev/null; then
  packages+=(nodejs npm)
fi

missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" \
    || missing+=("$package")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

echo "install-deps: installing ${#missing[@]} packages: ${missing[*]}"
sudo_cmd=""
[ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo_cmd apt-get update -q
$sudo_cmd apt-get install -y -q --no-install-recommends "${missing[@]}"
