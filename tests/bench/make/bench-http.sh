#!/bin/sh
# make bench-http: the HTTP front end (khulasa's /v1 and LibreTranslate's) against gRPC on one
# server, at 1 and 16 clients in 3 interleaved rounds, and the same on a server of BEFORE alongside.
# Needs: bench-bundle and before-src (make runs them first).
# Reads: PY, BENCH_BUNDLE, BEFORE_SRC (common.sh).
# Results: docs/bench/http-overhead.json.
set -eu
. "$(dirname "$0")/common.sh"
"$PY" tests/bench/http_overhead.py --bundle "$BENCH_BUNDLE" --baseline-src "$BEFORE_SRC" --rounds 3
