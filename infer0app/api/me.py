"""GET /v1/me: who the access token acts for (user, app, provider kind and model; never the key),
and what the grant may still use: its limits, use in the current windows, what remains
(services/grant_limits.me_limits gives the shape)."""

from __future__ import annotations

import logging

from aiohttp import web

from .. import keys
from ..oauth import bearer
from ..services.grant_limits import me_limits
from .call_steps import error_response
from .limit_answers import limits_unavailable_error

log = logging.getLogger("infer0.limits")


async def me(request: web.Request) -> web.Response:
    ctx = await bearer.authenticate(request)
    provider = {"id": ctx.provider_id, "kind": ctx.provider_kind} if ctx.provider_id is not None else None
    try:
        summary = await request.app[keys.LIMITS].usage_summary(ctx.grant_id, ctx.provider_id,
                                                               ctx.provider_kind or "", ctx.model or "")
    except Exception:
        log.warning("could not read the limits of grant %s", ctx.grant_id, exc_info=True)
        return error_response(limits_unavailable_error())
    return web.json_response({
        "user_id": ctx.user_id,
        "client_id": ctx.client_id,
        "app": {"client_id": ctx.client_id, "name": ctx.app_name},
        "provider": provider,
        "model": ctx.model or None,
        "scope": ctx.scope,
        "expires_at": int(ctx.expires_at),
        **me_limits(summary),
    }, headers={"Cache-Control": "no-store"})
