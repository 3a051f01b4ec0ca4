#!/usr/bin/env bash
# Proves pyproject.toml's floors: installs infer0 with every direct dependency (runtime and the
# `test` extra) at the lowest version its floor allows, in a venv of its own (.venv-lowest), and
# runs the unit suite there. A floor set below what the code needs fails here, not on a user's
# machine. Transitive dependencies resolve as usual (only the direct ones are pinned low).
# uv comes from PyPI into a bootstrap venv (.venv-uv). Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-python3}"
if [ ! -x .venv-uv/bin/uv ]; then
  "$PY" -m venv .venv-uv
  .venv-uv/bin/python -m pip install --quiet "uv>=0.5"
fi
UV=.venv-uv/bin/uv
if [ ! -x .venv-lowest/bin/python ]; then
  "$UV" venv --quiet --python "$PY" .venv-lowest
fi
stamp=.venv-lowest/.infer0-lowest-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  # --reinstall: a venv left over from older floors must not keep its newer versions.
  VIRTUAL_ENV=$PWD/.venv-lowest "$UV" pip install --quiet --reinstall \
    --resolution lowest-direct -e ".[test]"
  touch "$stamp"
fi
echo "lowest direct versions:"
VIRTUAL_ENV=$PWD/.venv-lowest "$UV" pip list 2>/dev/null | grep -i -E \
  '^(aiohttp|aiohttp-jinja2|jinja2|peewee|authlib|cryptography|textual|pytest|pytest-asyncio|pytest-aiohttp|aioresponses|openai|httpx|jsonschema|playwright) ' \
  | sed 's/^/  /'
exec .venv-lowest/bin/python -m pytest -q tests/unit "$@"
