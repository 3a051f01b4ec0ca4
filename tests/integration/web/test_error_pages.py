"""Page errors: a service's NotFound or ServiceError becomes the friendly page in one place."""

from __future__ import annotations

import re

import pytest

from infer0app.app import create_app
from infer0app.services.errors import Conflict, NotFound, ValidationError


@pytest.fixture
async def page_url(aiohttp_server, make_settings):
    """The real app, plus pages whose handlers raise what a service raises."""
    app = create_app(make_settings())

    async def missing(request):
        raise NotFound("That thing does not exist (or is not yours).")

    async def refused(request):
        raise ValidationError("That value is not acceptable.", field="name")

    async def conflicting(request):
        raise Conflict("An account with that email already exists.")

    app.router.add_get("/test/missing", missing)
    app.router.add_get("/test/refused", refused)
    app.router.add_get("/test/conflict", conflicting)
    srv = await aiohttp_server(app, host="127.0.0.1")
    return str(srv.make_url("")).rstrip("/")


@pytest.mark.parametrize("path,status,title,message", [
    ("/test/missing", 404, "Page not found", "That thing does not exist (or is not yours)."),
    ("/test/refused", 400, "Bad request", "That value is not acceptable."),
    ("/test/conflict", 400, "Bad request", "An account with that email already exists."),
])
async def test_service_errors_become_the_friendly_page(page_url, path, status, title, message):
    import aiohttp

    async with aiohttp.ClientSession() as http, http.get(page_url + path) as resp:
        html = await resp.text()
        assert resp.status == status
        assert resp.content_type == "text/html"
        assert title in html and message in html and "Traceback" not in html
        assert resp.headers["X-Request-Id"] in html  # the page names the request for a report


async def test_a_missing_connection_is_the_404_page_with_the_services_message(browser):
    await browser.signup("nobody@example.com")
    resp, html = await browser.get("/providers/424242")
    assert resp.status == 404
    assert "does not exist (or is not yours)" in html and "Page not found" in html


@pytest.mark.parametrize("path", ["/providers/abc", "/providers/1x", "/providers/-1", "/connections/x/revoke",
                                  "/providers/%31%32a"])
async def test_a_non_numeric_id_is_a_404_from_the_router(browser, path):
    await browser.signup("router@example.com")
    token = await browser.token_for("/providers")
    resp, html = (await browser.post(path, {"csrf_token": token}) if path.endswith("revoke")
                  else await browser.get(path))
    assert resp.status == 404 and "Page not found" in html
    assert not re.search(r"does not exist", html)  # no handler ran: the router refused it


@pytest.mark.parametrize("method,path,status", [
    ("POST", "/no-such-page", 404), ("PUT", "/no/such/page", 404), ("TRACE", "/nothing-here", 404),
    ("DELETE", "/providers/abc", 404),  # the id pattern does not match: no route
    ("PUT", "/login", 405), ("TRACE", "/", 405), ("POST", "/openapi.json", 405),
])
async def test_unknown_paths_and_methods_are_404_and_405_not_a_csrf_403(browser, method, path, status):
    # The CSRF check ran before routing, so any non-GET to any path was "403 CSRF check failed".
    async with browser.http.request(method, browser.url(path), data={"x": "1"}) as resp:
        html = await resp.text()
    assert resp.status == status, (method, path, resp.status)
    assert "CSRF" not in html
    if status == 405:
        assert method not in resp.headers["Allow"].split(",") and "GET" in resp.headers["Allow"]


async def test_a_known_form_target_without_its_token_is_still_refused(browser):
    resp, _ = await browser.post("/login", {"email": "a@example.com", "password": "x" * 12})
    assert resp.status == 403
