#!/usr/bin/env bash
# Quick start: create .venv if missing, install infer0, run the server on http://127.0.0.1:8080.
# State lives in ./infer0-data (override with --data-dir or INFER0_DATA_DIR). Extra flags pass through.
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
stamp=.venv/.infer0-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet -e .
  touch "$stamp"
fi
exec .venv/bin/infer0 serve "$@"
