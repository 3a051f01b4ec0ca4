"""A second step before a destructive action (delete an app, remove a provider, revoke a
connected app, rotate a client secret), without JavaScript.

Each such route answers GET, and a POST without `confirm=yes` (the pages' own buttons), with a
confirmation page whose CSRF-protected form posts `confirm=yes` to the same URL; only that POST
acts. So one click, a prefetch or a stale form can never delete anything."""

from __future__ import annotations

from aiohttp import web
from yarl import URL

from .forms import field, read_form
from .render import render


async def confirmed(request: web.Request) -> bool:
    """True for the confirmation page's own POST (`confirm=yes`); False for GET or any other POST."""
    if request.method != "POST":
        return False
    return field(await read_form(request), "confirm", 5) == "yes"


def confirm_page(request: web.Request, *, title: str, text: str, button: str, cancel: URL | str,
                 hidden: dict[str, str] | None = None) -> web.Response:
    """The confirmation page: `title` as its heading, `text` saying what will happen, a danger
    button labelled `button` that posts `confirm=yes` to this URL (with the `hidden` fields the
    first form sent, e.g. a rotation's overlap), and a link back to `cancel`."""
    return render(request, "confirm.html", {"title": title, "text": text, "button": button,
                                            "action": request.path, "cancel": str(cancel),
                                            "hidden": hidden or {}})
