#!/usr/bin/env bash
# ksqlDB's own clients against `sidestream serve`, unchanged: npm's ksqldb-client (HTTP/2 for
# every call) runs clients_test.mjs. Installed once into NODE_DIR; skipped (77) without node,
# npm or the registry.
#   clients_test.sh SIDESTREAM INSTALL_NPM_PACKAGE NODE_DIR
set -uo pipefail
sidestream=$1
install_npm=$2
node_dir=$3
here=$(cd "$(dirname "$0")" && pwd)
source "$here/common.sh"
bash "$install_npm" "$node_dir" ksqldb-client@1.0.5 ||
  { echo "SKIPPED: ksqldb-client could not be installed with npm"; exit 77; }
node_dir=$(cd "$node_dir" && pwd)
start_serve
hostport=${base#http://}
timeout 180 node "$here/clients_test.mjs" "$node_dir/node_modules" "${hostport%:*}" "${hostport#*:}" ||
  fail "ksqldb-client"
