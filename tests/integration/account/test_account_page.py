"""The Account page over real HTTP: change password (other sessions end), the session list with
device, address and last seen, sign-out per session and everywhere (issue 17 §2)."""

from __future__ import annotations

import re

from tests.support.account import PASSWORD, page_text
from tests.support.browser import csrf_from

FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
IPHONE = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
          "Version/17.5 Mobile/15E148 Safari/604.1")


async def two_sessions(new_browser, email="alice@example.com"):
    laptop, phone = new_browser(), new_browser()
    await laptop.signup(email, headers={"User-Agent": FIREFOX})
    await phone.login(email, headers={"User-Agent": IPHONE})
    return laptop, phone


async def test_account_page_lists_each_session_with_device_address_and_last_seen(new_browser):
    laptop, phone = await two_sessions(new_browser)
    resp, html = await laptop.get("/account", headers={"User-Agent": FIREFOX})
    assert resp.status == 200
    text = page_text(html)
    assert "Firefox on Linux this browser" in text and "Safari on iOS" in text
    assert text.count("127.0.0.1") == 2
    assert len(re.findall(r'class="session"', html)) == 2
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d UTC", text)
    # the page names sessions by a random handle, never by the cookie or its hash
    assert laptop.cookie("i0_session") not in html and phone.cookie("i0_session") not in html


async def test_signing_out_one_session_ends_only_that_one(new_browser):
    laptop, phone = await two_sessions(new_browser)
    _, html = await laptop.get("/account")
    phone_id = re.findall(r'data-session="([^"]+)"', html)[1]  # the current session is listed first
    resp, html = await laptop.post(f"/account/sessions/{phone_id}/end", {"csrf_token": csrf_from(html)})
    assert resp.status == 200 and "That session has been signed out." in html
    resp, _ = await phone.get("/account", allow_redirects=False)
    assert resp.status == 303 and resp.headers["Location"].startswith("/login")
    resp, _ = await laptop.get("/account", allow_redirects=False)
    assert resp.status == 200


async def test_a_session_of_someone_else_cannot_be_ended(new_browser):
    _, phone = await two_sessions(new_browser)
    mallory = new_browser()
    await mallory.signup("mallory@example.com")
    _, html = await phone.get("/account")
    alice_ids = re.findall(r'data-session="([^"]+)"', html)
    _, html = await mallory.get("/account")
    for sid in alice_ids:
        await mallory.post(f"/account/sessions/{sid}/end", {"csrf_token": csrf_from(html)})
    resp, _ = await phone.get("/account", allow_redirects=False)
    assert resp.status == 200


async def test_sign_out_everywhere_ends_every_session_this_one_too(new_browser):
    laptop, phone = await two_sessions(new_browser)
    _, html = await laptop.get("/account")
    resp, _ = await laptop.post("/account/sessions/end-all", {"csrf_token": csrf_from(html)}, allow_redirects=False)
    assert resp.status == 303 and resp.headers["Location"] == "/login"
    for b in (laptop, phone):
        resp, _ = await b.get("/account", allow_redirects=False)
        assert resp.status == 303


async def test_change_password_needs_the_current_one_and_ends_other_sessions(new_browser):
    laptop, phone = await two_sessions(new_browser)
    _, html = await laptop.get("/account")
    resp, html = await laptop.post("/account/password", {
        "csrf_token": csrf_from(html), "current_password": "not my password",
        "password": "a brand new password", "password_confirm": "a brand new password"})
    assert resp.status == 400 and "Your current password is not right." in html
    resp, html = await laptop.post("/account/password", {
        "csrf_token": csrf_from(html), "current_password": PASSWORD,
        "password": "a brand new password", "password_confirm": "a different one!!"})
    assert resp.status == 400 and "The two new passwords do not match." in html
    resp, _ = await phone.get("/account", allow_redirects=False)
    assert resp.status == 200  # refused changes end nothing

    resp, html = await laptop.post("/account/password", {
        "csrf_token": csrf_from(html), "current_password": PASSWORD,
        "password": "a brand new password", "password_confirm": "a brand new password"})
    assert resp.status == 200 and "Password changed." in html
    resp, _ = await phone.get("/account", allow_redirects=False)
    assert resp.status == 303  # the other session ended
    resp, _ = await laptop.get("/account", allow_redirects=False)
    assert resp.status == 200  # this one stays

    fresh = new_browser()
    resp, _ = await fresh.login("alice@example.com", PASSWORD, allow_redirects=False)
    assert resp.status == 400
    resp, _ = await fresh.login("alice@example.com", "a brand new password", allow_redirects=False)
    assert resp.status == 303


async def test_a_get_on_a_form_target_goes_back_to_the_account_page(browser):
    await browser.signup("alice@example.com")
    for path in ("/account/password", "/account/sessions/end-all", "/account/sessions/abc/end",
                 "/account/two-factor/disable"):
        resp, _ = await browser.get(path, allow_redirects=False)
        assert resp.status == 303 and resp.headers["Location"].startswith("/account#"), path
    resp, _ = await browser.get("/account", allow_redirects=False)
    assert resp.status == 200  # and nothing was signed out
