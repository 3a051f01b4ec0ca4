"""CSRF protection for every state-changing form.

The token is an HMAC (keyring's hmac_key) of what the browser is bound to: the session
id hash when signed in, else a random pre-session cookie. A POST without a matching token
gets 403 and changes nothing. Tokens are not stored anywhere.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from aiohttp import web

from .. import keys
from .forms import read_form

PRE_COOKIE = "i0_pre"
FIELD = "csrf_token"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
# JSON/OAuth endpoints authenticate with client credentials or bearer tokens, not cookies.
EXEMPT_PREFIXES = ("/v1/",)


def _binding(request: web.Request) -> str | None:
    session = request.get(keys.SESSION)
    if session is not None:
        return "s:" + session.session_hash
    pre = request.cookies.get(PRE_COOKIE) or request.get(keys.NEW_PRE_COOKIE)
    return "p:" + pre if pre else None


def csrf_token(request: web.Request) -> str:
    binding = _binding(request)
    if binding is None:
        binding = "p:" + ensure_pre_cookie(request)
    key = request.config_dict[keys.VAULT].hmac_key
    return hmac.new(key, b"csrf|" + binding.encode(), hashlib.sha256).hexdigest()


def ensure_pre_cookie(request: web.Request) -> str:
    value = request.cookies.get(PRE_COOKIE) or request.get(keys.NEW_PRE_COOKIE)
    if not value:
        value = secrets.token_urlsafe(24)
        request[keys.NEW_PRE_COOKIE] = value
    return value


def valid(request: web.Request, submitted: str | None) -> bool:
    if not submitted or _binding(request) is None:
        return False
    return hmac.compare_digest(csrf_token(request), submitted)


@web.middleware
async def csrf_middleware(request: web.Request, handler):
    # No route (404) or not this method (405): the router's answer, not a CSRF 403 that would
    # claim the path exists and hide the real error.
    if (request.method not in SAFE_METHODS and not request.path.startswith(EXEMPT_PREFIXES)
            and request.match_info.http_exception is None):
        submitted = request.headers.get("X-CSRF-Token")
        if submitted is None and request.content_type in ("application/x-www-form-urlencoded",
                                                          "multipart/form-data"):
            form = await read_form(request)
            submitted = form.get(FIELD)
        if not valid(request, submitted if isinstance(submitted, str) else None):
            raise web.HTTPForbidden(reason="CSRF check failed")
    response = await handler(request)
    new_pre = request.get(keys.NEW_PRE_COOKIE)
    if new_pre and isinstance(response, web.StreamResponse) and not response.prepared:
        settings = request.config_dict[keys.SETTINGS]
        response.set_cookie(PRE_COOKIE, new_pre, httponly=True, samesite="Lax",
                            secure=settings.secure_cookies, path="/")
    return response
