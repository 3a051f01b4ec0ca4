"""Which half of the server a request belongs to: the JSON API under /v1, or the pages.

The two halves want different middlewares: the pages get HTML error pages, the session
and CSRF checks; /v1 gets errors in its protocol's own language and CORS. Both live on one
aiohttp app (a /v1 sub-app would wrap every API call in the pages' middlewares and two
bookkeeping layers of its own), and one middleware picks the chain by path.
"""

from __future__ import annotations

from functools import partial

from aiohttp import web

from .api.v1 import add_cors_headers, is_v1_path, v1_error_middleware
from .web.csrf import csrf_middleware
from .web.middlewares import html_error_middleware
from .web.security_headers import add_security_headers, security_headers
from .web.session import session_middleware


@web.middleware
async def dispatch_middleware(request: web.Request, handler):
    if is_v1_path(request.path):
        return await v1_error_middleware(request, handler)
    inner = partial(session_middleware, handler=partial(csrf_middleware, handler=handler))
    return await html_error_middleware(request, inner)


def response_headers_hook(settings):
    """The app's on_response_prepare: security headers on everything, CORS on /v1."""
    headers = security_headers(settings)

    async def on_response_prepare(request: web.Request, response: web.StreamResponse) -> None:
        add_security_headers(response, headers)
        if is_v1_path(request.path):
            add_cors_headers(response)

    return on_response_prepare
