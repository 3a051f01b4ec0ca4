"""Shared steps of the account tests: a signed-in browser stand-in, TOTP codes from the page's key."""

from __future__ import annotations

import re
import time
from html import unescape

import pyotp

from tests.support.browser import csrf_from

PASSWORD = "correct horse battery"
SECRET_RE = re.compile(r'id="totp-secret">([A-Z2-7 ]+)<')
CODES_RE = re.compile(r"<li><code>([a-z2-7]{4}(?:-[a-z2-7]{4}){3})</code></li>")


def totp_now(secret: str, offset_steps: int = 0) -> str:
    """The code an authenticator app shows for `secret` (offset by whole 30 s steps)."""
    return pyotp.TOTP(secret).generate_otp(int(time.time()) // 30 + offset_steps)


async def enrol(browser) -> tuple[str, list[str]]:
    """Set up two-factor sign-in from the Account page; returns (TOTP secret, recovery codes)."""
    resp, html = await browser.get("/account/two-factor")
    assert resp.status == 200, html
    secret = SECRET_RE.search(html).group(1).replace(" ", "")
    resp, html = await browser.post("/account/two-factor", {"csrf_token": csrf_from(html), "code": totp_now(secret)})
    assert resp.status == 200 and "/account/two-factor/recovery-codes" in str(resp.url), html
    codes = CODES_RE.findall(html)
    assert len(codes) == 10
    return secret, codes


def page_text(html: str) -> str:
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html)))
