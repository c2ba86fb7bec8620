#!/bin/sh
# make bench: speed on the bench bundle, greedy and beam 4, at rising client counts: khulasa over
# gRPC against raw CTranslate2 (the ceiling), Hugging Face transformers, argos-translate, and a
# server of BEFORE beside this one (one round per level; bench-before repeats it).
# Needs: bench-bundle and before-src (make runs them first); installs matplotlib into PY's
# virtualenv, and argos-translate 1.11.0 with torch 2.13.0 into ARGOS_VENV (a virtualenv of its
# own, made with PYTHON: argos pins stanza and pulls spacy).
# Reads: PY, PYTHON, BENCH_BUNDLE, BEFORE, BEFORE_SRC (common.sh); ARGOS_VENV (default .venv-argos).
# Results: docs/bench/results.json and docs/bench/throughput.png.
set -eu
. "$(dirname "$0")/common.sh"
ARGOS_VENV=${ARGOS_VENV:-.venv-argos}
need_matplotlib
test -x "$ARGOS_VENV/bin/python" || "$PYTHON" -m venv "$ARGOS_VENV"
"$ARGOS_VENV/bin/pip" install --quiet argostranslate==1.11.0 torch==2.13.0
"$PY" tests/bench/run.py --bundle "$BENCH_BUNDLE" --argos-python "$ARGOS_VENV/bin/python" \
	--baseline-src "$BEFORE_SRC" --baseline-label "$BEFORE"
