"""Background housekeeping for OAuth: hourly, delete codes and tokens nobody can use any more."""

from __future__ import annotations

import asyncio
import logging

from aiohttp import web

from .. import keys
from ..services.grants import purge_expired

PURGE_INTERVAL = 3600.0
log = logging.getLogger("infer0.oauth")


async def oauth_purge_ctx(app: web.Application):
    """cleanup_ctx: runs services.grants.purge_expired every PURGE_INTERVAL seconds while serving."""

    async def loop():
        while True:
            await asyncio.sleep(PURGE_INTERVAL)
            try:
                await app[keys.STORE].run(purge_expired)
            except Exception:  # keep serving; try again next time
                log.exception("purging expired OAuth codes and tokens failed")

    task = asyncio.create_task(loop())
    yield
    task.cancel()
    try:
        await task
    except asyncio.CancelledError:
        pass
