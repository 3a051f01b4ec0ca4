"""Drops the server's in-memory token and target caches when the database says they may be stale.

The caches can then live long (DESIGN §5: the hot path stays off SQLite) while a revocation
written by any process still bites within POLL seconds plus one request. On PostgreSQL a LISTEN
connection (cache_listen.py) also runs the check as soon as another instance's change commits.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass

from aiohttp import web

from .. import keys
from ..services.cache_epoch import read_epoch
from .periodic import every

POLL = 0.25
log = logging.getLogger("infer0.cache")


@dataclass
class Watched:
    """The last cache epoch whose changes this server's caches reflect (tests wait on it)."""
    epoch: int


WATCHED: web.AppKey[Watched] = web.AppKey("cache_watched", Watched)


def clear_caches(app: web.Application) -> None:
    app[keys.TOKEN_CACHE].clear()
    app[keys.TARGETS].clear()
    app[keys.LIMITS].clear()  # a grant's or connection's limits or prices may have changed


async def cache_watch_ctx(app: web.Application):
    """cleanup_ctx: every POLL seconds, clears the caches if the cache epoch moved."""
    store = app[keys.STORE]
    watched = app[WATCHED] = Watched(await store.run(read_epoch))

    async def check() -> None:
        try:
            epoch = await store.run(read_epoch)
        except Exception:  # the database is busy or gone: be safe, forget everything
            log.warning("could not read the cache epoch; clearing caches", exc_info=True)
            clear_caches(app)
            return
        if epoch != watched.epoch:
            clear_caches(app)
            watched.epoch = epoch

    listener = None
    if store.is_postgres:  # NOTIFY wakes the check at once; the poll stays as the fallback
        from .cache_listen import listen
        listener = asyncio.create_task(listen(store.db, check), name="infer0-cache-listen")
    try:
        async with every(POLL, check, what="cache watch", logger=log):
            yield
    finally:
        if listener is not None:
            listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await listener
