#!/bin/sh
# make gguf-check: evidence that the torch-free GGUF conversion equals the Hugging Face
# Transformers route (tests/crosscheck_gguf.py: token ids, logits at every position, greedy tokens).
# Needs: the default model's download (make model runs first); about 16 GB of memory; installs
# torch 2.13.0, transformers and this project's server into CHECK_VENV, a virtualenv of its own
# made with PYTHON.
# Reads: PYTHON, KHULASA_HOME (common.sh); CHECK_VENV (default .venv-check); GGUF, the file
# compared (default $KHULASA_HOME/downloads/qwen2.5-coder-1.5b/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf).
# Results: docs/eval/gguf-crosscheck.json.
set -eu
. "$(dirname "$0")/common.sh"
CHECK_VENV=${CHECK_VENV:-.venv-check}
GGUF=${GGUF:-$MODELS_HOME/downloads/qwen2.5-coder-1.5b/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf}
test -x "$CHECK_VENV/bin/python" || "$PYTHON" -m venv "$CHECK_VENV"
"$CHECK_VENV/bin/pip" install --quiet torch==2.13.0 "transformers>=4.46" accelerate -e ".[server]"
mkdir -p docs/eval
"$CHECK_VENV/bin/python" tests/crosscheck_gguf.py "$GGUF" docs/eval/gguf-crosscheck.json
