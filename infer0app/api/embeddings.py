"""POST /v1/embeddings: OpenAI's embeddings API, routed to the grant's connection (issue 14 §3).

Per call, like chat (api/chat.py): check the bearer token, open the grant's connection, take its
embeddings route (the grant's embedding model, else the kind's default; a kind without
embeddings answers 400 `embeddings_not_supported`), reserve against the grant's limits (input
tokens estimated from the body; embeddings produce no output tokens), call the provider and
its fallbacks in the user's order (gateway/failover.py), settle with the input tokens the
provider reported, answer with x-infer0-provider / x-infer0-model naming who answered, and
record usage against the connection that answered.
"""

from __future__ import annotations

import time

from aiohttp import web

from .. import keys
from ..gateway.embeddings_call import embed
from ..gateway.params import parse_body
from ..gateway.providers.base import GatewayError
from ..gateway.providers.embeddings_wire import parse_request
from ..oauth.bearer import authenticate
from ..services.limits import UNLIMITED
from ..services.usage_log import UsageRecord
from .call_steps import (JSON, answer_headers, count, error_response, reserve, reserve_now, settle, target_for,
                         upstream_timeout)
from .limit_failover import FailoverLimits
from .routing import embedding_route

#: What the limit estimator sees of an embeddings call: its body size (the input) and one output
#: token, the estimator's floor (embeddings produce none; settling charges only what was used).
RESERVE_BODY = {"max_tokens": 1}


async def embeddings(request: web.Request) -> web.Response:
    ctx = await authenticate(request)  # raises the 401 answer itself
    started = time.perf_counter()
    app = request.app
    gate = app[keys.LIMITS]
    res = UNLIMITED
    rec = UsageRecord(user_id=ctx.user_id, app_id=ctx.app_id, grant_id=ctx.grant_id,
                      provider_kind=ctx.provider_kind or "", model=ctx.embedding_model, status=200,
                      latency_ms=0.0, streamed=False)
    try:
        raw = await request.read()
        req = parse_request(parse_body(raw))
        route = embedding_route((await target_for(request, ctx)).route, ctx.embedding_model)
        rec.provider_kind, rec.model = route.kind, route.model
        if not gate.unlimited(ctx.grant_id, ctx.provider_id):
            res = (reserve_now(request, gate, ctx, route, RESERVE_BODY, len(raw))
                   or await reserve(request, gate, ctx, route, RESERVE_BODY, len(raw)))
        http, timeout = app[keys.HTTP], upstream_timeout(app[keys.SETTINGS].upstream_timeout, True)
        failover = FailoverLimits(request, ctx, RESERVE_BODY, len(raw), res, embeddings=True)
        route, result = await failover.first_answer(route, lambda r: embed(http, r, req, timeout=timeout))
        res = failover.res
        rec.provider_kind, rec.model = route.kind, result.model  # the connection that answered
        count(rec, result.usage)
        if not res.settled:
            settle(gate, res, result.usage, 0)
    except GatewayError as err:
        rec.fail(err.status, err.code or err.type)
        gate.settle(res, 0, 0)
        return error_response(err)
    finally:
        gate.settle(res)
        rec.latency_ms = (time.perf_counter() - started) * 1000
        app[keys.USAGE].record(rec)
    headers = answer_headers(route, result.model, result.headers)
    if res.seen:
        headers.update(res.headers())
    return web.Response(body=result.body, status=200, content_type=JSON, headers=headers)
