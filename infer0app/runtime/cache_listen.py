"""PostgreSQL: wake the cache watcher as soon as any instance changes what the caches hold.

The cache-epoch triggers `NOTIFY infer0_cache_epoch` in the writing transaction (store/postgres.py),
so the notification arrives when that transaction commits. `listen(...)` keeps one connection of
its own LISTENing (outside the store's pool: a LISTENing session must stay open and idle) and calls
`on_change()` for each notification, so a revocation on another instance bites here about one
round trip after its commit instead of after the next poll. The cache watcher's poll (every
POLL seconds, cache_watch.py) stays as the fallback: while the listening connection is down, or a
notification is lost, the promise ("within a second") still holds.

If the connection drops (database restart, an administrator's pg_terminate_backend, a network
cut), it reconnects after RETRY_FIRST seconds, doubling up to RETRY_MAX, and calls `on_change()`
once after each (re)connection, for changes made while it was away.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Awaitable, Callable

from ..store.postgres import NOTIFY_CHANNEL, connect_listener

RETRY_FIRST = 0.5
RETRY_MAX = 30.0
log = logging.getLogger("infer0.cache")


async def listen(db, on_change: Callable[[], Awaitable[None]]) -> None:
    """Runs until cancelled: LISTEN on `db`'s database, `await on_change()` on each notification."""
    delay = RETRY_FIRST
    while True:
        try:
            conn = await connect_listener(db)
            try:
                await conn.execute(f"LISTEN {NOTIFY_CHANNEL}")
                if delay > RETRY_FIRST:
                    log.info("cache notifications: listening again")
                delay = RETRY_FIRST
                await on_change()  # what changed while no one listened
                async for _notify in conn.notifies():
                    await on_change()
            finally:
                await conn.close()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # connection lost or refused: the poll covers for it meanwhile
            log.warning("cache notifications: connection lost (%s); polling until it is back",
                        exc.__class__.__name__)
        await asyncio.sleep(delay)
        delay = min(delay * 2, RETRY_MAX)
