#!/usr/bin/env bash
# Runs the benchmark suite (bench/README.md). Arguments go to `python -m bench`, e.g.
#   bench/run.sh            full run, writes bench/results.json (a few minutes)
#   bench/run.sh --quick    smoke run in under a minute (CI), writes bench/results-quick.json
#   bench/run.sh --postgres [--quick]  infer0 on PostgreSQL, one and two instances (bench/postgres_bench.py)
# Throughput needs wrk (Debian: apt-get install wrk); without it a Python load generator
# stands in and the run is marked client-bound. Everything listens on 127.0.0.1 only.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x .venv/bin/python ]; then
  echo "bench: no .venv; run build/test.sh (or build/serve.sh) first" >&2
  exit 2
fi
if ! command -v wrk >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  # Best effort, bounded: a missing wrk only makes the figures client-bound, never fails the run.
  timeout 60 env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends wrk \
    >/dev/null 2>&1 || echo "bench: wrk not installed; using the Python load generator" >&2
fi
if [ "${1:-}" = "--postgres" ]; then
  shift
  exec .venv/bin/python -m bench.postgres_bench "$@"
fi
exec .venv/bin/python -m bench "$@"
