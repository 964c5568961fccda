#!/usr/bin/env bash
# Installs PyPI packages into a virtual environment at DIR once, for the tests that need a
# Python client (ksql-python-ng; PLATFORM.md). Cached: does nothing when DIR's venv already has
# them. Serialised with flock, since several test processes may ask at once.
#   install_pip_package.sh DIR PACKAGE==VERSION [REQUIREMENT...]
#     exit 0 installed (DIR/bin/python has them), 77 python3, venv or the registry unavailable
set -uo pipefail
[ $# -ge 2 ] || { echo "usage: install_pip_package.sh DIR PACKAGE==VERSION [REQUIREMENT...]" >&2; exit 2; }
mkdir -p "$1"
dir=$(cd "$1" && pwd)
shift
spec="$*"
marker="$dir/.installed-$(printf '%s' "$spec" | tr -c 'A-Za-z0-9.=_-' '_')"
exec 9>"$dir/.install.lock"
flock 9
[ -f "$marker" ] && exit 0
command -v python3 >/dev/null || { echo "python3 is missing, so no $spec" >&2; exit 77; }
if [ ! -x "$dir/bin/python" ] && ! python3 -m venv "$dir" >"$dir/venv.log" 2>&1; then
  echo "python3 -m venv failed:" >&2
  tail -3 "$dir/venv.log" >&2
  exit 77
fi
if ! "$dir/bin/python" -m pip install --disable-pip-version-check -q "$@" \
  >"$dir/install.log" 2>&1; then
  echo "pip install $spec failed (registry unreachable?):" >&2
  tail -3 "$dir/install.log" >&2
  exit 77
fi
touch "$marker"
