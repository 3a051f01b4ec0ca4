"""A small browser stand-in over real HTTP: keeps cookies, reads CSRF tokens out of forms."""

from __future__ import annotations

import re

import aiohttp
from yarl import URL

CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_from(html: str) -> str:
    match = CSRF_RE.search(html)
    assert match, "page has no CSRF token"
    return match.group(1)


class Browser:
    def __init__(self, base_url: str):
        self.base = base_url.rstrip("/")
        self.http = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))

    async def close(self) -> None:
        await self.http.close()

    def url(self, path: str) -> str:
        return self.base + path

    async def get(self, path: str, **kw) -> tuple[aiohttp.ClientResponse, str]:
        async with self.http.get(self.url(path), **kw) as resp:
            return resp, await resp.text()

    async def post(self, path: str, data: dict | None = None, **kw) -> tuple[aiohttp.ClientResponse, str]:
        async with self.http.post(self.url(path), data=data or {}, **kw) as resp:
            return resp, await resp.text()

    async def token_for(self, path: str) -> str:
        _, html = await self.get(path)
        return csrf_from(html)

    async def submit(self, form_page: str, action: str, fields: dict, **kw):
        """GET the page holding the form, then POST the form with its CSRF token."""
        token = await self.token_for(form_page)
        return await self.post(action, {"csrf_token": token, **fields}, **kw)

    async def signup(self, email: str, password: str = "correct horse battery", **kw):
        resp, html = await self.submit("/signup", "/signup",
                                       {"email": email, "password": password, "password_confirm": password}, **kw)
        return resp, html

    async def login(self, email: str, password: str = "correct horse battery", **kw):
        return await self.submit("/login", "/login", {"email": email, "password": password}, **kw)

    def cookie(self, name: str) -> str | None:
        for c in self.http.cookie_jar.filter_cookies(URL(self.base)).values():
            if c.key == name:
                return c.value
        return None
