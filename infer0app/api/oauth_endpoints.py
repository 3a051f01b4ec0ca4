"""OAuth JSON endpoints (thin: the authorization server in oauth/server.py does the work)."""

from __future__ import annotations

from aiohttp import web

from .. import keys
from ..services import grants as grants_svc


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


RESOURCE_METADATA_PATH = "/.well-known/oauth-protected-resource"


def resource_metadata_url(issuer: str) -> str:
    """Where the /v1 API's RFC 9728 metadata lives (named by 401 challenges, RFC 9728 §5.1)."""
    return f"{issuer}{RESOURCE_METADATA_PATH}/v1"


async def resource_metadata(request: web.Request) -> web.Response:
    """GET /.well-known/oauth-protected-resource[/v1] (RFC 9728 §3): the `resource` is the URL the
    metadata path was formed from (§3.3), so the /v1 form names {issuer}/v1, the bare form the issuer."""
    issuer = request.config_dict[keys.SETTINGS].issuer
    resource = issuer + request.path.removeprefix(RESOURCE_METADATA_PATH)
    body = {"resource": resource, "authorization_servers": [issuer],
            "scopes_supported": list(grants_svc.SCOPES), "bearer_methods_supported": ["header"],
            "resource_name": "infer0 OpenAI-compatible API", "resource_documentation": f"{issuer}/dev/docs"}
    return web.json_response(body, headers={"Access-Control-Allow-Origin": "*", "Cache-Control": "max-age=300"})


async def metadata(request: web.Request) -> web.Response:
    """GET /.well-known/oauth-authorization-server (RFC 8414)."""
    return web.json_response(request.config_dict[keys.OAUTH_SERVER].metadata(),
                             headers={"Access-Control-Allow-Origin": "*", "Cache-Control": "max-age=300"})
