"""Page rendering: every template gets the signed-in user, a CSRF token and the issuer URL.

URLs of pages come from route names (web/routes.py): `url_for(request, "provider", id=3)` here,
`url("provider", id=3)` in templates. (Ours, bound to the request, rather than aiohttp_jinja2's
global `url`: that one reads the aiohttp app from the template variable `app`, which our pages
use for the OAuth app they show.)"""

from __future__ import annotations

import functools
from typing import Any

import aiohttp_jinja2
from aiohttp import web
from yarl import URL

from .. import keys
from ..services.views import check_no_rows
from .csrf import csrf_token


def render(request: web.Request, template: str, context: dict[str, Any] | None = None,
           *, status: int = 200) -> web.Response:
    ctx = {
        "session": request.get(keys.SESSION),
        "csrf_token": csrf_token(request),
        "issuer": request.config_dict[keys.SETTINGS].issuer,
        "path": request.path,
        "url": functools.partial(url_for, request),
    }
    if context:
        check_no_rows(context, f"{template} context")  # a row would load lazily on the event loop
        ctx.update(context)
    response = aiohttp_jinja2.render_template(template, request, ctx, status=status)
    response.headers["Cache-Control"] = "no-store"
    return response


def url_for(request: web.Request, name: str, *, query: dict[str, str] | None = None, fragment: str = "",
            **parts: str | int) -> URL:
    """The path of the page route `name` (web/routes.py) with its `parts` filled in, e.g.
    url_for(request, "provider", id=3, fragment="x") -> URL('/providers/3#x'). KeyError for an
    unknown name."""
    url = request.app.router[name].url_for(**{k: str(v) for k, v in parts.items()})
    if query:
        url = url.with_query(query)
    return url.with_fragment(fragment) if fragment else url
