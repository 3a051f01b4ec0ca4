"""The server's keyring watcher: a cleanup-context task around services.runtime.KeyringWatcher.

Every TICK seconds it picks up a keyring rewritten by `infer0 kek rotate` (CLI or TUI) and
tells the database which KEKs this server holds, so a rotation knows when it may proceed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from aiohttp import web

from .. import keys
from ..services.runtime import TICK, KeyringWatcher

log = logging.getLogger("infer0.runtime")


async def keyring_watch_ctx(app: web.Application):
    store = app[keys.STORE]
    watcher = KeyringWatcher(store, app[keys.VAULT])
    try:
        await store.run(lambda _s: watcher.start())
    except Exception:  # never keep the server from starting; the loop retries
        log.exception("could not record this server in server_instance")
    task = asyncio.create_task(_loop(store, watcher), name="infer0-keyring-watch")
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    with contextlib.suppress(Exception):
        await store.run(lambda _s: watcher.stop())


async def _loop(store, watcher: KeyringWatcher) -> None:
    while True:
        await asyncio.sleep(TICK)
        try:
            await store.run(lambda _s: watcher.tick())
        except asyncio.CancelledError:
            raise
        except Exception:  # a locked database or a full disk: report, keep watching
            log.exception("keyring watch tick failed")
