"""Open redirects (issue 12 §2): every page that sends the browser back to a `next` path, fed a
corpus of spellings that a browser reads as another host, answers a Location on this origin.

The values are what the server sees after the query or form is decoded; the query-string cases
send them percent-encoded, as a link would."""

from __future__ import annotations

from urllib.parse import quote, urljoin, urlsplit

import pytest
from yarl import URL

from tests.support.browser import Browser

EVIL = "evil.example"

# Each is read by a browser (WHATWG URL parsing) as a URL on another origin, or is no path at all.
HOSTILE = [
    f"//{EVIL}", f"///{EVIL}", f"////{EVIL}/x",
    f"/\t/{EVIL}", f"/\n/{EVIL}", f"/\r/{EVIL}", f"/\r\n/{EVIL}", f"/\t\t/{EVIL}",
    f"\t//{EVIL}", f" //{EVIL}", f"\x00//{EVIL}", f"\x1f//{EVIL}", f"//{EVIL}\t", f"/\x0b/{EVIL}",
    f"/\\{EVIL}", f"\\\\{EVIL}", f"\\/\\/{EVIL}", f"/\\/{EVIL}", f"\\/{EVIL}", f"/\\\t{EVIL}",
    f" /\\{EVIL}", f"/\t\\{EVIL}",
    f"https://{EVIL}", f"HTTPS://{EVIL}", f"https:{EVIL}", f"https:/{EVIL}", f"http:/\\{EVIL}",
    f"https:\\\\{EVIL}", "javascript:alert(1)", "data:text/html,<script>alert(1)</script>",
    f"/%2F%2F{EVIL}", f"/%2f/{EVIL}", f"/%5C{EVIL}", f"/%09/{EVIL}", f"/%0d%0a/{EVIL}",
    f"/%252F%252F{EVIL}", f"%2F%2F{EVIL}",
    f"/.//{EVIL}", f"/a/..//{EVIL}", f"/./\\{EVIL}",
    f"//{EVIL}@localhost/", f"{EVIL}", f"\uff0f\uff0f{EVIL}", "",
]
# Real return paths stay as they are.
LOCAL = ["/providers", "/connections#grant-3", "/dev/apps?x=1",
         "/oauth/authorize?client_id=abc&redirect_uri=https%3A%2F%2Fapp.example%2Fcb&state=s"]


def same_origin(location: str, base: str) -> bool:
    """Does a browser at `base` following `location` stay on `base`'s origin?"""
    if any(ord(c) < 0x21 for c in location) or "\\" in location:
        return False  # a browser would strip or reinterpret these; none belong in our Location
    target = urlsplit(urljoin(base + "/", location))
    here = urlsplit(base)
    return (target.scheme, target.netloc) == (here.scheme, here.netloc)


def test_corpus_is_large_enough():
    assert len(HOSTILE) >= 30


@pytest.fixture
async def signed_in(app_url):
    b = Browser(app_url)
    await b.signup("next@example.com")
    yield b
    await b.close()


async def _get_raw(browser: Browser, path: str, value: str):
    url = URL(browser.base + path + "?next=" + quote(value, safe=""), encoded=True)
    async with browser.http.get(url, allow_redirects=False) as resp:
        return resp.status, resp.headers.get("Location", ""), await resp.text()


@pytest.mark.parametrize("value", HOSTILE + LOCAL)
async def test_get_login_while_signed_in(signed_in, app_url, value):
    status, location, _ = await _get_raw(signed_in, "/login", value)
    assert status == 303 and same_origin(location, app_url), (value, location)
    if value in HOSTILE:
        assert location == "/", (value, location)
    else:
        assert URL(location) == URL(value)  # yarl may print the query decoded


@pytest.mark.parametrize("value", HOSTILE)
async def test_post_login_and_signup(signed_in, app_url, value):
    resp, _ = await signed_in.submit("/login", "/login", {"email": "next@example.com",
                                                          "password": "correct horse battery",
                                                          "next": value}, allow_redirects=False)
    assert resp.status == 303 and resp.headers["Location"] == "/", (value, resp.headers["Location"])
    fresh = Browser(app_url)
    try:
        email = f"s{abs(hash(value))}@example.com"
        resp, _ = await fresh.submit("/signup", "/signup", {"email": email, "password": "x" * 12,
                                                            "password_confirm": "x" * 12, "next": value},
                                     allow_redirects=False)
        assert resp.status == 303 and resp.headers["Location"] == "/", (value, resp.headers["Location"])
    finally:
        await fresh.close()


@pytest.mark.parametrize("value", HOSTILE[:12])
async def test_forms_never_carry_a_hostile_next(app_url, value):
    """The sign-in and sign-up forms put `next` in a hidden field: it is already the safe one."""
    b = Browser(app_url)
    try:
        for page in ("/login", "/signup"):
            status, _, html = await _get_raw(b, page, value)
            assert status == 200 and 'name="next" value="/"' in html, (page, value)
    finally:
        await b.close()


@pytest.mark.parametrize("value", HOSTILE + ["/oauth/authorize\t/x", "/providers"])
async def test_provider_form_returns_only_to_the_consent_page(signed_in, app_url, value):
    """Adding a provider from the consent page returns there; any other `next` is ignored."""
    resp, _ = await signed_in.submit("/providers", "/providers",
                                     {"kind": "sandbox", "name": "Sandbox", "next": value},
                                     allow_redirects=False)
    assert resp.status == 303
    location = resp.headers["Location"]
    assert same_origin(location, app_url) and location.startswith("/providers"), (value, location)


async def test_provider_form_still_returns_to_the_consent_page(signed_in, app_url):
    back = LOCAL[-1]
    status, _, html = await _get_raw(signed_in, "/providers", back)
    assert status == 200 and 'name="next"' in html
    resp, _ = await signed_in.submit("/providers", "/providers",
                                     {"kind": "sandbox", "name": "Sandbox", "next": back},
                                     allow_redirects=False)
    assert resp.status == 303 and URL(resp.headers["Location"]) == URL(back)
