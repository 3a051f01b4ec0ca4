"""Sign-up, sign-in, sign-out, sessions, CSRF and throttling, over real HTTP."""

from __future__ import annotations

from urllib.parse import unquote


async def test_signup_signs_in_and_lands_on_dashboard(browser):
    resp, html = await browser.signup("alice@example.com")
    assert resp.status == 200 and str(resp.url).endswith("/")
    assert "alice@example.com" in html
    assert "No provider connected yet" in html


async def test_session_cookie_flags(browser):
    resp, _ = await browser.submit("/signup", "/signup", {"email": "a@example.com", "password": "x" * 12,
                                                         "password_confirm": "x" * 12}, allow_redirects=False)
    assert resp.status == 303
    cookie = resp.cookies["i0_session"]
    assert cookie["httponly"] and cookie["samesite"] == "Lax"
    assert not cookie["secure"]  # plain http issuer; https public URL sets Secure (see test below)


async def test_secure_cookie_when_public_url_is_https(server):
    from tests.support.browser import Browser
    srv = await server(public_url="https://ai.example.com")
    b = Browser(str(srv.make_url("")))
    try:
        resp, html = await b.get("/signup")
        assert "Secure" in resp.headers["Set-Cookie"] and "HttpOnly" in resp.headers["Set-Cookie"]
        assert resp.headers["Strict-Transport-Security"].startswith("max-age=")
        # the browser sends Secure cookies only over TLS: do what it would behind the proxy
        pre = resp.cookies["i0_pre"].value
        from tests.support.browser import csrf_from
        async with b.http.post(b.url("/signup"), data={"csrf_token": csrf_from(html), "email": "s@example.com",
                                                      "password": "x" * 12, "password_confirm": "x" * 12},
                               headers={"Cookie": f"i0_pre={pre}"}, allow_redirects=False) as r:
            assert r.status == 303
            assert r.cookies["i0_session"]["secure"]
    finally:
        await b.close()


async def test_signin_rotates_session_id_and_signout_revokes_it(browser, new_browser):
    await browser.signup("bob@example.com")
    first = browser.cookie("i0_session")
    other = new_browser()
    resp, html = await other.login("bob@example.com")
    assert resp.status == 200 and "bob@example.com" in html
    second = other.cookie("i0_session")
    assert first and second and first != second
    # sign out from the second browser: its session dies server-side, the first stays
    token = await other.token_for("/")
    resp, _ = await other.post("/logout", {"csrf_token": token}, allow_redirects=False)
    assert resp.status == 303
    stolen = new_browser()
    stolen.http.cookie_jar.update_cookies({"i0_session": second}, response_url=__import__("yarl").URL(stolen.base))
    resp, _ = await stolen.get("/", allow_redirects=False)
    assert resp.status == 303 and resp.headers["Location"].startswith("/login")
    resp, html = await browser.get("/")
    assert "bob@example.com" in html


async def test_dashboard_requires_sign_in_and_returns_after(browser):
    resp, _ = await browser.get("/providers", allow_redirects=False)
    assert resp.status == 303 and unquote(resp.headers["Location"]) == "/login?next=/providers"
    await browser.signup("carol@example.com")
    token = await browser.token_for("/")
    await browser.post("/logout", {"csrf_token": token})
    resp, html = await browser.submit("/login?next=%2Fproviders", "/login",
                                      {"email": "carol@example.com", "password": "correct horse battery",
                                       "next": "/providers"})
    assert str(resp.url).endswith("/providers") and "Add a provider" in html


async def test_open_redirect_in_next_is_refused(browser):
    await browser.signup("dave@example.com")
    resp, _ = await browser.submit("/login", "/login", {"email": "dave@example.com",
                                                       "password": "correct horse battery",
                                                       "next": "//evil.example/"}, allow_redirects=False)
    assert resp.headers["Location"] == "/"


async def test_wrong_password_and_unknown_user_get_the_same_generic_message(browser):
    await browser.signup("erin@example.com")
    token = await browser.token_for("/")
    await browser.post("/logout", {"csrf_token": token})
    r1, wrong = await browser.login("erin@example.com", "not the password")
    r2, unknown = await browser.login("nobody@example.com", "not the password")
    assert r1.status == r2.status == 400
    msg = "That email and password did not work"
    assert msg in wrong and msg in unknown


