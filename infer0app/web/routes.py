"""URL map of the HTML pages."""

from __future__ import annotations

from aiohttp import web

from ..paths import static_dir
from . import auth_pages, dashboard, provider_pages


def setup_page_routes(app: web.Application) -> None:
    r = app.router
    r.add_get("/", dashboard.home)
    r.add_get("/login", auth_pages.login_form)
    r.add_post("/login", auth_pages.login_submit)
    r.add_get("/signup", auth_pages.signup_form)
    r.add_post("/signup", auth_pages.signup_submit)
    r.add_post("/logout", auth_pages.logout)
    r.add_get("/providers", provider_pages.list_page)
    r.add_post("/providers", provider_pages.add)
    r.add_get("/providers/{id}", provider_pages.edit_form)
    r.add_post("/providers/{id}", provider_pages.edit_submit)
    r.add_post("/providers/{id}/delete", provider_pages.delete)
    r.add_post("/providers/{id}/default", provider_pages.make_default)
    r.add_post("/providers/{id}/test", provider_pages.test)
    r.add_static("/static/", static_dir(), name="static", append_version=True)
