"""POST /v1/chat/completions and GET /v1/models: thin handlers over the gateway pipeline.

Per call: check the bearer token (cached; any revocation clears the cache within 0.25 s), load
the user's provider target (cached briefly, key decrypted in memory only), reserve against
the grant's limits (skipped for grants known to have none; api/limit_answers.py for the 402 /
429 / 503 answers), run the pipeline, answer or stream with the x-ratelimit-* headers, settle
the reservation with the real usage (also when the client hangs up or the provider fails),
and hand a usage record to the background recorder.
"""

from __future__ import annotations

import functools
import logging
import time

import aiohttp
from aiohttp import web

from .. import keys
from ..gateway import pipeline
from ..gateway.params import parse_body
from ..gateway.providers.base import GatewayError, Route, gateway_error
from ..oauth.bearer import authenticate
from ..services.limits import UNLIMITED, LimitGate, Refusal, Reservation
from ..services.usage_log import UsageRecord
from .limit_answers import limits_unavailable_error, refusal_error, streamed_text_chars
from ..http_common.request_id import REQUEST_ID
from ..http_common.security_headers import add_headers

JSON = "application/json"
log = logging.getLogger("infer0.limits")


@functools.lru_cache(maxsize=8)  # one setting per server: built once, not per call
def _timeout(seconds: float) -> aiohttp.ClientTimeout:
    """Connect within 10 s; then at most `seconds` between two reads from the provider."""
    return aiohttp.ClientTimeout(total=None, sock_connect=min(10.0, seconds), sock_read=seconds)


def error_response(err: GatewayError) -> web.Response:
    return web.Response(body=err.to_json(), status=err.status, content_type=JSON, headers=err.headers)


def _not_configured(request: web.Request) -> GatewayError:
    issuer = request.app[keys.SETTINGS].issuer
    return gateway_error(
        "provider_not_configured",
        "The user removed the provider connection this app was authorized to use. Ask them to choose "
        f"one again at {issuer}/connections (or authorize the app again).")


async def _target_for(request: web.Request, ctx):
    if not ctx.provider_id:
        raise _not_configured(request)
    target = await request.app[keys.TARGETS].get(ctx.provider_id, ctx.model or "")
    if target is None:
        raise _not_configured(request)
    return target


def _models_open_to_app(ctx, target) -> list[str]:
    """The grant's model, plus the connection's others when the user let the app choose."""
    model = target.route.model
    models = [model]
    if ctx.allow_model_choice:
        models += [m for m in target.models if m != model]
    return models


async def _route_for(request: web.Request, ctx, requested_model=None) -> Route:
    target = await _target_for(request, ctx)
    return target.route_for(requested_model, allow_model_choice=ctx.allow_model_choice)


def _answer_headers(route: Route, model: str, extra: dict[str, str]) -> dict[str, str]:
    headers = {"x-infer0-provider": route.kind, "x-infer0-model": model, "Cache-Control": "no-store"}
    headers.update(extra)
    return headers


async def _reserve(request: web.Request, gate: LimitGate, ctx, route: Route, body: dict, size: int) -> Reservation:
    """The grant's limits: a reservation, or the 402/429 (refused) or 503 (database) answer raised."""
    try:
        outcome = await gate.reserve(ctx.grant_id, ctx.provider_id, route.kind, route.model, body, size)
    except Exception:  # fail closed: a cap the user set is never skipped
        log.warning("could not check limits of grant %s", ctx.grant_id, exc_info=True)
        raise limits_unavailable_error() from None
    if isinstance(outcome, Refusal):
        raise refusal_error(outcome, request.app[keys.SETTINGS].issuer)
    return outcome


def _settle(gate: LimitGate, res: Reservation, usage, streamed_chars: int) -> None:
    if usage is not None:
        gate.settle(res, usage.prompt_tokens, usage.completion_tokens, usage.cached_tokens)
    else:  # no usage reported: the prompt as estimated, the output by what was sent
        gate.settle(res, None, None, streamed_chars=streamed_chars)


