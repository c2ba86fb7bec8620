#!/bin/sh
# make bench-before: this code against BEFORE alone, in 3 interleaved rounds per level (one round
# of bench is within this machine's 10-15 % noise only by luck): greedy sentences and whole
# articles at 1, 16 and 64 clients, each server's median round kept. About 12 minutes.
# Needs: bench-bundle and before-src (make runs them first).
# Reads: PY, BENCH_BUNDLE, BEFORE, BEFORE_SRC (common.sh).
# Results: docs/bench/before-after.json (no plot).
set -eu
. "$(dirname "$0")/common.sh"
"$PY" tests/bench/run.py --bundle "$BENCH_BUNDLE" --beams 1 --concurrency 1,16,64 --kinds sentences,articles \
	--sentences 48 --rounds 3 --transformers 0 --overhead-sentences 8 --baseline-src "$BEFORE_SRC" \
	--baseline-label "$BEFORE" --out docs/bench/before-after.json --plot ""
