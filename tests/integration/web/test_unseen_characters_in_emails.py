"""An email address with characters nobody sees (NUL, bidi overrides, zero-width) is refused at
sign-up and simply fails at sign-in, on both databases. Before: SQLite stored
"admin\\u200b@example.com" (a look-alike of another user's address in every list) and PostgreSQL
answered a 500 for any address with a NUL, at sign-up and at sign-in."""

from __future__ import annotations

from infer0app.services import accounts

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
