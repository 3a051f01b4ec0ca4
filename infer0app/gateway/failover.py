"""Failover chosen by the user (issue 14 §3): try a grant's connection, then its fallbacks in order.

    route, result = await after_failure(primary, err, load_fallbacks, lambda r: pipeline.complete(http, r, body))

(the caller makes the first attempt itself; api/limit_failover.FailoverLimits wraps both so the
grant's reservation follows the call).

A call moves on only when it failed before any byte reached the app and the failure is the
provider's, not the request's: it could not be reached or timed out, answered 429, or failed
with a 5xx (or ended its stream before the first chunk). A 400, a rejected key (424) or a
refused parameter stops at once: the next provider would refuse the same request, or the user
must act. Fallback routes are loaded only after the first failure, so a call that succeeds on
the grant's own connection pays nothing for them.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from infer0app.gateway.providers.base import GatewayError, Route

log = logging.getLogger("infer0.failover")
T = TypeVar("T")

#: The /v1 error codes (errors/api_errors.py) after which the next connection is tried.
MOVE_ON = frozenset({"provider_unreachable", "provider_timeout", "provider_rate_limited", "provider_unavailable",
                     "provider_stream_ended"})


class SkipRoute(Exception):
    """Raised by a call before it reached its route's provider when that route cannot take it
    (the fallback connection's own caps are used up, api/limit_failover.py): the next route is
    tried, and the last provider failure stands if none is left."""


async def after_failure(primary: Route, failure: GatewayError, fallbacks: Callable[[], Awaitable[list[Route]]],
                        call: Callable[[Route], Awaitable[T]]) -> tuple[Route, T]:
    """(the route that answered, its result) once `primary` has failed with `failure`. Raises the
    last GatewayError when every route failed, or the first one not worth moving on from."""
    if failure.code not in MOVE_ON:
        raise failure
    for route in await fallbacks():
        log.info("%s failed (%s); trying the next connection (%s)", primary.provider_label, failure.code,
                 route.provider_label)
        try:
            return route, await call(route)
        except SkipRoute:
            continue
        except GatewayError as err:
            if err.code not in MOVE_ON:
                raise
            failure = err
    raise failure
