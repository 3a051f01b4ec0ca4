"""Reading HTML form posts without ever turning bad input into a 500."""

from __future__ import annotations

from aiohttp import web

from ..services.row_ids import parse_row_id

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


def route_id(request: web.Request) -> int:
    """The row id in the URL (the route's `{id}`, 1-19 digits); 404 past the 64-bit range."""
    ident = parse_row_id(request.match_info["id"])
    if ident is None:
        raise web.HTTPNotFound()
    return ident
