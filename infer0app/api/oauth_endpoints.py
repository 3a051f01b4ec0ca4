"""OAuth JSON endpoints (thin: the authorization server in oauth/server.py does the work)."""

from __future__ import annotations

from aiohttp import web

from .. import keys


def _forget_cached_tokens(request: web.Request, response: web.Response) -> web.Response:
    """Revocations made here bite at once in this process (others see them within the cache's second)."""
    request.config_dict[keys.TOKEN_CACHE].clear()
    return response


async def token(request: web.Request) -> web.Response:
    """POST /v1/oauth/token: grant_type=authorization_code or refresh_token."""
    response = await request.config_dict[keys.OAUTH_SERVER].token_response(request)
    # A refresh rotates out the old access token; a replayed code or refresh token revokes more.
    return _forget_cached_tokens(request, response)


async def refresh(request: web.Request) -> web.Response:
    """POST /v1/oauth/refresh: the hosted original's refresh endpoint (grant_type=refresh_token)."""
    response = await request.config_dict[keys.OAUTH_SERVER].token_response(request, refresh_only=True)
    return _forget_cached_tokens(request, response)


async def revoke(request: web.Request) -> web.Response:
    """POST /v1/oauth/revoke (RFC 7009)."""
    response = await request.config_dict[keys.OAUTH_SERVER].endpoint_response("revocation", request)
    return _forget_cached_tokens(request, response)


async def introspect(request: web.Request) -> web.Response:
    """POST /v1/oauth/introspect (RFC 7662), client-authenticated."""
    return await request.config_dict[keys.OAUTH_SERVER].endpoint_response("introspection", request)


async def device_authorization(request: web.Request) -> web.Response:
    """POST /v1/oauth/device_authorization (RFC 8628 §3.1)."""
    return await request.config_dict[keys.OAUTH_SERVER].device_authorization_response(request)


async def metadata(request: web.Request) -> web.Response:
    """GET /.well-known/oauth-authorization-server (RFC 8414)."""
    return web.json_response(request.config_dict[keys.OAUTH_SERVER].metadata(),
                             headers={"Access-Control-Allow-Origin": "*", "Cache-Control": "max-age=300"})
