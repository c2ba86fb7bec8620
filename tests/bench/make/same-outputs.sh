#!/bin/sh
# make same-outputs: whether this code answers every request as OUTPUTS_BEFORE did, byte for byte
# (timings' milliseconds aside), on the tiny bundles: a server of each, the sample articles through
# every RPC. Exits 1 on a difference.
# Needs: make install; git history that holds OUTPUTS_BEFORE.
# Reads: PY (common.sh); OUTPUTS_BEFORE, pinned commit, the code before the floors redesign
# (default 01cd908; f2852ae was the parent of the one-core redesign, whose tiny bundles today's
# code builds with keys it does not know); OUTPUTS_BEFORE_SRC, where it is exported (default
# build/outputs-before).
# Results: docs/bench/same-outputs.json.
set -eu
. "$(dirname "$0")/common.sh"
OUTPUTS_BEFORE=${OUTPUTS_BEFORE:-01cd908}
OUTPUTS_BEFORE_SRC=${OUTPUTS_BEFORE_SRC:-build/outputs-before}
export_tree "$OUTPUTS_BEFORE" "$OUTPUTS_BEFORE_SRC"
"$PY" tests/bench/same_outputs.py --baseline-src "$OUTPUTS_BEFORE_SRC" --baseline-label "$OUTPUTS_BEFORE" \
	--out docs/bench/same-outputs.json
