#!/usr/bin/env bash
# Installs everything the suite needs (Python deps; Debian's Chromium for the browser tests and
# PostgreSQL for the second backend),
# builds the binary dist/infer0 (or reuses a fresh one) and runs the whole test suite, the
# browser journey against the binary included. Extra arguments go to pytest.
# INFER0_TEST_BINARY=0 skips the up-front build: the browser journey then runs the server from
# source when dist/infer0 is stale (the binary smoke tests still build it themselves).
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
stamp=.venv/.infer0-test-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet -e ".[test]"
  touch "$stamp"
fi

# Browser tests drive Debian's Chromium (Playwright's own browser download does not work here).
if [ ! -x /usr/bin/chromium ]; then
  sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends chromium fonts-liberation >/dev/null
fi

# The integration suite runs on SQLite and on PostgreSQL: the tests start a throwaway cluster
# (tests/support/postgres.py) with Debian's server binaries, /usr/lib/postgresql/*/bin.
# INFER0_TEST_BACKENDS=sqlite runs the SQLite half only (then PostgreSQL is not needed).
if [ "${INFER0_TEST_BACKENDS:-}" != sqlite ] && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends postgresql >/dev/null
fi

if [ "${INFER0_TEST_BINARY:-1}" != 0 ]; then
  bash build/binary.sh --if-stale
fi
# The Textual TUI tests run in a process of their own: Pilot drives real apps whose workers and
# timers share the interpreter, and after ~1,200 server tests in the same process a TUI test once
# hung in a clean CI run while the same tests pass on their own. Paths on the command line run as given.
for arg in "$@"; do
  if [ -e "${arg%%::*}" ]; then exec .venv/bin/python -m pytest -q "$@"; fi
done
.venv/bin/python -m pytest -q --ignore=tests/tui "$@"
exec .venv/bin/python -m pytest -q tests/tui "$@"
