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

# The tests' temporary files (their data dirs with real SQLite files, the PostgreSQL cluster,
# Chromium's profiles) go on tmpfs when /dev/shm is one: the suite creates thousands of
# databases, and on a disk each commit's fsync costs milliseconds (about a third of a
# server's start-up in a fresh data dir). Same file system calls, same code; an explicit
# TMPDIR is kept. Traversable by all (0755): the cluster runs as another account. Only with
# 2 GiB free there: a container's default /dev/shm is 64 MB.
if [ -z "${TMPDIR:-}" ] && [ -d /dev/shm ] && [ -w /dev/shm ] \
    && [ "$(stat -f -c %T /dev/shm 2>/dev/null)" = tmpfs ] \
    && [ "$(df -Pk /dev/shm | awk 'NR==2 {print $4}')" -ge 2097152 ]; then
  TMPDIR="$(mktemp -d /dev/shm/infer0-tests.XXXXXX)"
  chmod 0755 "$TMPDIR"
  export TMPDIR
  trap 'rm -rf "$TMPDIR"' EXIT
fi

if [ "${INFER0_TEST_BINARY:-1}" != 0 ]; then
  bash build/binary.sh --if-stale
fi
# The Textual TUI tests run in a process of their own: Pilot drives real apps whose workers and
# timers share the interpreter, and after ~1,200 server tests in the same process a TUI test once
# hung in a clean CI run while the same tests pass on their own. Paths on the command line run as given.
# (No `exec`: the trap above removes the temporary directory when pytest ends.)
# Both runs use pytest-xdist's worker processes, INFER0_TEST_WORKERS of them (2: CI's two cores;
# 0 runs in one process). Most tests keep one core busy at a time (the test process, or the
# server it waits on), so two workers take about half as long. Each worker has its own
# PostgreSQL cluster (a session fixture) and temporary directory, and picks server ports from a
# block of its own (tests/support/processes.free_port).
workers=(-n "${INFER0_TEST_WORKERS:-2}")
for arg in "$@"; do
  if [ -e "${arg%%::*}" ]; then .venv/bin/python -m pytest -q "$@"; exit; fi
done
.venv/bin/python -m pytest -q "${workers[@]}" --ignore=tests/tui "$@"
.venv/bin/python -m pytest -q "${workers[@]}" tests/tui "$@"
