"""Request ids: the front middleware (front_middleware.py) gives every request one, logs it,
and sends it back in the X-Request-Id header; error pages and error logs quote it."""

from __future__ import annotations

import itertools
import secrets

REQUEST_ID = "X-Request-Id"  # the response header that carries the id

# A random per-process prefix and a counter (unique in the logs, no syscall per request).
_RID_PREFIX = secrets.token_hex(4)
_rid_counter = itertools.count(1)


def next_request_id() -> str:
    """This process's next request id: 16 lowercase hex digits (8 of prefix, 8 of counter)."""
    return f"{_RID_PREFIX}{next(_rid_counter) & 0xFFFFFFFF:08x}"
