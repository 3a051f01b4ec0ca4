"""A real infer0 for the bench: a user, two provider connections (OpenAI-compatible and
Anthropic, both pointing at the bench upstream) and an OAuth app, made with the `infer0`
CLI; access tokens obtained through the real OAuth flow (sign in, consent, code exchange)."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import aiohttp

from .procs import PY, ROOT, clean_env

EMAIL = "bench@example.com"
PASSWORD = "bench password, long enough"
REDIRECT_URI = "http://127.0.0.1:9/callback"  # never visited: the code is read off the Location header
VERIFIER = "bench-pkce-verifier-" + "x" * 40
CHALLENGE = base64.urlsafe_b64encode(hashlib.sha256(VERIFIER.encode()).digest()).rstrip(b"=").decode()
CSRF_RE = re.compile(r'name="csrf_token"\s+value="([^"]+)"')


def cli(data_dir: Path, *args: str, stdin: str | None = None) -> dict:
    argv = [PY, "-m", "infer0app", *args, "--data-dir", str(data_dir)]
    proc = subprocess.run(argv, input=stdin, capture_output=True, text=True, cwd=ROOT, env=clean_env(), timeout=60)
    if proc.returncode != 0:
        raise RuntimeError(f"infer0 {' '.join(args)} failed ({proc.returncode}): {proc.stderr.strip()}")
    return json.loads(proc.stdout) if proc.stdout.strip() else {}


@dataclass
class Client:
    client_id: str
    client_secret: str

    @property
    def basic_auth(self) -> str:
        raw = f"{self.client_id}:{self.client_secret}".encode()
        return "Basic " + base64.b64encode(raw).decode()


@dataclass
class Fixture:
    """One grant per (user, app), and a grant names its provider: so one app per provider,
    and a third app whose single-use codes and refresh tokens the token benchmark spends."""

    openai_provider: int
    anthropic_provider: int
    openai_app: Client
    anthropic_app: Client
    token_app: Client


def prepare(data_dir: Path, upstream_port: int) -> Fixture:
    """Creates the user, provider connections and OAuth apps with the CLI (server may be down)."""
    cli(data_dir, "users", "create", "--email", EMAIL, "--password-stdin", stdin=PASSWORD + "\n")
    oa = cli(data_dir, "providers", "add", "--user", EMAIL, "--kind", "openai-compatible", "--name", "bench-openai",
             "--base-url", f"http://127.0.0.1:{upstream_port}/v1", "--model", "bench-model", "--api-key-stdin",
             stdin="sk-bench-upstream-openai\n")
    an = cli(data_dir, "providers", "add", "--user", EMAIL, "--kind", "anthropic", "--name", "bench-anthropic",
             "--base-url", f"http://127.0.0.1:{upstream_port}", "--model", "bench-model", "--api-key-stdin",
             stdin="sk-ant-bench-upstream\n")

    def app(name: str) -> Client:
        out = cli(data_dir, "apps", "create", "--owner", EMAIL, "--name", name, "--redirect-uri", REDIRECT_URI)
        return Client(out["client_id"], out["client_secret"])
    return Fixture(oa["id"], an["id"], app("bench openai"), app("bench anthropic"), app("bench tokens"))


class OAuthBrowser:
    """The user's browser for one app: signs in with the real form, approves the consent page
    (fields of templates/oauth/consent.html: csrf_token, decision, provider, model)."""

    def __init__(self, base_url: str, client: Client):
        self.base, self.client = base_url.rstrip("/"), client
        self.http = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
        self._csrf_token: str | None = None
        # Concurrent code() calls read the consent page once: after the first approval the
        # consent is remembered (services/consent_reuse.py) and the page answers 303 instead.
        self._csrf_lock = asyncio.Lock()

    async def close(self) -> None:
        await self.http.close()

    async def _page_csrf(self, path: str) -> str:
        async with self.http.get(self.base + path, allow_redirects=False) as resp:
            html = await resp.text()
            if resp.status != 200:
                raise RuntimeError(f"GET {path.split('?')[0]}: {resp.status} {html[:300]}")
        m = CSRF_RE.search(html)
        if not m:
            raise RuntimeError(f"no CSRF token on {path.split('?')[0]}")
        return m.group(1)

    async def login(self) -> None:
        token = await self._page_csrf("/login")
        async with self.http.post(self.base + "/login", data={"csrf_token": token, "email": EMAIL,
                                                               "password": PASSWORD}, allow_redirects=False) as resp:
            if resp.status not in (302, 303):
                raise RuntimeError(f"login failed: {resp.status} {(await resp.text())[:300]}")

    def authorize_path(self) -> str:
        return "/oauth/authorize?" + urlencode({
            "response_type": "code", "client_id": self.client.client_id, "redirect_uri": REDIRECT_URI,
            "scope": "inference", "state": "bench", "code_challenge": CHALLENGE, "code_challenge_method": "S256"})

    async def code(self, provider_id: int) -> str:
        """Approves the consent form; returns the authorization code from the redirect. The
        consent page is read once; its CSRF token is the session's."""
        async with self._csrf_lock:
            if self._csrf_token is None:
                self._csrf_token = await self._page_csrf(self.authorize_path())
        fields = {"csrf_token": self._csrf_token, "decision": "approve", "provider": str(provider_id),
                  "model": "bench-model"}
        async with self.http.post(self.base + self.authorize_path(), data=fields, allow_redirects=False) as resp:
            location = resp.headers.get("Location", "")
            if resp.status not in (302, 303) or not location.startswith(REDIRECT_URI):
                raise RuntimeError(f"consent approval: {resp.status} {location} {(await resp.text())[:300]}")
        q = parse_qs(urlsplit(location).query)
        if "code" not in q:
            raise RuntimeError(f"no code in redirect: {location}")
        return q["code"][0]

    @staticmethod
    def exchange_body(code: str) -> str:
        return urlencode({"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI,
                          "code_verifier": VERIFIER})

    async def exchange(self, code: str) -> dict:
        async with self.http.post(self.base + "/v1/oauth/token", data=self.exchange_body(code),
                                  headers={"Authorization": self.client.basic_auth,
                                           "Content-Type": "application/x-www-form-urlencoded"}) as resp:
            body = await resp.json(content_type=None)
            if resp.status != 200:
                raise RuntimeError(f"code exchange: {resp.status} {body}")
            return body

    async def tokens(self, provider_id: int) -> dict:
        return await self.exchange(await self.code(provider_id))
