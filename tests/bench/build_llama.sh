#!/bin/sh
# llama.cpp for bench-llm's two peers, from one build of the source that llama-cpp-python
# 0.3.36 vendors in its sdist (no Debian or PyPI binary of llama-server exists):
#   DIR/bin/llama-server          llama.cpp's own server (parallel slots, continuous batching)
#   DIR/venv/bin/python           a virtualenv whose llama_cpp package loads the same libllama
#   DIR/build-flags.txt           the cmake arguments both were built with
# Usage: build_llama.sh DIR [CMAKE ARGS...]; steps already done are skipped (minutes on 2 cores).
set -eu
DIR=$1
shift
VERSION=0.3.36
PYTHON=${PYTHON:-python3}
mkdir -p "$DIR"
DIR=$(cd "$DIR" && pwd)
SRC=$DIR/llama_cpp_python-$VERSION
if [ ! -x "$DIR/venv/bin/python" ]; then
	"$PYTHON" -m venv "$DIR/venv"
	"$DIR/venv/bin/pip" install --quiet "numpy>=1.20" "typing-extensions>=4.5" "diskcache>=5.6.1" "jinja2>=2.11.3"
fi
if [ ! -d "$SRC" ]; then
	"$DIR/venv/bin/pip" download --quiet --no-deps --no-binary :all: "llama-cpp-python==$VERSION" -d "$DIR"
	tar -xzf "$DIR/llama_cpp_python-$VERSION.tar.gz" -C "$DIR"
fi
FLAGS="-DCMAKE_BUILD_TYPE=Release -DLLAMA_CURL=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_SERVER=ON -DBUILD_SHARED_LIBS=ON $*"
LLAMA=$SRC/vendor/llama.cpp
# shellcheck disable=SC2086 # the flags are words
cmake -S "$LLAMA" -B "$LLAMA/build" $FLAGS >/dev/null
cmake --build "$LLAMA/build" --target llama-server llama -j"$(nproc)"
mkdir -p "$DIR/bin"
cp "$LLAMA/build/bin/llama-server" "$DIR/bin/"
echo "$FLAGS" >"$DIR/build-flags.txt"
# The Python package of the same sdist, its libraries the ones built above.
SITE=$("$DIR/venv/bin/python" -c "import sysconfig; print(sysconfig.get_paths()['purelib'])")
rm -rf "$SITE/llama_cpp"
cp -r "$SRC/llama_cpp" "$SITE/llama_cpp"
mkdir -p "$SITE/llama_cpp/lib"
cp -P "$LLAMA"/build/bin/lib*.so* "$SITE/llama_cpp/lib/"
"$DIR/venv/bin/python" -c "import llama_cpp; print('llama_cpp', llama_cpp.__version__)"
