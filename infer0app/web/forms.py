"""Reading HTML form posts without ever turning bad input into a 500."""

from __future__ import annotations

from aiohttp import web

MAX_FIELD = 4096


async def read_form(request: web.Request):
    try:
        return await request.post()
    except (UnicodeDecodeError, ValueError):
        raise web.HTTPBadRequest(reason="Malformed form data") from None


def field(form, name: str, limit: int = MAX_FIELD) -> str:
    """A text field, cut to `limit` characters; files and missing fields read as ''."""
    value = form.get(name, "")
    return value[:limit] if isinstance(value, str) else ""