async def chat_completions(request: web.Request) -> web.StreamResponse:
    ctx = await authenticate(request)  # raises the 401 answer itself
    started = time.perf_counter()
    app = request.app
    recorder = app[keys.USAGE]
    gate = app[keys.LIMITS]
    res = UNLIMITED  # settled from the start: settling it is a no-op
    rec = UsageRecord(user_id=ctx.user_id, app_id=ctx.app_id, grant_id=ctx.grant_id,
                      provider_kind=ctx.provider_kind or "", model=ctx.model or "", status=200,
                      latency_ms=0.0, streamed=False)
    try:
        raw = await request.read()
        body = parse_body(raw)
        route = await _route_for(request, ctx, body.get("model"))
        rec.provider_kind, rec.model = route.kind, route.model
        if not gate.unlimited(ctx.grant_id, ctx.provider_id):
            res = await _reserve(request, gate, ctx, route, body, len(raw))
        http = app[keys.HTTP]
        timeout = app[keys.SETTINGS].upstream_timeout
        if body.get("stream") is True:
            rec.streamed = True
            return await _stream(request, http, route, body, rec, timeout, res)
        result = await pipeline.complete(http, route, body, timeout=_timeout(timeout))
        if not res.settled:
            _settle(gate, res, result.usage, len(result.body))
    except GatewayError as err:
        rec.status = err.status
        gate.settle(res, 0, 0)  # refused or failed before an answer: only the request counts
        return error_response(err)
    finally:
        gate.settle(res)  # still open (cancelled mid-call): the prompt as estimated
        rec.latency_ms = (time.perf_counter() - started) * 1000
        if not rec.streamed or rec.status != 200:
            recorder.record(rec)
    _count(rec, result.usage)
    rec.model = result.model
    headers = _answer_headers(route, result.model, result.headers)
    if res.seen:
        headers.update(res.headers())
    return web.Response(body=result.body, status=result.status, content_type=JSON, headers=headers)


def _count(rec: UsageRecord, usage) -> None:
    if usage is not None:
        rec.prompt_tokens, rec.completion_tokens = usage.prompt_tokens, usage.completion_tokens
        rec.cached_tokens = usage.cached_tokens


async def _stream(request, http, route, body, rec: UsageRecord, timeout: float, res: Reservation) -> web.StreamResponse:
    result = await pipeline.stream(http, route, body, timeout=_timeout(timeout))
    headers = _answer_headers(route, route.model, result.headers)
    if res.seen:
        headers.update(res.headers())
    response = web.StreamResponse(status=200, headers=headers)
    response.content_type = "text/event-stream"
    response.headers["X-Accel-Buffering"] = "no"  # nginx: do not buffer the stream
    add_headers(response.headers, request.app[keys.V1_HEADERS])  # prepared here, so not by the front middleware
    response.headers[REQUEST_ID] = request.get(keys.REQUEST_ID, "")
    started = time.perf_counter()
    limited = not res.settled
    chars = 0  # generated text sent so far, for a stream that ends without usage (limited grants only)
    try:
        async with result:
            await response.prepare(request)
            if limited:
                async for frame in result:
                    await response.write(frame)
                    chars += streamed_text_chars(frame)
            else:
                async for frame in result:
                    await response.write(frame)
            await response.write_eof()
        if result.error is not None:
            rec.status = result.error.status
    except (ConnectionResetError, ConnectionError):
        rec.status = 499  # the client went away; leaving `async with` closed the upstream
    finally:
        rec.model = result.model
        _count(rec, result.usage)
        if limited:
            _settle(request.app[keys.LIMITS], res, result.usage, chars)
        rec.latency_ms += (time.perf_counter() - started) * 1000
        request.app[keys.USAGE].record(rec)
    return response


async def list_models(request: web.Request) -> web.Response:
    ctx = await authenticate(request)
    try:
        target = await _target_for(request, ctx)
    except GatewayError as err:
        return error_response(err)
    created = int(time.time())
    route = target.route
    data = [{"id": m, "object": "model", "created": created, "owned_by": route.kind}
            for m in _models_open_to_app(ctx, target)]
    return web.json_response({"object": "list", "data": data},
                             headers={"x-infer0-provider": route.kind, "x-infer0-model": route.model})
