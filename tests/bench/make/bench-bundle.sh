#!/bin/sh
# make bench-bundle: builds the bench bundle, random weights in the exact shapes of opus-mt-ar-en
# and distilbart-cnn-12-6 (no download), which bench, bench-before, bench-http and bench-bulk run on.
# Needs: make install. Reads: PY, KHULASA_HOME, BENCH_BUNDLE (common.sh).
# Result: the bundle in BENCH_BUNDLE (default ~/.cache/khulasa/bundles/bench-opus).
set -eu
. "$(dirname "$0")/common.sh"
"$BIN/khulasa-models" build bench-opus --out "$BENCH_BUNDLE"
