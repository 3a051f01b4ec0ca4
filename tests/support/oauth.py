"""OAuth test helpers: a server with users, apps and provider connections, and the flow's steps."""

from __future__ import annotations

import base64
import hashlib
import secrets
from urllib.parse import parse_qs, urlencode, urlsplit

import aiohttp

from infer0app import keys
from infer0app.services import accounts, apps, providers
from tests.support.browser import Browser, csrf_from

PASSWORD = "correct horse battery"
REDIRECT = "https://app.example/callback"


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def basic(client_id: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


def query_of(location: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query, keep_blank_values=True).items()}


class World:
    """The real app on loopback, plus direct access to its store for setting the scene."""

    def __init__(self, srv):
        self.srv = srv
        self.base = str(srv.make_url("")).rstrip("/")
        self.store = srv.app[keys.STORE]
        self.vault = srv.app[keys.VAULT]
        self.issuer = srv.app[keys.SETTINGS].issuer
        self.http = aiohttp.ClientSession()
        self._browsers: list[Browser] = []

    async def close(self):
        for b in self._browsers:
            await b.close()
        await self.http.close()

    def browser(self) -> Browser:
        b = Browser(self.base)
        self._browsers.append(b)
        return b

    async def user(self, email: str, *, sandbox: bool = True) -> Browser:
        """A signed-in browser for a new user (with a sandbox connection unless told otherwise)."""
        b = self.browser()
        resp, _ = await b.signup(email, PASSWORD)
        assert resp.status == 200, resp.status
        if sandbox:
            await self.connection(email, kind="sandbox", name="Sandbox")
        return b

    async def connection(self, email: str, *, kind: str = "sandbox", name: str = "", model: str = ""):
        def add(store):
            user = accounts.get_user_by_email(store, email)
            return providers.add_connection(store, self.vault, user.id, kind=kind, name=name, model=model,
                                             api_key=None if kind == "sandbox" else "sk-test-key-123456")
        return await self.store.run(add)

    async def app(self, owner: str = "dev@example.com", *, redirect_uris=(REDIRECT,), public: bool = False,
                  name: str = "Test App"):
        def create(store):
            try:
                user = accounts.get_user_by_email(store, owner)
            except Exception:
                user = accounts.create_user(store, owner, None, actor="cli:test")
            return apps.create_app(store, user.id, name=name, redirect_uris=list(redirect_uris), public=public,
                                   homepage_url="https://app.example", actor="cli:test")
        app, secret = await self.store.run(create)
        return app.client_id, secret

    # -- the flow ---------------------------------------------------------------------------
    def authorize_path(self, client_id: str, redirect_uri: str | None = REDIRECT, **params) -> str:
        q = {"client_id": client_id, "response_type": "code"}
        if redirect_uri is not None:
            q["redirect_uri"] = redirect_uri
        q.update({k: v for k, v in params.items() if v is not None})
        return "/oauth/authorize?" + urlencode(q)

    async def consent(self, browser: Browser, path: str, *, decision: str = "approve", provider=None,
                      model: str = "", csrf: str | None = None, expect_page: bool = True,
                      allow_model_choice: bool = False):
        """GET the consent page, POST the decision; returns the POST response (not followed)."""
        resp, html = await browser.get(path, allow_redirects=False)
        assert resp.status == 200, (resp.status, html[:500])
        data = {"csrf_token": csrf if csrf is not None else csrf_from(html), "decision": decision, "model": model}
        if provider is None:
            import re
            m = re.search(r'name="provider" value="(\d+)"[^>]*checked', html)
            provider = m.group(1) if m else ""
        data["provider"] = str(provider)
        if allow_model_choice:
            data["allow_model_choice"] = "1"
        if csrf == "":
            data.pop("csrf_token")
        async with browser.http.post(browser.url(path), data=data, allow_redirects=False) as r:
            await r.read()
            return r

    async def code(self, browser: Browser, client_id: str, redirect_uri: str = REDIRECT, **params) -> str:
        resp = await self.consent(browser, self.authorize_path(client_id, redirect_uri, **params))
        assert resp.status == 303, resp.status
        location = resp.headers["Location"]
        assert location.startswith(redirect_uri), location
        return query_of(location)["code"]

    async def post(self, path: str, data: dict | None = None, *, auth=None, headers=None, raw: bytes | str | None = None):
        kw = {"headers": dict(headers or {})}
        if auth is not None:
            kw["headers"]["Authorization"] = basic(*auth)
        if raw is not None:
            kw["data"] = raw
        else:
            kw["data"] = data or {}
        async with self.http.post(self.base + path, **kw) as resp:
            try:
                body = await resp.json(content_type=None)
            except ValueError:
                body = await resp.text()
            return resp, body

    async def exchange(self, code: str, client_id: str, secret: str | None, redirect_uri: str = REDIRECT, **extra):
        data = {"grant_type": "authorization_code", "code": code, "client_id": client_id,
                "redirect_uri": redirect_uri}
        if secret:
            data["client_secret"] = secret
        data.update(extra)
        return await self.post("/v1/oauth/token", data)

    async def tokens(self, email: str = "user@example.com", *, public: bool = False):
        """A full flow: a user, an app, approval, exchange. Returns (client_id, secret, token JSON, browser)."""
        browser = await self.user(email)
        client_id, secret = await self.app(public=public)
        extra = {}
        verifier = None
        if public:
            verifier, challenge = pkce_pair()
            extra = {"code_challenge": challenge, "code_challenge_method": "S256"}
        code = await self.code(browser, client_id, **extra)
        resp, body = await self.exchange(code, client_id, secret,
                                         **({"code_verifier": verifier} if verifier else {}))
        assert resp.status == 200, body
        return client_id, secret, body, browser

    async def me(self, access_token: str):
        async with self.http.get(self.base + "/v1/me", headers={"Authorization": f"Bearer {access_token}"}) as r:
            return r, await r.json(content_type=None)
