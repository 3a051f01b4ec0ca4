"""Background housekeeping for the throttles: every few minutes, delete failures past their
window (and trust past its term) from the shared throttle tables (services/throttle.py, m0018).
Every instance runs it; deleting what another already deleted is harmless."""

from __future__ import annotations

import logging

from aiohttp import web

from .. import keys
from .periodic import periodic_ctx

PURGE_INTERVAL = 600.0
log = logging.getLogger("infer0.throttle")


def throttles(app: web.Application) -> list:
    """Every throttle the server keeps."""
    return [app[keys.THROTTLE], app[keys.SIGNUP_THROTTLE], app[keys.REGISTRATION_THROTTLE],
            app[keys.DEVICE_THROTTLE], app[keys.OAUTH_SERVER].throttle]


def _purge_all(store, kept: list) -> int:
    return sum(t.purge(store) for t in kept)


def _tick(app: web.Application):
    async def tick() -> int:
        return await app[keys.STORE].run(_purge_all, throttles(app))
    return tick


#: cleanup_ctx: prunes every throttle's expired rows every PURGE_INTERVAL seconds while serving.
throttle_purge_ctx = periodic_ctx(PURGE_INTERVAL, _tick, what="purging expired throttle counts", logger=log)
