"""The one middleware every request passes: request id and log line, the chain for its half of
the server, and the headers every answer carries.

The two halves want different handling: the pages get HTML error pages, the session and CSRF
checks; /v1 gets errors in its protocol's own language and CORS. Both live on one aiohttp app
(a /v1 sub-app would wrap every API call in the pages' middlewares and two bookkeeping layers
of its own), and this middleware picks the chain by path.

Why one layer and not three (request log, dispatch, /v1 errors) plus an `on_response_prepare`
hook: every coroutine layer is paid again each time the request's task suspends and resumes,
and the hook is two more coroutines per response. On the chat path that was ~7 µs of ~110 µs
of Python per call (bench/README.md). The cost of the shortcut: a handler that prepares its
own StreamResponse must add the headers itself first, with `add_headers(response.headers,
request.app[keys.V1_HEADERS])` (only the chat stream does).

Bodies: aiohttp waits for a body as long as the client keeps the connection open, so a declared
1 MB of which 10 bytes arrive would hold a connection (and a handler) forever. When a body has
not fully arrived with its headers, it is read here, within `body_read_timeout` seconds, before
any handler runs (handlers then get it from memory through `request.read()` / `post()` /
`json()`); if it is late, the answer is 408 in the half's own language and the connection is
closed. A body that came with its headers (nearly all) costs two attribute reads.
"""

from __future__ import annotations

import asyncio
import logging
import time
from functools import partial

from aiohttp import web

from . import keys
from .api.v1 import CORS_HEADERS, cors_preflight, is_v1_path, last_resort_error, v1_error_response
from .logs import ACCESS_LOG
from .web.csrf import csrf_middleware
from .http_common.request_id import REQUEST_ID, next_request_id
from .http_common.security_headers import add_headers, security_headers
from .web.middlewares import html_error_middleware
from .web.session import session_middleware

errlog = logging.getLogger("infer0.error")


def _body_pending(request: web.Request) -> bool:
    return request.body_exists and not request.content.is_eof()


async def read_body_within(request: web.Request, seconds: float) -> None:
    """Read the whole body into the request (aiohttp caches it) within `seconds`; 408 otherwise.
    Raises HTTPRequestEntityTooLarge (413) past client_max_size, as `request.read()` does."""
    try:
        async with asyncio.timeout(seconds):
            await request.read()
    except TimeoutError:
        raise web.HTTPRequestTimeout(headers={"Connection": "close"}) from None


async def _body_then(request: web.Request, handler, seconds: float):
    await read_body_within(request, seconds)
    return await handler(request)


def front_middleware(app: web.Application, settings):
    """Builds the middleware (a new-style aiohttp middleware); the header sets are worked out
    once here and kept on the app."""
    page_headers = security_headers(settings)
    v1_headers = page_headers + CORS_HEADERS
    app[keys.V1_HEADERS] = v1_headers
    body_timeout = settings.body_read_timeout

    @web.middleware
    async def front(request: web.Request, handler):
        rid = next_request_id()
        request[keys.REQUEST_ID] = rid
        start = time.perf_counter()
        v1 = is_v1_path(request.path)
        ours = v1_headers if v1 else page_headers
        status = 500
        try:
            if not v1:
                inner = partial(session_middleware, handler=partial(csrf_middleware, handler=handler))
                if _body_pending(request):
                    inner = partial(_body_then, handler=inner, seconds=body_timeout)
                response = await html_error_middleware(request, inner)
            elif request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers:
                response = cors_preflight(request)
            else:
                try:
                    if _body_pending(request):
                        await read_body_within(request, body_timeout)
                    response = await handler(request)
                except Exception as exc:  # CancelledError is not an Exception: it passes
                    response = v1_error_response(request, exc)  # re-raises redirects
            status = response.status
            if status == 408:  # the body is late: do not wait for the rest on this connection
                response.force_close()
            if not response.prepared:
                headers = response.headers
                headers[REQUEST_ID] = rid
                add_headers(headers, ours)
            return response
        except web.HTTPException as exc:  # a redirect (or a page's 4xx) on its way out
            status = exc.status
            add_headers(exc.headers, ours)
            raise
        except Exception:  # turning an error into an answer failed: still a 500 with our headers
            errlog.exception("unhandled error", extra={"fields": {"rid": rid, "path": request.path}})
            response = (last_resort_error(request.path) if v1 else
                        web.Response(status=500, text="infer0 hit an unexpected error; it has been logged."))
            response.headers[REQUEST_ID] = rid
            add_headers(response.headers, ours)
            return response
        finally:
            if ACCESS_LOG.enabled:  # queued raw, written off the request path (logs.py)
                # method, path (never the query: it may carry codes)
                ACCESS_LOG.record(rid, request.method, request.path, status, time.perf_counter() - start)

    return front
