#!/bin/sh
# make same-outputs: whether this code answers every request as OUTPUTS_BEFORE did, byte for byte
# (timings' milliseconds aside), on the tiny bundles: a server of each, the sample articles through
# every RPC. Exits 1 on a difference.
# Needs: make install; git history that holds OUTPUTS_BEFORE.
# Reads: PY (common.sh); OUTPUTS_BEFORE, pinned commit, the parent of the one-core redesign
# (default f2852ae; BEFORE is older, without the name checks that landed just ahead of the
# redesign); OUTPUTS_BEFORE_SRC, where it is exported (default build/outputs-before).
# Results: docs/bench/same-outputs.json.
set -eu
. "$(dirname "$0")/common.sh"
OUTPUTS_BEFORE=${OUTPUTS_BEFORE:-f2852ae}
OUTPUTS_BEFORE_SRC=${OUTPUTS_BEFORE_SRC:-build/outputs-before}
export_tree "$OUTPUTS_BEFORE" "$OUTPUTS_BEFORE_SRC"
"$PY" tests/bench/same_outputs.py --baseline-src "$OUTPUTS_BEFORE_SRC" --baseline-label "$OUTPUTS_BEFORE" \
	--out docs/bench/same-outputs.json
