"""GET on the URLs that only take a form's POST: a bookmarked, reloaded or typed action URL
(`/logout`, `/providers/3/test`) gets a page a person can use instead of a 405 error page.

`/logout` answers a page with the sign-out button (signing out itself stays a CSRF-protected
POST, so a link or an image on another site cannot sign anyone out); the other action URLs
send the browser to the page holding their form (303)."""

from __future__ import annotations

from aiohttp import web

from .. import keys
from .confirm import confirm_page
from .render import url_for


async def logout_page(request: web.Request) -> web.StreamResponse:
    """GET /logout: "Sign out?" with the button, or the sign-in page when nobody is signed in."""
    session = request.get(keys.SESSION)
    if session is None:
        raise web.HTTPSeeOther(url_for(request, "login"))
    return confirm_page(request, title="Sign out?", text=f"You are signed in as {session.email}.",
                        button="Sign out", cancel=url_for(request, "home"))


def back_to(name: str, *, fragment: str = "", with_id: bool = False):
    """A GET handler sending the browser to the page `name` (web/routes.py), the one holding the
    form that posts here. `fragment` may name `{id}` (the action URL's row id), e.g. "conn-{id}";
    `with_id` passes that id to the page's own route too (/providers/{id}/limits)."""

    async def handler(request: web.Request) -> web.StreamResponse:
        ident = request.match_info.get("id", "")
        parts = {"id": ident} if with_id else {}
        raise web.HTTPSeeOther(url_for(request, name, fragment=fragment.format(id=ident), **parts))

    return handler
