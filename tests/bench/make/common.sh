# Sourced by every script in this folder, not run on its own: the settings they share and the
# steps they share. Each setting comes from the environment (`make bench BEFORE=abc1234` puts it
# there) or takes the default below; paths are relative to the repository root, where the
# scripts run.
#   PY            python of the virtualenv that runs the harnesses (make passes $(VENV)/bin/python;
#                 default .venv/bin/python); khulasa-models is taken from beside it
#   PYTHON        python that makes the extra virtualenvs (default python3)
#   BUNDLE        the default model's bundle name (make passes its BUNDLE; default qwen2.5-coder-1.5b)
#   KHULASA_HOME  where bundles and downloads live (default ~/.cache/khulasa)
#   BENCH_BUNDLE  the bench bundle's folder (default $KHULASA_HOME/bundles/bench-opus)
#   BEFORE        pinned commit: the code before the one-core redesign (default e7022c1;
#                 docs/bench/README.md says what each pinned commit is)
#   BEFORE_SRC    where before-src.sh exports BEFORE (default build/before)
cd "$(dirname "$0")/../../.."
PY=${PY:-.venv/bin/python}
PYTHON=${PYTHON:-python3}
BUNDLE=${BUNDLE:-qwen2.5-coder-1.5b}
BIN=$(dirname "$PY")
MODELS_HOME=${KHULASA_HOME:-$HOME/.cache/khulasa}
BENCH_BUNDLE=${BENCH_BUNDLE:-$MODELS_HOME/bundles/bench-opus}
BEFORE=${BEFORE:-e7022c1}
BEFORE_SRC=${BEFORE_SRC:-build/before}

# export_tree COMMIT DIR: server/ and client/ as they were at COMMIT, into DIR (emptied first),
# so that an older version runs beside this one without a checkout of its own.
export_tree() {
	rm -rf "$2" && mkdir -p "$2"
	git archive "$1" server client | tar -x -C "$2"
}

# The harnesses that draw a plot need matplotlib, which `make install` does not bring.
need_matplotlib() {
	"$PY" -m pip install --quiet "matplotlib>=3.8"
}
