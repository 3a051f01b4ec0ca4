"""Background housekeeping for usage: hourly, roll raw usage rows older than --usage-raw-days
into daily rows (services/usage_rollup.py), so the database does not grow with every request."""

from __future__ import annotations

import logging

from .. import keys
from ..services.usage_rollup import roll_up
from .periodic import periodic_ctx

ROLLUP_INTERVAL = 3600.0
log = logging.getLogger("infer0.usage")


def _tick(app):
    async def tick():
        await app[keys.STORE].run(roll_up, app[keys.SETTINGS].usage_raw_days)
    return tick


#: cleanup_ctx: runs services.usage_rollup.roll_up every ROLLUP_INTERVAL seconds while serving.
usage_rollup_ctx = periodic_ctx(ROLLUP_INTERVAL, _tick, what="rolling up old usage rows", logger=log)