async def test_repeated_failures_are_throttled_per_account(browser):
    await browser.signup("frank@example.com")
    token = await browser.token_for("/")
    await browser.post("/logout", {"csrf_token": token})
    for _ in range(5):
        await browser.login("frank@example.com", "wrong password!")
    # While throttled even the right password is refused, and the page says why (not "did not work").
    resp, html = await browser.login("frank@example.com")
    assert resp.status == 429 and "Too many attempts, try again in 15 minutes" in html
    assert "did not work" not in html


async def test_post_without_or_with_foreign_csrf_token_is_403_and_changes_nothing(browser, new_browser):
    resp, html = await browser.post("/signup", {"email": "m@example.com", "password": "x" * 12,
                                               "password_confirm": "x" * 12})
    assert resp.status == 403 and "Not allowed" in html
    # a token minted for another browser does not work either
    other = new_browser()
    foreign = await other.token_for("/signup")
    await browser.get("/signup")
    resp, _ = await browser.post("/signup", {"csrf_token": foreign, "email": "m@example.com",
                                            "password": "x" * 12, "password_confirm": "x" * 12})
    assert resp.status == 403
    resp, html = await browser.login("m@example.com", "x" * 12)
    assert "did not work" in html  # the account was never created


async def test_signup_validation_messages(browser):
    resp, html = await browser.submit("/signup", "/signup", {"email": "not-an-email", "password": "x" * 12,
                                                            "password_confirm": "x" * 12})
    assert resp.status == 400 and "valid email" in html
    resp, html = await browser.submit("/signup", "/signup", {"email": "g@example.com", "password": "short",
                                                            "password_confirm": "short"})
    assert resp.status == 400 and "at least 10" in html
    await browser.signup("h@example.com")
    b2 = browser  # signed in now; sign out to retry with the same email
    token = await b2.token_for("/")
    await b2.post("/logout", {"csrf_token": token})
    resp, html = await browser.signup("h@example.com")
    assert resp.status == 400 and "cannot be used to create an account" in html


async def test_closed_signup(server):
    from tests.support.browser import Browser
    srv = await server(signup="closed")
    b = Browser(str(srv.make_url("")))
    try:
        resp, html = await b.get("/signup")
        assert resp.status == 403 and "infer0 users create" in html
    finally:
        await b.close()


async def test_oversized_and_malformed_forms_get_friendly_pages(browser):
    token = await browser.token_for("/signup")
    resp, html = await browser.post("/signup", {"csrf_token": token, "email": "a" * 100_000 + "@x.com",
                                               "password": "x" * 12, "password_confirm": "x" * 12})
    assert resp.status == 400 and "valid email" in html
    resp, html = await browser.post("/login", data=b"\xff\xfe garbage",
                                    headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert resp.status in (400, 403) and "Traceback" not in html
    resp, html = await browser.post("/login", data=b"x" * (9 * 1024 * 1024),
                                    headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert resp.status == 413 and "Too large" in html


async def test_not_found_page_is_friendly(browser):
    resp, html = await browser.get("/nope")
    assert resp.status == 404 and "Page not found" in html and "Traceback" not in html


async def test_throttling_uses_forwarded_address_only_from_trusted_proxies(server):
    from tests.support.browser import Browser
    srv = await server(trusted_proxies="127.0.0.1")
    b = Browser(str(srv.make_url("")))
    try:
        await b.signup("proxy@example.com")
        token = await b.token_for("/")
        await b.post("/logout", {"csrf_token": token})
        # 20 failures for other accounts from one forwarded client address block that address...
        for i in range(20):
            await b.login(f"nobody{i}@example.com", "wrong password!", headers={"X-Forwarded-For": "203.0.113.7"})
        resp, html = await b.login("proxy@example.com", headers={"X-Forwarded-For": "203.0.113.7"})
        assert resp.status == 429 and "Too many attempts" in html
        # ...but not another client behind the same proxy
        resp, html = await b.login("proxy@example.com", headers={"X-Forwarded-For": "198.51.100.9"})
        assert resp.status == 200 and "proxy@example.com" in html
    finally:
        await b.close()


async def test_forwarded_header_is_ignored_without_trusted_proxies(browser):
    await browser.signup("direct@example.com")
    token = await browser.token_for("/")
    await browser.post("/logout", {"csrf_token": token})
    for i in range(20):
        await browser.login(f"nobody{i}@example.com", "wrong password!",
                            headers={"X-Forwarded-For": f"203.0.113.{i}"})
    # the spoofed header did not spread the failures over 20 addresses: this address is blocked
    resp, html = await browser.login("direct@example.com")
    assert resp.status == 429 and "Too many attempts" in html
