#!/usr/bin/env bash
# Set up (if needed) and translate the bundled Mandarin clip live in the terminal.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
exec .venv/bin/hudtranslate demo "$@"
