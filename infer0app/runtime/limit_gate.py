"""The server's limit gate (services/limits.py) as a cleanup context: built with the app, its
leases flushed in the background, released at shutdown, old counters pruned.

- every FLUSH_INTERVAL: `gate.flush()` reports settled use to the shared counters, renews
  live leases and gives back idle budget (what keeps `--workers N` and the CLI in agreement);
- every PRUNE_INTERVAL: counters of windows that ended long ago are deleted
  (services.limit_ledger.prune: they only enforce the current windows);
- at shutdown: `gate.close()`: the last report, every lease given back. This context is
  registered after the store's, so it runs before the store closes.

runtime/cache_watch.py calls `gate.clear()` when the cache epoch moves (a user changed a
grant's or a connection's limits or prices, in any process).
"""

from __future__ import annotations

import logging
import time

from aiohttp import web

from .. import keys
from ..services import limit_ledger
from ..services.limits import FLUSH_INTERVAL
from .periodic import every

PRUNE_INTERVAL = 3600.0
log = logging.getLogger("infer0.limits")


async def limit_gate_ctx(app: web.Application):
    gate = app[keys.LIMITS]
    store = app[keys.STORE]

    async def prune() -> None:
        removed = await store.run_grouped(limit_ledger.prune, time.time())
        if removed:
            log.info("pruned %d old limit counters", removed)

    async with every(FLUSH_INTERVAL, gate.flush, what="limit flush", logger=log):
        async with every(PRUNE_INTERVAL, prune, what="pruning old limit counters", logger=log):
            yield
    try:
        await gate.close()
    except Exception:  # the database is gone: leases expire on their own (LEASE_TTL)
        log.exception("could not give back limit leases at shutdown")
