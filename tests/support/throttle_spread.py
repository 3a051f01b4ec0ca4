"""Each throttle's limit, tried through several server processes (issue 15 §3): the attempts are
spread over `urls` (two instances on one PostgreSQL: alternately; one `serve --workers 2` URL:
a new connection per request, so the kernel's SO_REUSEPORT hash spreads them over both workers).
A throttle counted per process would let about twice the limit through; each scenario asserts
the limit holds in total. Every scenario uses an X-Forwarded-For address of its own (the
servers trust 127.0.0.1 as a proxy), so their per-address caps do not meet.

Each scenario returns nothing and asserts what the users and the attackers see.
"""

from __future__ import annotations

import itertools

import aiohttp

from tests.support.browser import Browser, csrf_from

TRUST_LOOPBACK = ("--trusted-proxies", "127.0.0.1")
REGISTRATION_RATE = 5
SERVER_FLAGS = (*TRUST_LOOPBACK, "--client-registration-rate", str(REGISTRATION_RATE))
NEW_APP = {"client_name": "Notes", "redirect_uris": ["https://notes.example/cb"]}


class SpreadBrowser(Browser):
    """A Browser whose form posts go to each of `urls` in turn, each on a new connection (pages
    it reads for their CSRF tokens come from the first: the keyring and sessions are shared)."""

    def __init__(self, urls: list[str], address: str):
        super().__init__(urls[0])
        self.http = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True),
                                          connector=aiohttp.TCPConnector(force_close=True),
                                          headers={"X-Forwarded-For": address})
        self._bases = itertools.cycle(u.rstrip("/") for u in urls)

    async def post(self, path: str, data: dict | None = None, **kw):
        async with self.http.post(next(self._bases) + path, data=data or {}, **kw) as resp:
            return resp, await resp.text()


async def sign_in(urls: list[str]) -> None:
    """Five wrong passwords per (account, address) in 15 minutes, then 429 without a check."""
    owner = SpreadBrowser(urls, "198.51.100.10")
    attacker = SpreadBrowser(urls, "203.0.113.10")
    try:
        assert (await owner.signup("owner@example.com"))[0].status == 200
        statuses = [(await attacker.login("owner@example.com", f"guess {i}"))[0].status for i in range(10)]
        assert statuses == [400] * 5 + [429] * 5
        resp, html = await attacker.login("owner@example.com")  # even the right password now
        assert resp.status == 429 and "Too many attempts, try again in" in html
        assert int(resp.headers["Retry-After"]) > 0
    finally:
        await owner.close()
        await attacker.close()


async def sign_up(urls: list[str]) -> None:
    """Ten refused sign-ups (a taken email) per address in 15 minutes, then 429."""
    owner = SpreadBrowser(urls, "198.51.100.11")
    prober = SpreadBrowser(urls, "203.0.113.11")
    try:
        assert (await owner.signup("taken@example.com"))[0].status == 200
        statuses = [(await prober.signup("taken@example.com"))[0].status for _ in range(20)]
        assert statuses == [400] * 10 + [429] * 10
    finally:
        await owner.close()
        await prober.close()


async def device_code(urls: list[str]) -> None:
    """Five wrong device user codes per sign-in session, then 429 "Too many wrong codes"."""
    person = SpreadBrowser(urls, "198.51.100.12")
    try:
        assert (await person.signup("tv@example.com"))[0].status == 200
        answers = []
        for _ in range(10):
            _, page = await person.get("/device")
            resp, html = await person.post("/device", {"csrf_token": csrf_from(page), "user_code": "BCDF-GHJK"})
            answers.append((resp.status, "Too many wrong codes" in html))
        assert answers == [(400, False)] * 5 + [(429, True)] * 5
    finally:
        await person.close()


async def _post_each(urls: list[str], address: str, path: str, n: int, **kw) -> list[tuple[int, dict, dict]]:
    """`n` POSTs of `path`, to each of `urls` in turn, each on a new connection: (status, JSON, headers)."""
    bases = itertools.cycle(u.rstrip("/") for u in urls)
    out = []
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(force_close=True),
                                     headers={"X-Forwarded-For": address}) as http:
        for _ in range(n):
            async with http.post(next(bases) + path, **kw) as resp:
                out.append((resp.status, await resp.json(content_type=None), dict(resp.headers)))
    return out


async def client_registration(urls: list[str]) -> None:
    """REGISTRATION_RATE registrations (RFC 7591) per address per hour, then 429 slow_down."""
    answers = await _post_each(urls, "203.0.113.13", "/v1/oauth/register", 2 * REGISTRATION_RATE, json=NEW_APP)
    assert [status for status, _, _ in answers] == [201] * REGISTRATION_RATE + [429] * REGISTRATION_RATE
    assert {body["error"] for _, body, _ in answers[REGISTRATION_RATE:]} == {"slow_down"}


async def token_client_auth(urls: list[str]) -> None:
    """Ten failed client authentications per (client, address) at the token endpoint, then 429
    slow_down without the secret being checked, while the client itself still authenticates."""
    [(status, app, _)] = await _post_each(urls, "198.51.100.14", "/v1/oauth/register", 1,
                                          json={**NEW_APP, "token_endpoint_auth_method": "client_secret_post"})
    assert status == 201
    guess = {"grant_type": "authorization_code", "code": "x", "client_id": app["client_id"],
             "client_secret": "i0_cs_guess"}
    answers = await _post_each(urls, "203.0.113.14", "/v1/oauth/token", 20, data=guess)
    assert [(s, body["error"]) for s, body, _ in answers] == [(400, "invalid_client")] * 10 + [(429, "slow_down")] * 10
    assert {headers["Retry-After"] for _, _, headers in answers[10:]} == {"60"}
    right = {**guess, "client_secret": app["client_secret"]}
    for status, body, _ in await _post_each(urls, "198.51.100.14", "/v1/oauth/token", 2, data=right):
        assert (status, body.get("error")) == (400, "invalid_grant"), body  # authenticated: only the code is wrong
