"""Dashboard sign-in: a server-side session looked up from an HttpOnly cookie."""

from __future__ import annotations

import functools

from aiohttp import web

from .. import keys
from ..services import accounts
from .render import url_for
from .session_upkeep import session_upkeep

COOKIE = "i0_session"
SKIP_PREFIXES = ("/v1/", "/static/", "/healthz", "/.well-known/")


@web.middleware
async def session_middleware(request: web.Request, handler):
    request[keys.SESSION] = None
    token = request.cookies.get(COOKIE)
    if token and not request.path.startswith(SKIP_PREFIXES):
        store = request.config_dict[keys.STORE]
        request[keys.SESSION] = await store.run(accounts.resolve_session, token)
        if request[keys.SESSION] is not None:
            await session_upkeep(request)  # last seen; --require-2fa (issue 17)
    return await handler(request)


def set_session_cookie(request: web.Request, response: web.StreamResponse, token: str) -> None:
    settings = request.config_dict[keys.SETTINGS]
    response.set_cookie(COOKIE, token, max_age=settings.session_lifetime, httponly=True,
                        samesite="Lax", secure=settings.secure_cookies, path="/")


def clear_session_cookie(response: web.StreamResponse) -> None:
    response.del_cookie(COOKIE, path="/")


def login_redirect(request: web.Request) -> web.HTTPSeeOther:
    return web.HTTPSeeOther(url_for(request, "login", query={"next": request.path_qs}))


def require_user(handler):
    """Signed-in pages: anonymous visitors go to /login and come back afterwards."""

    @functools.wraps(handler)
    async def wrapper(request: web.Request):
        if request.get(keys.SESSION) is None:
            raise login_redirect(request)
        return await handler(request)

    return wrapper

