#!/usr/bin/env bash
# Installs khulasa into a fresh virtualenv: the steps the container image runs (Dockerfile)
# and CI runs too (.ci/run), so they cannot drift apart unnoticed.
#
#   deploy/install.sh PREFIX [EXTRAS]     EXTRAS: server (default) or ray (server + Ray Data)
set -euo pipefail
prefix=${1:?usage: install.sh PREFIX [server|ray]}
extras=${2:-server}
case "$extras" in server|ray) ;; *) echo "install.sh: EXTRAS must be server or ray, got '$extras'" >&2; exit 2 ;; esac
source_dir=$(cd "$(dirname "$0")/.." && pwd)

python3 -m venv "$prefix"
"$prefix/bin/pip" install --quiet --no-cache-dir --upgrade pip
"$prefix/bin/pip" install --quiet --no-cache-dir "$source_dir[$extras]"

# The entry points the image and the manifests use must start.
"$prefix/bin/khulasa-server" --help >/dev/null
"$prefix/bin/khulasa-models" --help >/dev/null
"$prefix/bin/khulasa" --help >/dev/null
if [ "$extras" = ray ]; then
  "$prefix/bin/khulasa-bulk" --help >/dev/null
  "$prefix/bin/ray" --version >/dev/null
fi
echo "install.sh: khulasa[$extras] installed in $prefix"
