"""Friendly HTML error pages for the pages' half of the server (the request id they quote
comes from the front middleware, front_middleware.py)."""

from __future__ import annotations

import logging

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError

from .. import keys
from ..services.errors import NotFound, ServiceError
from ..store.faults import StorageUnavailable
from .render import render

errlog = logging.getLogger("infer0.error")

ERROR_TITLES = {
    400: ("Bad request", "The request could not be understood."),
    403: ("Not allowed", "This form has expired or did not come from this site. Go back, reload, and try again."),
    404: ("Page not found", "There is nothing at this address."),
    405: ("Not allowed", "This page does not accept that kind of request."),
    413: ("Too large", "What you sent is larger than infer0 accepts."),
    429: ("Slow down", "Too many requests. Wait a moment and try again."),
    500: ("Something went wrong", "infer0 hit an unexpected error. It has been logged; try again."),
    503: ("Unavailable for a moment", "infer0 cannot save changes right now. Nothing was changed; try again "
                                      "in a minute."),
}
STORAGE_RETRY_AFTER = "5"  # seconds; a storage fault needs the operator, so clients should not hammer


def error_page(request: web.Request, status: int, detail: str | None = None) -> web.Response:
    title, text = ERROR_TITLES.get(status, ERROR_TITLES[500] if status >= 500 else ERROR_TITLES[400])
    return render(request, "errors/error.html",
                  {"status": status, "title": title, "text": detail or text,
                   "request_id": request.get(keys.REQUEST_ID)}, status=status)


@web.middleware
async def html_error_middleware(request: web.Request, handler):
    """Every page's error answer: an HTTP error or a service error becomes the friendly page.

    A handler lets `NotFound` (404) and any other `ServiceError` (400) through; the page shows
    the service's message, which is written for people and never holds a secret. A handler that
    wants a form re-shown with its error catches `ValidationError` itself."""
    try:
        return await handler(request)
    except NotFound as exc:
        return error_page(request, 404, exc.message)
    except ServiceError as exc:
        return error_page(request, 400, exc.message)
    except StorageUnavailable as exc:  # disk full, read-only: the operator must act; nothing was changed
        page = error_page(request, 503, f"infer0 cannot save changes right now ({exc.reason}). Nothing was "
                                        "changed; try again later. If this goes on, tell the site's operator.")
        page.headers["Retry-After"] = STORAGE_RETRY_AFTER
        return page
    except (web.RequestPayloadError, HttpProcessingError) as exc:  # a body aiohttp cannot read: a 500 before
        if getattr(exc, "code", 400) >= 500:
            raise
        return error_page(request, 400, "The form could not be read: it does not decode as its Content-Encoding "
                                        "says. Try again from the page itself.")
    except web.HTTPException as exc:
        if exc.status < 400 or exc.content_type == "application/json":
            raise
        page = error_page(request, exc.status)
        for name in ("Allow", "Retry-After"):
            if name in exc.headers:
                page.headers[name] = exc.headers[name]
        return page
    except Exception:
        errlog.exception("unhandled error", extra={"fields": {"rid": request.get(keys.REQUEST_ID),
                                                              "path": request.path}})
        return error_page(request, 500)
