"""Two-factor sign-in over real HTTP (issue 17 §2): enrolment with a code from the page's key,
sign-in with a TOTP code and with a recovery code (each once), --require-2fa, turning it off."""

from __future__ import annotations

from tests.support.account import CODES_RE, PASSWORD, enrol, totp_now
from tests.support.browser import csrf_from


async def sign_in_to_code_page(b, email="alice@example.com"):
    resp, html = await b.login(email)
    assert resp.status == 200 and str(resp.url).endswith("/login/code"), html
    assert "Enter your code" in html
    resp, _ = await b.get("/", allow_redirects=False)
    assert resp.status == 303 and resp.headers["Location"].startswith("/login")  # not signed in yet
    return html


async def test_enrolment_shows_an_inline_svg_qr_and_needs_a_right_code(browser):
    await browser.signup("alice@example.com")
    resp, html = await browser.get("/account/two-factor")
    assert resp.status == 200 and "<svg" in html and "http" not in html.split("<svg", 1)[1].split("</svg>")[0]
    resp, html = await browser.post("/account/two-factor", {"csrf_token": csrf_from(html), "code": "000000"})
    assert resp.status == 400 and "That code did not work" in html
    _, html = await browser.get("/account")
    assert "Set up two-factor sign-in" in html  # still off


async def test_sign_in_asks_for_a_code_and_each_code_works_once(browser, new_browser):
    await browser.signup("alice@example.com")
    secret, _codes = await enrol(browser)
    # the recovery codes are shown once: a reload of that page goes to the Account page
    resp, html = await browser.get("/account/two-factor/recovery-codes")
    assert str(resp.url).endswith("/account") and not CODES_RE.search(html)

    other = new_browser()
    html = await sign_in_to_code_page(other)
    resp, html = await other.post("/login/code", {"csrf_token": csrf_from(html), "code": "123456"})
    assert resp.status == 400 and "That code did not work" in html
    code = totp_now(secret, +1)  # the next step's code: accepted for clock drift, used by nobody yet
    resp, html = await other.post("/login/code", {"csrf_token": csrf_from(html), "code": code})
    assert resp.status == 200 and str(resp.url).endswith("/"), html
    assert other.cookie("i0_2fa") is None

    third = new_browser()
    html = await sign_in_to_code_page(third)
    resp, html = await third.post("/login/code", {"csrf_token": csrf_from(html), "code": code})
    assert resp.status == 400  # the same code again (RFC 6238 §5.2)


async def test_a_recovery_code_signs_in_once(browser, new_browser):
    await browser.signup("alice@example.com")
    _secret, codes = await enrol(browser)
    first = new_browser()
    html = await sign_in_to_code_page(first)
    resp, html = await first.post("/login/code", {"csrf_token": csrf_from(html), "code": codes[3].upper()})
    assert resp.status == 200 and "/account" in str(resp.url), html
    assert "recovery code" in html and 'id="codes-left">9<' in html

    second = new_browser()
    html = await sign_in_to_code_page(second)
    resp, html = await second.post("/login/code", {"csrf_token": csrf_from(html), "code": codes[3]})
    assert resp.status == 400


async def test_the_code_page_without_a_right_password_goes_back_to_sign_in(browser, new_browser):
    await browser.signup("alice@example.com")
    await enrol(browser)
    stranger = new_browser()
    resp, _ = await stranger.get("/login/code", allow_redirects=False)
    assert resp.status == 303 and resp.headers["Location"] == "/login"
    token = await stranger.token_for("/login")
    stranger.http.cookie_jar.update_cookies({"i0_2fa": "forged" * 10})
    resp, _ = await stranger.post("/login/code", {"csrf_token": token, "code": "123456"}, allow_redirects=False)
    assert resp.status == 303 and resp.headers["Location"] == "/login"


async def test_new_recovery_codes_replace_the_old_ones(browser, new_browser):
    await browser.signup("alice@example.com")
    _secret, old = await enrol(browser)
    _, html = await browser.get("/account")
    resp, html = await browser.post("/account/two-factor/recovery-codes",
                                    {"csrf_token": csrf_from(html), "password": "wrong password!"})
    assert "your recovery codes did not change" in html
    resp, html = await browser.post("/account/two-factor/recovery-codes",
                                    {"csrf_token": csrf_from(html), "password": PASSWORD})
    new = CODES_RE.findall(html)
    assert len(new) == 10 and not set(new) & set(old)
    b = new_browser()
    html = await sign_in_to_code_page(b)
    resp, _ = await b.post("/login/code", {"csrf_token": csrf_from(html), "code": old[0]})
    assert resp.status == 400


async def test_turning_it_off_needs_the_password(browser, new_browser):
    await browser.signup("alice@example.com")
    await enrol(browser)
    _, html = await browser.get("/account")
    _, html = await browser.post("/account/two-factor/disable", {"csrf_token": csrf_from(html), "password": "nope"})
    assert "two-factor sign-in is still on" in html
    _, html = await browser.post("/account/two-factor/disable", {"csrf_token": csrf_from(html), "password": PASSWORD})
    assert "Two-factor sign-in is off." in html
    b = new_browser()
    resp, _ = await b.login("alice@example.com")
    assert str(resp.url).endswith("/")


async def test_require_2fa_sends_users_to_enrol_before_any_page(server):
    from tests.support.browser import Browser
    srv = await server(require_2fa="on")
    b = Browser(str(srv.make_url("")))
    try:
        resp, html = await b.signup("alice@example.com")
        assert "/account/two-factor" in str(resp.url) and "requires two-factor sign-in" in html
        for path in ("/", "/providers", "/account", "/dev/apps"):
            resp, _ = await b.get(path, allow_redirects=False)
            assert resp.status == 303 and resp.headers["Location"].startswith("/account/two-factor?next="), path
        await enrol(b)
        resp, html = await b.get("/providers", allow_redirects=False)
        assert resp.status == 200
        _, html = await b.get("/account")
        assert "Turn two-factor sign-in off" not in html
    finally:
        await b.close()
