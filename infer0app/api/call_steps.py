"""The steps every gateway call takes, shared by /v1/chat/completions, /v1/responses and /v1/messages.

Resolve the grant's provider target and route, reserve against the grant's limits (402 / 429
/ 503 raised as `GatewayError`, api/limit_answers.py), settle the reservation with the real
usage, count usage into the usage record, and the headers of an answer (x-infer0-provider,
x-infer0-model, and those of a prepared stream, which the front middleware cannot add).
Plain functions, no classes: chat's hot path calls them as it did when they lived in chat.py.
"""

from __future__ import annotations

import functools
import logging

import aiohttp
from aiohttp import web

from .. import keys
from ..gateway.header_text import header_text
from ..gateway.providers.base import GatewayError, Route, gateway_error
from ..http_common.request_id import REQUEST_ID
from ..http_common.security_headers import add_headers
from ..runtime.target_cache import NOT_CACHED
from ..services.limits import LimitGate, Refusal, Reservation
from ..services.usage_log import UsageRecord
from .limit_answers import limits_unavailable_error, refusal_error

JSON = "application/json"
log = logging.getLogger("infer0.limits")


@functools.lru_cache(maxsize=8)  # one setting per server: built once, not per call
def upstream_timeout(seconds: float, whole_answer: bool = False) -> aiohttp.ClientTimeout:
    """Connect within 10 s; then at most `seconds` between two reads from the provider (a
    stream: also between two complete events, gateway/bounded_read.py). `whole_answer` (a
    non-streaming call): the whole answer within `seconds`, so a provider dripping bytes cannot
    hold the call open for ever; that bound also covers every gap between two reads, so no
    `sock_read` timer is armed then (aiohttp re-arms one per packet: ~15 µs of CPU a call,
    bench/README.md "Trims of 2026-11-30 (third session)")."""
    if whole_answer:
        return aiohttp.ClientTimeout(total=seconds, sock_connect=min(10.0, seconds))
    return aiohttp.ClientTimeout(total=None, sock_connect=min(10.0, seconds), sock_read=seconds)


def error_response(err: GatewayError) -> web.Response:
    """`err` as OpenAI's error object."""
    return web.Response(body=err.to_json(), status=err.status, content_type=JSON, headers=err.headers)


def _not_configured(request: web.Request) -> GatewayError:
    issuer = request.app[keys.SETTINGS].issuer
    return gateway_error(
        "provider_not_configured",
        "The user removed the provider connection this app was authorized to use. Ask them to choose "
        f"one again at {issuer}/connections (or authorize the app again).")


async def target_for(request: web.Request, ctx):
    """The grant's provider target (cached); `provider_not_configured` raised when it is gone."""
    if not ctx.provider_id:
        raise _not_configured(request)
    target = await request.app[keys.TARGETS].get(ctx.provider_id, ctx.model or "")
    if target is None:
        raise _not_configured(request)
    return target


async def route_for(request: web.Request, ctx, requested_model=None) -> Route:
    """Where this call goes: the grant's model, or `requested_model` when the user let the app choose.
    The hot path writes it out (`route_now(...) or await load_route(...)`): no coroutine when the
    target is cached. Either way the cache is looked up once (the metrics count lookups)."""
    return route_now(request, ctx, requested_model) or await load_route(request, ctx, requested_model)


async def load_route(request: web.Request, ctx, requested_model=None) -> Route:
    """`route_for` from the database, after `route_now` found the target not cached."""
    target = await request.app[keys.TARGETS].load(ctx.provider_id, ctx.model or "")
    if target is None:
        raise _not_configured(request)
    return target.route_for(requested_model, allow_model_choice=ctx.allow_model_choice)


def route_now(request: web.Request, ctx, requested_model=None) -> Route | None:
    """`route_for` without an await when the target is cached (nearly every call); raises the
    same `provider_not_configured`; None when it must be loaded: then await `load_route` (not
    `route_for`, which would look the cache up a second time)."""
    if not ctx.provider_id:
        raise _not_configured(request)
    target = request.app[keys.TARGETS].cached(ctx.provider_id, ctx.model or "")
    if target is NOT_CACHED:
        return None
    if target is None:
        raise _not_configured(request)
    return target.route_for(requested_model, allow_model_choice=ctx.allow_model_choice)


def answer_headers(route: Route, model: str, extra: dict[str, str]) -> dict[str, str]:
    """x-infer0-provider / x-infer0-model (made header-safe) and no-store, then `extra`."""
    headers = {"x-infer0-provider": route.kind, "x-infer0-model": header_text(model),
               "Cache-Control": "no-store"}
    headers.update(extra)
    return headers


def stream_response(request: web.Request, headers: dict[str, str]) -> web.StreamResponse:
    """A 200 `text/event-stream` answer with every header an unprepared answer would get from the
    front middleware (security, CORS, request id): it is prepared by the handler, so added here."""
    response = web.StreamResponse(status=200, headers=headers)
    response.content_type = "text/event-stream"
    response.headers["X-Accel-Buffering"] = "no"  # nginx: do not buffer the stream
    add_headers(response.headers, request.app[keys.V1_HEADERS])
    response.headers[REQUEST_ID] = request.get(keys.REQUEST_ID, "")
    return response


async def reserve(request: web.Request, gate: LimitGate, ctx, route: Route, body: dict, size: int) -> Reservation:
    """The grant's limits: a reservation, or the 402/429 (refused) or 503 (database) answer raised.
    `body` is a Chat Completions body (its max_tokens sets the output estimate), `size` in bytes.
    Callers try `reserve_now` first: `reserve_now(...) or await reserve(...)`."""
    try:
        outcome = await gate.reserve(ctx.grant_id, ctx.provider_id, route.kind, route.model, body, size)
    except Exception:  # fail closed: a cap the user set is never skipped
        log.warning("could not check limits of grant %s", ctx.grant_id, exc_info=True)
        raise limits_unavailable_error() from None
    return _granted(request, outcome)


def reserve_now(request: web.Request, gate: LimitGate, ctx, route: Route, body: dict, size: int) -> Reservation | None:
    """`reserve` without an await when the process's leases cover the call (LimitGate.reserve_now);
    None when the database is needed: then await `reserve`. Raises the same answers."""
    try:
        outcome = gate.reserve_now(ctx.grant_id, ctx.provider_id, route.kind, route.model, body, size)
    except Exception:  # fail closed, as `reserve`
        log.warning("could not check limits of grant %s", ctx.grant_id, exc_info=True)
        raise limits_unavailable_error() from None
    return None if outcome is None else _granted(request, outcome)


def _granted(request: web.Request, outcome: Reservation | Refusal) -> Reservation:
    if isinstance(outcome, Refusal):
        raise refusal_error(outcome, request.app[keys.SETTINGS].issuer)
    return outcome


def settle(gate: LimitGate, res: Reservation, usage, streamed_chars: int) -> None:
    """Settle with the provider's usage; without one, the prompt as estimated and the output by
    the characters of generated text sent (4 a token)."""
    if usage is not None:
        gate.settle(res, usage.prompt_tokens, usage.completion_tokens, usage.cached_tokens)
    else:
        gate.settle(res, None, None, streamed_chars=streamed_chars)


def count(rec: UsageRecord, usage) -> None:
    """Copy the provider's token counts (a `Usage`, or None) into the usage record."""
    if usage is not None:
        rec.prompt_tokens, rec.completion_tokens = usage.prompt_tokens, usage.completion_tokens
        rec.cached_tokens = usage.cached_tokens
