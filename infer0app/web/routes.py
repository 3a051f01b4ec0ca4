"""URL map of the HTML pages."""

from __future__ import annotations

from aiohttp import web

from ..paths import static_dir
from . import auth_pages, connection_pages, consent_pages, dashboard, dev_pages, provider_pages


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
    # OAuth: the authorization endpoint (consent page), connected apps, developer pages.
    r.add_get("/oauth/authorize", consent_pages.authorize)
    r.add_post("/oauth/authorize", consent_pages.authorize)
    r.add_get("/connections", connection_pages.list_page)
    r.add_post("/connections/{id}", connection_pages.update)
    r.add_post("/connections/{id}/revoke", connection_pages.revoke)
    r.add_get("/dev/apps", dev_pages.apps_page)
    r.add_post("/dev/apps", dev_pages.create)
    r.add_get("/dev/apps/{client_id}", dev_pages.app_page)
    r.add_post("/dev/apps/{client_id}", dev_pages.update)
    r.add_post("/dev/apps/{client_id}/rotate", dev_pages.rotate)
    r.add_post("/dev/apps/{client_id}/delete", dev_pages.delete)
    r.add_get("/dev/docs", dev_pages.docs)
    r.add_static("/static/", static_dir(), name="static", append_version=True)
