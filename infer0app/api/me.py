"""GET /v1/me: who the access token acts for (user, app, provider kind and model; never the key)."""

from __future__ import annotations

from aiohttp import web

from ..oauth import bearer


async def me(request: web.Request) -> web.Response:
    ctx = await bearer.authenticate(request)
    provider = {"id": ctx.provider_id, "kind": ctx.provider_kind} if ctx.provider_id is not None else None
    return web.json_response({
        "user_id": ctx.user_id,
        "client_id": ctx.client_id,
        "app": {"client_id": ctx.client_id, "name": ctx.app_name},
        "provider": provider,
        "model": ctx.model or None,
        "scope": ctx.scope,
        "expires_at": int(ctx.expires_at),
    }, headers={"Cache-Control": "no-store"})
