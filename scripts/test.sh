#!/usr/bin/env bash
# Set up (if needed), then lint, type-check and run the whole test suite, real models included.
set -euo pipefail
cd "$(dirname "$0")/.."
HUDTRANSLATE_EXTRAS=${HUDTRANSLATE_EXTRAS:-test,voice} HUDTRANSLATE_EXTRA_APT="chromium ${HUDTRANSLATE_EXTRA_APT:-}" \
  ./scripts/setup.sh
# the overflow model (serve --overflow-model) has a real-model test of its own
.venv/bin/hudtranslate models fetch qwen2.5-0.5b-q4_0 --no-progress
.venv/bin/ruff check src tests
.venv/bin/mypy
HUDTRANSLATE_REAL_MODELS=1 exec .venv/bin/python -m pytest "$@"
