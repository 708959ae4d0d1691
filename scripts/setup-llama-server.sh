#!/usr/bin/env bash
# Builds llama.cpp's own `llama-server` (the OpenAI-compatible server the BFCL and multi-step comparisons
# drive) from the llama.cpp sources vendored in the llama-cpp-python 0.3.36 sdist on PyPI: the same
# llama.cpp the project's other comparisons use. Tooling only, never used by loza at run time.
# Output: $LOZA_LLAMA_DIR/bin/llama-server (default ~/.cache/loza/llama.cpp). Takes ~10 min on 2 cores.
set -euo pipefail
DIR="${LOZA_LLAMA_DIR:-$HOME/.cache/loza/llama.cpp}"
VERSION=0.3.36
if [ -x "$DIR/bin/llama-server" ]; then echo "$DIR/bin/llama-server"; exit 0; fi
mkdir -p "$DIR/src"
cd "$DIR/src"
if [ ! -f "llama_cpp_python-$VERSION.tar.gz" ]; then
    pip download -q --no-deps --no-binary llama-cpp-python "llama-cpp-python==$VERSION" -d .
fi
[ -d "llama_cpp_python-$VERSION" ] || tar xzf "llama_cpp_python-$VERSION.tar.gz"
command -v cmake >/dev/null || pip install -q cmake
SRC="llama_cpp_python-$VERSION/vendor/llama.cpp"
cmake -S "$SRC" -B build -DCMAKE_BUILD_TYPE=Release -DLLAMA_CURL=OFF -DLLAMA_BUILD_TESTS=OFF \
    -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_SERVER=ON -DGGML_NATIVE=ON -DBUILD_SHARED_LIBS=OFF >/dev/null
cmake --build build --target llama-server -j "$(nproc)" >/dev/null
mkdir -p "$DIR/bin"
cp build/bin/llama-server "$DIR/bin/"
echo "$DIR/bin/llama-server"
