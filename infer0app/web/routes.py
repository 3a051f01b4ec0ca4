"""URL map of the HTML pages. Every page route has a name; handlers and templates build URLs from
the names (`url_for(request, name, ...)` in Python, `url(name, ...)` in Jinja), never by hand.

Numeric ids are declared in the route (`row_ids.ROUTE_PATTERN`, 1-19 digits): a path like
/providers/abc is the router's 404 page and never reaches a handler; handlers read the id with
`route_id(request)`, which answers 404 for one past the 64-bit range too.
"""

from __future__ import annotations

from aiohttp import web

from ..paths import static_dir
from ..services.row_ids import ROUTE_PATTERN
from . import auth_pages, connection_pages, consent_pages, dashboard, dev_pages, device_pages, provider_pages
from . import connection_limit_pages, grant_limit_pages, usage_pages  # issue 13: limits and usage
from . import form_targets  # issue 17: GET on POST-only form targets
from .form_targets import back_to
from . import account_pages, two_factor_pages  # issue 17: accounts a person can trust

ID = ROUTE_PATTERN  # a row id: digits only (no sign, no spaces)


def setup_page_routes(app: web.Application) -> None:
    def page(path: str, name: str, *, get=None, post=None) -> None:
        resource = app.router.add_resource(path, name=name)
        if get is not None:
            resource.add_route("GET", get)
            resource.add_route("HEAD", get)  # as add_get does
        if post is not None:
            resource.add_route("POST", post)

    # A GET on a POST-only form target goes to the page with its form (never a 405 page).
    to_conn, to_grant = back_to("providers", fragment="conn-{id}"), back_to("connections", fragment="grant-{id}")
    page("/", "home", get=dashboard.home)
    page("/login", "login", get=auth_pages.login_form, post=auth_pages.login_submit)
    page("/signup", "signup", get=auth_pages.signup_form, post=auth_pages.signup_submit)
    page("/logout", "logout", get=form_targets.logout_page, post=auth_pages.logout)
    page("/providers", "providers", get=provider_pages.list_page, post=provider_pages.add)
    page(f"/providers/{ID}", "provider", get=provider_pages.edit_form, post=provider_pages.edit_submit)
    page(f"/providers/{ID}/delete", "provider_delete", get=provider_pages.delete, post=provider_pages.delete)
    page(f"/providers/{ID}/default", "provider_default", get=to_conn, post=provider_pages.make_default)
    page(f"/providers/{ID}/test", "provider_test", get=to_conn, post=provider_pages.test)
    # Destructive actions answer GET (and a POST without confirm=yes) with a confirmation page.
    # OAuth: the authorization endpoint (consent page), connected apps, developer pages.
    page("/oauth/authorize", "authorize", get=consent_pages.authorize, post=consent_pages.authorize)
    page("/device", "device", get=device_pages.device_form, post=device_pages.device_submit)  # RFC 8628
    page("/device/consent", "device_consent", get=back_to("device"), post=device_pages.device_consent)
    page("/connections", "connections", get=connection_pages.list_page)
    page(f"/connections/{ID}", "connection", get=to_grant, post=connection_pages.update)
    page(f"/connections/{ID}/revoke", "connection_revoke", get=connection_pages.revoke,
         post=connection_pages.revoke)
    page(f"/connections/{ID}/limits", "connection_limits", get=to_grant, post=grant_limit_pages.update_limits)
    page(f"/providers/{ID}/limits", "provider_limits", get=connection_limit_pages.page,
         post=connection_limit_pages.update_caps)
    page(f"/providers/{ID}/prices", "provider_prices", get=back_to("provider_limits", with_id=True),
         post=connection_limit_pages.update_price)
    page("/usage", "usage", get=usage_pages.usage_page)
    page("/usage/export", "usage_export", get=usage_pages.export)
    page(f"/connections/{ID}/fallbacks", "connection_fallbacks", get=to_grant, post=connection_pages.save_fallbacks)
    page("/dev/apps", "dev_apps", get=dev_pages.apps_page, post=dev_pages.create)
    page("/dev/apps/{client_id}", "dev_app", get=dev_pages.app_page, post=dev_pages.update)
    page("/dev/apps/{client_id}/rotate", "dev_app_rotate", get=dev_pages.rotate, post=dev_pages.rotate)
    page("/dev/apps/{client_id}/delete", "dev_app_delete", get=dev_pages.delete, post=dev_pages.delete)
    page("/dev/docs", "dev_docs", get=dev_pages.docs)
    account_pages.add_routes(page)  # issue 17: account, sessions, export, delete, reset link
    two_factor_pages.add_routes(page)
    app.router.add_static("/static/", static_dir(), name="static", append_version=True)
