"""Page rendering: every template gets the signed-in user, a CSRF token and the issuer URL."""

from __future__ import annotations

from typing import Any

import aiohttp_jinja2
from aiohttp import web

from .. import keys
from .csrf import csrf_token


def render(request: web.Request, template: str, context: dict[str, Any] | None = None,
           *, status: int = 200) -> web.Response:
    ctx = {
        "session": request.get(keys.SESSION),
        "csrf_token": csrf_token(request),
        "issuer": request.config_dict[keys.SETTINGS].issuer,
        "path": request.path,
    }
    if context:
        ctx.update(context)
    response = aiohttp_jinja2.render_template(template, request, ctx, status=status)
    response.headers["Cache-Control"] = "no-store"
    return response
