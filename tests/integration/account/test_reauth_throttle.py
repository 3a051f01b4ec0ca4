"""The forms that re-check a signed-in user's password (change password, delete account, turn off
two-factor sign-in, new recovery codes) are throttled as sign-in is. Before, whoever held a session
cookie could try passwords at full speed through them; after five wrong ones the right password
is refused with 429 "Too many attempts" and nothing changes, and sign-in from that address is
throttled too (the same counter)."""

from __future__ import annotations

from tests.support.account import PASSWORD, enrol
from tests.support.browser import csrf_from

WRONG = "not my password at all"
NEW = "a brand new password"


async def _wrong_five_times(browser, action: str, fields: dict, form_page: str = "/account") -> None:
    for _ in range(5):
        _, page = await browser.get(form_page)
        resp, _ = await browser.post(action, {"csrf_token": csrf_from(page), **fields}, allow_redirects=False)
        assert resp.status in (303, 400), (action, resp.status)


async def test_change_password_and_delete_account_are_throttled(new_browser):
    b = new_browser()
    await b.signup("alice@example.com")
    await _wrong_five_times(b, "/account/password",
                            {"current_password": WRONG, "password": NEW, "password_confirm": NEW})
    _, page = await b.get("/account")
    resp, html = await b.post("/account/password", {"csrf_token": csrf_from(page), "current_password": PASSWORD,
                                                    "password": NEW, "password_confirm": NEW})
    assert resp.status == 429 and "Too many attempts, try again in" in html
    _, page = await b.get("/account/delete")
    resp, html = await b.post("/account/delete", {"csrf_token": csrf_from(page), "confirm": "yes",
                                                  "password": PASSWORD})
    assert resp.status == 429 and "Too many attempts" in html
    other = new_browser()  # sign-in from the same address shares the counter
    resp, html = await other.login("alice@example.com")
    assert resp.status == 429
    resp, _ = await b.get("/account", allow_redirects=False)
    assert resp.status == 200  # nothing was changed or deleted; the session lives
    resp, _ = await new_browser().login("alice@example.com", NEW)
    assert resp.status in (400, 429)  # the new password was never set


async def test_two_factor_password_checks_are_throttled(new_browser):
    b = new_browser()
    await b.signup("bob@example.com")
    await enrol(b)
    await _wrong_five_times(b, "/account/two-factor/disable", {"password": WRONG})
    _, page = await b.get("/account")
    resp, html = await b.post("/account/two-factor/disable", {"csrf_token": csrf_from(page), "password": PASSWORD})
    assert "Too many wrong passwords" in html and "two-factor sign-in is still on" not in html
    resp, html = await b.post("/account/two-factor/recovery-codes", {"csrf_token": csrf_from(page),
                                                                     "password": PASSWORD})
    assert "Too many wrong passwords" in html
    _, html = await b.get("/account")
    assert "Two-factor sign-in is off." not in html


async def test_a_new_password_that_breaks_a_rule_is_not_counted_as_a_wrong_one(new_browser):
    """Five tries at a too-short new password, with the right current password, are the user's
    own typing, not guesses: neither the form nor sign-in from that address is throttled after."""
    b = new_browser()
    await b.signup("carol@example.com")
    for _ in range(6):
        _, page = await b.get("/account")
        resp, html = await b.post("/account/password", {"csrf_token": csrf_from(page), "current_password": PASSWORD,
                                                        "password": "short", "password_confirm": "short"})
        assert resp.status == 400 and "Too many attempts" not in html
    resp, _ = await new_browser().login("carol@example.com")
    assert resp.status in (200, 303)
    _, page = await b.get("/account")
    resp, _ = await b.post("/account/password", {"csrf_token": csrf_from(page), "current_password": PASSWORD,
                                                 "password": NEW, "password_confirm": NEW}, allow_redirects=False)
    assert resp.status == 303
