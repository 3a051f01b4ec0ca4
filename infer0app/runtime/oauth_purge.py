"""Background housekeeping for OAuth: hourly, delete codes and tokens nobody can use any more."""

from __future__ import annotations

import logging
from functools import partial

from .. import keys
from ..services.grants import purge_expired
from .periodic import periodic_ctx

PURGE_INTERVAL = 3600.0
log = logging.getLogger("infer0.oauth")


#: cleanup_ctx: runs services.grants.purge_expired every PURGE_INTERVAL seconds while serving
#: (a failure is logged and tried again next time).
oauth_purge_ctx = periodic_ctx(PURGE_INTERVAL, lambda app: partial(app[keys.STORE].run, purge_expired),
                               what="purging expired OAuth codes and tokens", logger=log)
