#!/bin/sh
# make bench-llm: the default LLM path against llama.cpp on the same GGUF (same prompts, output
# bounds and threads; greedy), and against this code as it was before its scheduling work
# (LLM_BEFORE): one article's digest latency, 4 and 16 articles at once over DigestMany with the
# engine's decoding steps, 16 through khulasa-bulk, peak memory, the ISA and GEMM backend
# CTranslate2 picked. About 35 minutes on 2 cores.
# Needs: the default model (make model runs first); installs matplotlib into PY's virtualenv.
# Both llama.cpp peers (llama-server with LLM_SLOTS slots, and llama-cpp-python's one-at-a-time
# loop) come from one build of the source llama-cpp-python 0.3.36 vendors (build_llama.sh, into
# LLAMA_DIR; minutes the first time, skipped after). LLM_BEFORE's code converts the bundle it
# runs on itself when LLM_BEFORE_BUNDLE holds none.
# Reads: PY, PYTHON, BUNDLE, KHULASA_HOME (common.sh), and
#   LLM_BUNDLE         this code's bundle (default $KHULASA_HOME/bundles/$BUNDLE)
#   LLM_BEFORE         pinned commit: this code before its scheduling work (default 50be13e)
#   LLM_BEFORE_SRC     where it is exported (default build/bench-llm-before)
#   LLM_BEFORE_BUNDLE  the bundle it runs on (default LLM_BUNDLE: it builds the same bundle)
#   LLAMA_DIR          the llama.cpp build and its virtualenv (default build/llama)
#   LLM_SLOTS          llama-server's parallel slots (default 16)
#   LLAMA_CMAKE_ARGS   cmake arguments of the llama.cpp build (default -DGGML_NATIVE=ON: native
#                      kernels, AVX-512 with VNNI where the CPU has them; ran without faults on an
#                      AMD EPYC. On an AVX-512 Xeon the native build died in libggml-cpu (general
#                      protection fault) on its first token: there, use -DGGML_NATIVE=OFF
#                      -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON)
# Results: docs/bench/llm.json, docs/bench/llm-table.md and docs/bench/llm.png.
set -eu
. "$(dirname "$0")/common.sh"
LLM_BUNDLE=${LLM_BUNDLE:-$MODELS_HOME/bundles/$BUNDLE}
LLM_BEFORE=${LLM_BEFORE:-50be13e}
LLM_BEFORE_SRC=${LLM_BEFORE_SRC:-build/bench-llm-before}
LLM_BEFORE_BUNDLE=${LLM_BEFORE_BUNDLE:-$LLM_BUNDLE}
LLAMA_DIR=${LLAMA_DIR:-build/llama}
LLM_SLOTS=${LLM_SLOTS:-16}
LLAMA_CMAKE_ARGS=${LLAMA_CMAKE_ARGS--DGGML_NATIVE=ON}  # set but empty: llama.cpp's own defaults
need_matplotlib
# shellcheck disable=SC2086 # the cmake arguments are words
PYTHON=$PYTHON sh tests/bench/build_llama.sh "$LLAMA_DIR" $LLAMA_CMAKE_ARGS
export_tree "$LLM_BEFORE" "$LLM_BEFORE_SRC"
test -f "$LLM_BEFORE_BUNDLE/khulasa.json" || PYTHONPATH=$LLM_BEFORE_SRC/server:$LLM_BEFORE_SRC/client \
	"$PY" -m khulasa_server.tools.models_cli build "$BUNDLE" --out "$LLM_BEFORE_BUNDLE"
"$PY" tests/bench/llm.py --bundle "$LLM_BUNDLE" --baseline-src "$LLM_BEFORE_SRC" \
	--baseline-bundle "$LLM_BEFORE_BUNDLE" --llama-python "$LLAMA_DIR/venv/bin/python" --many 4,16 --bulk \
	--llama-server "$LLAMA_DIR/bin/llama-server" --slots "$LLM_SLOTS"
