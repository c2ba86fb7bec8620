#!/bin/sh
# make bench-bulk: khulasa-bulk on Ray (1 and 2 replicas) against the gRPC server driven by
# `khulasa digest DIR --concurrency N`, on the same articles, and the CPU share of Ray itself.
# Needs: bench-bundle (make runs it first); installs matplotlib into PY's virtualenv.
# Reads: PY, BENCH_BUNDLE (common.sh); BULK_ARTICLES, the distinct articles digested (default 16).
# Results: docs/bench/bulk.json and docs/bench/bulk.png.
set -eu
. "$(dirname "$0")/common.sh"
BULK_ARTICLES=${BULK_ARTICLES:-16}
need_matplotlib
"$PY" tests/bench/bulk.py --bundle "$BENCH_BUNDLE" --articles "$BULK_ARTICLES"
