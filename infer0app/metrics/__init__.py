"""Opt-in Prometheus metrics (`--metrics-token`): `GET /metrics` behind its own bearer token.

Off (the default) costs nothing: no middleware, no route, the plain caches. On, the counting is
kept off the chat path where it can be: inference latency, tokens and statuses are read from the
usage writer's batches in the background (runtime/usage_recorder.py), throttle and limit
refusals are integers the refusing code already keeps, and only a per-request counter (one
outer middleware) and a hit/miss count in the two caches run per request. The text is built with
prometheus_client when Prometheus scrapes, from those plain counters (exposition.py).

Counters are per server process: with `--workers` above 1 each scrape reaches one process.
"""

from __future__ import annotations

from .counters import CountingTargetCache, CountingTokenCache, Counts, counting_middleware
from .exposition import setup_metrics

__all__ = ["Counts", "CountingTargetCache", "CountingTokenCache", "counting_middleware", "setup_metrics"]
