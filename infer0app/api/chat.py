"""POST /v1/chat/completions and GET /v1/models: thin handlers over the gateway pipeline.

Per call: check the bearer token (cached; any revocation clears the cache within 0.25 s), load
the user's provider target (cached briefly, key decrypted in memory only), reserve against
the grant's limits (skipped for grants known to have none; api/limit_answers.py for the 402 /
429 / 503 answers), run the pipeline, answer or stream with the x-ratelimit-* headers, settle
the reservation with the real usage (also when the client hangs up or the provider fails),
and hand a usage record to the background recorder.
"""

from __future__ import annotations

import time

from aiohttp import web

from .. import keys
from ..gateway import pipeline
from ..gateway.header_text import header_text
from ..gateway.params import parse_body
from ..gateway.providers.base import GatewayError
from ..gateway.providers.kinds import get_kind
from ..oauth.bearer import authenticate, authenticate_now, load_context
from ..services.limits import UNLIMITED
from ..services.usage_log import UsageRecord
from .call_steps import (JSON, answer_headers, count, error_response, load_route, reserve, reserve_now, route_now,
                         settle, stream_response)
from .call_steps import target_for as _target_for
from .call_steps import upstream_timeout as _timeout
from .limit_answers import streamed_text_chars
from .limit_failover import FailoverLimits


def _models_open_to_app(ctx, target) -> list[str]:
    """The grant's model, plus the connection's others when the user let the app choose, plus
    its embedding model (/v1/embeddings) when the connection has embeddings."""
    model = target.route.model
    models = [model]
    if ctx.allow_model_choice:
        models += [m for m in target.models if m != model]
    kind = get_kind(target.route.kind)
    if kind is not None and kind.embeddings and ctx.embedding_model and ctx.embedding_model not in models:
        models.append(ctx.embedding_model)
    return models


async def chat_completions(request: web.Request) -> web.StreamResponse:
    ctx = authenticate_now(request) or await load_context(request)  # raises the 401 answer itself
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
        model = body.get("model")  # a non-string is refused by the pipeline's validation
        model = model if isinstance(model, str) else None
        route = route_now(request, ctx, model) or await load_route(request, ctx, model)
        rec.provider_kind, rec.model = route.kind, route.model
        if not gate.unlimited(ctx.grant_id, ctx.provider_id):
            size = len(raw)  # no await when this process's leases cover the call (nearly always)
            res = reserve_now(request, gate, ctx, route, body, size) or await reserve(request, gate, ctx, route, body, size)
        http = app[keys.HTTP]
        timeout = app[keys.SETTINGS].upstream_timeout
        if body.get("stream") is True:
            rec.streamed = True
            return await _stream(request, http, route, body, rec, timeout,
                                 FailoverLimits(request, ctx, body, len(raw), res))
        try:  # the first attempt inline, not through first_answer: one coroutine layer fewer
            result = await pipeline.complete(http, route, body, timeout=_timeout(timeout, True), raw=raw)
        except GatewayError as err:
            failover = FailoverLimits(request, ctx, body, len(raw), res)  # the limits follow the call
            route, result = await failover.after_failure(
                route, err, lambda r: pipeline.complete(http, r, body, timeout=_timeout(timeout, True), raw=raw))
            res = failover.res
            rec.provider_kind = route.kind  # the connection that answered (failover)
        if not res.settled:
            settle(gate, res, result.usage, len(result.body))
    except GatewayError as err:
        rec.fail(err.status, err.code or err.type)
        gate.settle(res, 0, 0)  # refused or failed before an answer: only the request counts
        return error_response(err)
    finally:
        gate.settle(res)  # still open (cancelled mid-call): the prompt as estimated
        rec.latency_ms = (time.perf_counter() - started) * 1000
        if not rec.streamed or rec.status != 200:
            recorder.record(rec)
    count(rec, result.usage)
    rec.model = result.model
    headers = answer_headers(route, result.model, result.headers)
    if res.seen:
        headers.update(res.headers())
    return web.Response(body=result.body, status=result.status, content_type=JSON, headers=headers)


async def _stream(request, http, route, body, rec: UsageRecord, timeout: float,
                  failover: FailoverLimits) -> web.StreamResponse:
    route, result = await failover.first_answer(route,
                                                lambda r: pipeline.stream(http, r, body, timeout=_timeout(timeout)))
    res = failover.res
    rec.provider_kind = route.kind
    started = time.perf_counter()
    limited = not res.settled
    chars = 0  # generated text sent so far, for a stream that ends without usage (limited grants only)
    try:  # from here on, whatever fails, the `finally` settles the reservation the answer holds
        async with result:
            headers = answer_headers(route, route.model, result.headers)
            if res.seen:
                headers.update(res.headers())
            response = stream_response(request, headers)
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
            rec.fail(result.error.status, result.error.code or result.error.type)
    except (ConnectionResetError, ConnectionError):
        rec.fail(499, "client_closed")  # the client went away; leaving `async with` closed the upstream
    finally:
        rec.model = result.model
        count(rec, result.usage)
        if limited:
            settle(request.app[keys.LIMITS], res, result.usage, chars)
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
                             headers={"x-infer0-provider": route.kind, "x-infer0-model": header_text(route.model)})
