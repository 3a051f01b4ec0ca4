"""Names and addresses people read with characters nobody sees (NUL, bidi overrides, zero-width,
line separators) are refused, on both databases (services/visible_text.py).

Before: SQLite stored "admin\\u200b@example.com" (a look-alike of another user's address in every
list) and PostgreSQL answered a 500 for any address with a NUL, at sign-up and at sign-in; anyone
could register an app named "Good\\u202eliaM" through dynamic registration (shown as "GoodMail" on
the consent page), and developers and users could do the same in /dev/apps and /providers."""

from __future__ import annotations

from infer0app.services import accounts
from tests.support.browser import csrf_from

UNSEEN = ["n\x00u@example.com", "admin\u200b@example.com", "\u202emoc.elpmaxe@u", "u\x7f@example.com",
          "u@exa\ufeffmple.com"]


async def test_unseen_characters_are_refused_at_signup_and_fail_at_signin(world):
    await world.user("admin@example.com")
    for email in UNSEEN:
        browser = world.browser()
        resp, html = await browser.signup(email)
        assert resp.status == 400 and "Enter a valid email address" in html, (email, resp.status)
        resp, html = await browser.login(email)
        assert resp.status == 400 and "did not work" in html, (email, resp.status)
    emails = await world.store.run(lambda s: [u.email for u in accounts.list_users(s)])
    assert emails == ["admin@example.com"]


async def test_unseen_characters_are_refused_in_app_and_connection_names(world):
    for name in ("Good\u202eliaM", "Ap\u200bp", "x\u2028y", "bell\x07", "\u2066Bank\u2069"):
        async with world.http.post(world.base + "/v1/oauth/register", json={
                "client_name": name, "redirect_uris": ["https://app.example/cb"]}) as resp:
            body = await resp.json()
            assert resp.status == 400 and body["error"] == "invalid_client_metadata", (name, body)
    browser = await world.user("dev@example.com")
    for name in ("Good\u202eliaM", "Ap\u200bp"):
        _, page = await browser.get("/dev/apps")
        resp, html = await browser.post("/dev/apps", {"csrf_token": csrf_from(page), "name": name,
                                                      "redirect_uris": "https://app.example/cb"})
        assert resp.status == 400 and "on one line" in html, name
        resp, html = await browser.submit("/providers", "/providers", {"kind": "sandbox", "name": name})
        assert resp.status == 400 and "control characters" in html, name
    async with world.http.post(world.base + "/v1/oauth/register", json={
            "client_name": "Plain Mail \u2709", "redirect_uris": ["https://app.example/cb"]}) as resp:
        assert resp.status == 201, await resp.text()  # visible non-ASCII is fine
