#!/usr/bin/env bash
# ksql-python-ng (PyPI; ksql-python's maintained fork, httpx: HTTP/1.1 for /ksql and /query,
# HTTP/2 for /query-stream and /inserts-stream) against `sidestream serve`, unchanged: runs
# clients_python_test.py. Installed once into a virtual environment at VENV_DIR; skipped (77)
# without python3's venv or the registry.
#   clients_python_test.sh SIDESTREAM INSTALL_PIP_PACKAGE VENV_DIR
set -uo pipefail
sidestream=$1
install_pip=$2
venv_dir=$3
here=$(cd "$(dirname "$0")" && pwd)
source "$here/common.sh"
# ksql-python-ng leaves httpx unpinned but passes `cert=` to httpx.get, which httpx 0.28
# removed (TypeError at KSQLAPI()): its last compatible httpx goes in beside it.
bash "$install_pip" "$venv_dir" ksql-python-ng==0.29.0.1 "httpx[http2]<0.28" ||
  { echo "SKIPPED: ksql-python-ng could not be installed with pip"; exit 77; }
venv_dir=$(cd "$venv_dir" && pwd)
start_serve
timeout 180 "$venv_dir/bin/python" "$here/clients_python_test.py" "$base" || fail "ksql-python-ng"
