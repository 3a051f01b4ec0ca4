"""A call's limits follow it when it fails over to a fallback connection (issues 13 and 14 §3).

The grant's reservation was made against the grant's caps and its own connection's caps, at
that connection's price. Before a fallback connection is called, `LimitGate.move` settles the
failed attempt (its request stays counted, its token and spend estimate is given back) and
reserves against the grant's token and spend caps at the fallback's price plus the fallback
connection's own connection-wide caps. If they do not fit, that connection is skipped
(`SkipRoute`): the next one is tried, and when none is left the app gets the provider failure
that started the failover, not a 402 for a connection it never asked for.

    limits = FailoverLimits(request, ctx, body, len(raw), res)
    route, result = await limits.after_failure(route, err, lambda r: pipeline.complete(http, r, body))
    res = limits.res   # settle this one

Whatever fails, the reservation the failover made is settled before the error leaves.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Mapping, TypeVar

from aiohttp import web

from .. import keys
from ..gateway import failover
from ..gateway.providers.base import GatewayError, Route
from ..services.limits import Refusal, Reservation
from .limit_answers import limits_unavailable_error
from .routing import fallback_targets

T = TypeVar("T")
log = logging.getLogger("infer0.limits")


class FailoverLimits:
    """The failover of one call with its reservation (`res`, the one to settle afterwards)."""

    __slots__ = ("_request", "_ctx", "_body", "_size", "_embeddings", "_ids", "_keep", "res")

    def __init__(self, request: web.Request, ctx, body: Mapping, size: int, res: Reservation, *,
                 embeddings: bool = False, keep: Callable[[Route], bool] | None = None):
        """`body`: what the limit estimate reads (a Chat Completions body, its max_tokens), `size`
        its request's bytes; `keep`: which fallback routes may be tried (e.g. only those that speak
        the app's API for a pass-through)."""
        self._request, self._ctx, self._body, self._size = request, ctx, body, size
        self._embeddings, self._keep = embeddings, keep
        self._ids: dict[int, int] = {}
        self.res = res

    async def routes(self) -> list[Route]:
        """The fallback routes in the user's order (for gateway/failover.py)."""
        pairs = await fallback_targets(self._request, self._ctx, embeddings=self._embeddings)
        if self._keep is not None:
            pairs = [(pid, route) for pid, route in pairs if self._keep(route)]
        self._ids = {id(route): pid for pid, route in pairs}
        return [route for _, route in pairs]

    def calling(self, attempt: Callable[[Route], Awaitable[T]]) -> Callable[[Route], Awaitable[T]]:
        """`attempt` with the reservation moved first when the route is a fallback's."""
        async def call(route: Route) -> T:
            provider_id = self._ids.get(id(route))
            if provider_id is not None:
                await self._move(route, provider_id)
            return await attempt(route)
        return call

    async def _move(self, route: Route, provider_id: int) -> None:
        gate = self._request.app[keys.LIMITS]
        try:
            moved = await gate.move(self.res, self._ctx.grant_id, provider_id, route.kind, route.model, self._body,
                                    self._size)
        except Exception:  # fail closed: a cap the user set is never skipped
            log.warning("could not check limits of grant %s", self._ctx.grant_id, exc_info=True)
            raise limits_unavailable_error() from None
        if isinstance(moved, Refusal):
            raise failover.SkipRoute(f"connection {provider_id}: {moved.rule.name} does not fit")
        self.res = moved

    async def after_failure(self, primary: Route, failure, attempt: Callable[[Route], Awaitable[T]]) -> tuple[Route, T]:
        """gateway.failover.after_failure with the reservation following the call."""
        return await self._settling(failover.after_failure(primary, failure, self.routes, self.calling(attempt)))

    async def first_answer(self, primary: Route, attempt: Callable[[Route], Awaitable[T]]) -> tuple[Route, T]:
        """The first attempt, then gateway.failover.after_failure, with the reservation following
        the call. The primary attempt is made here directly: a call that succeeds pays for no wrapper."""
        try:
            return primary, await attempt(primary)
        except GatewayError as err:
            return await self.after_failure(primary, err, attempt)

    async def _settling(self, calls: Awaitable[tuple[Route, T]]) -> tuple[Route, T]:
        try:
            return await calls
        except GatewayError:  # every route failed: nothing was produced, only the request counts
            self._request.app[keys.LIMITS].settle(self.res, 0, 0)
            raise
        except BaseException:  # cancelled mid-call: the prompt as estimated (as the handlers do)
            self._request.app[keys.LIMITS].settle(self.res)
            raise
