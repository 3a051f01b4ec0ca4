"""The server's keyring watcher: a periodic task (periodic.py) around services.runtime.KeyringWatcher.

Every TICK seconds it picks up a keyring rewritten by `infer0 kek rotate` (CLI or TUI) and
tells the database which KEKs this server holds, so a rotation knows when it may proceed.
"""

from __future__ import annotations

import contextlib
import logging

from aiohttp import web

from .. import keys
from ..services.runtime import TICK, KeyringWatcher
from .periodic import every

log = logging.getLogger("infer0.runtime")


async def keyring_watch_ctx(app: web.Application):
    store = app[keys.STORE]
    watcher = KeyringWatcher(store, app[keys.VAULT])
    try:
        await store.run(lambda _s: watcher.start())
    except Exception:  # never keep the server from starting; the loop retries
        log.exception("could not record this server in server_instance")
    async def tick() -> None:
        await store.run(lambda _s: watcher.tick())

    async with every(TICK, tick, what="keyring watch tick", logger=log):  # a failure is logged, retried
        yield
    with contextlib.suppress(Exception):
        await store.run(lambda _s: watcher.stop())
