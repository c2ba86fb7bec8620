#!/bin/sh
# make before-src: exports BEFORE, the code before the one-core redesign, from git into BEFORE_SRC;
# bench, bench-before and bench-http run its server beside this one.
# Needs: git history that holds BEFORE. Reads: BEFORE (default e7022c1), BEFORE_SRC (default
# build/before) (common.sh).
# Result: BEFORE_SRC/server and BEFORE_SRC/client.
set -eu
. "$(dirname "$0")/common.sh"
export_tree "$BEFORE" "$BEFORE_SRC"
