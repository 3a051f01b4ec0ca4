"""Mixed traffic against a running `infer0 serve`, with a ledger of every acknowledged answer.

Used by the kill -9 test (tests/integration/reliability/) and the soak (bench/soak.py). Each
client is a loop that runs until told to stop; every operation it starts first moves the
tokens it touches out of the ledger's "known" sets, and puts them back (live or dead) only
when the server's answer arrives. An operation cut off by a crash leaves its tokens
*uncertain*: the ledger never asserts anything about them, and the client never uses them
again (presenting a refresh token whose rotation did commit would be refresh-token reuse and
revoke the whole grant, RFC 9700 §4.14.2).

What the ledger holds, all acknowledged by a 2xx/303 answer:
- `families`: one per code exchange: the family's current access/refresh pair, live;
- `dead`: tokens the server acknowledged as rotated out or revoked (they must stay dead);
- `providers`: connection name -> API key of each dashboard "add connection" answered 303;
- `removed`: names of connections whose removal was answered 303 (they must stay gone);
- `chats`: the wall-clock time of each chat completion answered 200 with a `usage` object.
"""

from __future__ import annotations

import asyncio
import itertools
import random
import re
import time
from dataclasses import dataclass, field

import aiohttp

from infer0app.services import accounts, apps, providers
from tests.support.browser import Browser, csrf_from
from tests.support.oauth import basic, query_of
from tests.support.seed import seed_grant

PASSWORD = "correct horse battery"
CALLBACK = "https://app.example/callback"
OAUTH_USER = "oauth@example.com"
DASHBOARD_USER = "dash@example.com"

# Anything that means "the server went away mid-request" (it was SIGKILLed).
CUT_OFF = (aiohttp.ClientError, asyncio.TimeoutError, ConnectionError)


@dataclass
class Scene:
    """What `seed` put in the database before the server started."""
    client_id: str
    client_secret: str
    chat_token: str
    chat_grant_id: int
    dashboard_user_id: int


def seed(store, vault) -> Scene:
    """Users, an app with a live grant for OAUTH_USER (so /oauth/authorize answers a code at once),
    and a sandbox grant whose access token the chat client uses. Runs against an open Store."""
    chat = seed_grant(store, vault, kind="sandbox")
    user = accounts.create_user(store, OAUTH_USER, PASSWORD, actor="cli:test")
    conn = providers.add_connection(store, vault, user.id, kind="sandbox")
    dev = accounts.create_user(store, "crashdev@example.com", None, actor="cli:test")
    app, secret = apps.create_app(store, dev.id, name="Crash app", redirect_uris=[CALLBACK], actor="cli:test")
    from infer0app.services import grants
    grants.approve(store, user_id=user.id, app_id=app.id, provider_id=conn.id, model=conn.default_model,
                   scope="inference", redirect_uri=CALLBACK, code_challenge=None, code_challenge_method=None)
    dash = accounts.create_user(store, DASHBOARD_USER, PASSWORD, actor="cli:test")
    return Scene(app.client_id, secret, chat.access_token, chat.grant_id, dash.id)


@dataclass
class Family:
    access: str
    refresh: str
    busy: bool = False  # an operation is in flight (or was cut off: then it stays busy for good)
    touched: bool = True  # changed since the last check


@dataclass
class Ledger:
    families: list[Family] = field(default_factory=list)
    dead: list[str] = field(default_factory=list)
    new_dead: list[str] = field(default_factory=list)  # dead since the last check
    providers: dict[str, str] = field(default_factory=dict)
    removed: set[str] = field(default_factory=set)  # connections whose removal was acknowledged
    chats: list[float] = field(default_factory=list)
    uncertain: int = 0  # operations cut off by a crash
    refused: list[str] = field(default_factory=list)  # acknowledged state the server denied: defects

    def live(self) -> list[Family]:
        return [f for f in self.families if not f.busy]

    def counts(self) -> dict:
        return {"live_families": len(self.live()), "dead_tokens": len(self.dead), "providers": len(self.providers),
                "chats": len(self.chats), "uncertain": self.uncertain}


class Traffic:
    """The clients; `run(url, stop)` drives them all until `stop` is set or the server dies."""

    def __init__(self, scene: Scene, ledger: Ledger, *, rng: random.Random, interval: float = 0.0):
        """`interval`: seconds between the starts of one client's operations (a fixed rate, for
        the soak); 0 runs each client flat out (the crash test)."""
        self.scene, self.ledger, self.rng, self.interval = scene, ledger, rng, interval
        self._names = itertools.count(1)
        self._ids: dict[str, int] = {}  # connection name -> id, from the 303's Location

    async def run(self, url: str, stop: asyncio.Event) -> None:
        timeout = aiohttp.ClientTimeout(total=30)
        async with aiohttp.ClientSession(timeout=timeout) as http:
            oauth_browser, dash_browser = Browser(url), Browser(url)
            try:
                try:
                    if not (await self._login(oauth_browser, OAUTH_USER)
                            and await self._login(dash_browser, DASHBOARD_USER)):
                        return
                except CUT_OFF:  # killed while signing in: this round's clients have nothing to do
                    return
                loops = [self._loop(stop, self._exchange, http, url, oauth_browser),
                         self._loop(stop, self._refresh, http, url),
                         self._loop(stop, self._revoke, http, url),
                         self._loop(stop, self._chat, http, url),
                         self._loop(stop, self._chat, http, url),
                         self._loop(stop, self._change_provider, dash_browser)]
                await asyncio.gather(*loops)
            finally:
                await oauth_browser.close()
                await dash_browser.close()

    async def _loop(self, stop: asyncio.Event, op, *args) -> None:
        due = time.monotonic()
        while not stop.is_set():
            try:
                await op(*args)
            except CUT_OFF:
                return  # the server is gone; the op left its tokens uncertain
            due += self.interval
            await asyncio.sleep(max(0.0, due - time.monotonic()))

    async def _login(self, browser: Browser, email: str) -> bool:
        resp, _ = await browser.login(email, PASSWORD, allow_redirects=False)
        if resp.status != 303:
            self.ledger.refused.append(f"login of {email} answered {resp.status}")
        return resp.status == 303

    def _auth(self) -> dict:
        return {"Authorization": basic(self.scene.client_id, self.scene.client_secret)}

    # -- the operations ----------------------------------------------------------------------
    async def _exchange(self, http, url, browser: Browser) -> None:
        path = f"/oauth/authorize?client_id={self.scene.client_id}&redirect_uri={CALLBACK}&response_type=code"
        async with browser.http.get(browser.url(path), allow_redirects=False) as resp:
            page = await resp.text()
        if resp.status == 200:  # the consent page (first time, or the standing grant did not cover it)
            async with browser.http.post(browser.url(path), allow_redirects=False, data={
                    "csrf_token": csrf_from(page), "decision": "approve",
                    "provider": re.search(r'name="provider" value="(\d+)"', page).group(1)}) as resp:
                await resp.read()
        if resp.status != 303:
            self.ledger.refused.append(f"authorize answered {resp.status}")
            return
        code = query_of(resp.headers["Location"])["code"]
        self.ledger.uncertain += 1
        async with http.post(url + "/v1/oauth/token", headers=self._auth(), data={
                "grant_type": "authorization_code", "code": code, "redirect_uri": CALLBACK}) as resp:
            body = await resp.json(content_type=None)
        self.ledger.uncertain -= 1
        if resp.status != 200:
            self.ledger.refused.append(f"code exchange answered {resp.status}: {body}")
            return
        self.ledger.families.append(Family(body["access_token"], body["refresh_token"]))

    def _pick(self) -> Family | None:
        live = self.ledger.live()
        if not live:
            return None
        family = self.rng.choice(live)
        family.busy = True
        return family

    async def _refresh(self, http, url) -> None:
        family = self._pick()
        if family is None:
            return
        self.ledger.uncertain += 1
        async with http.post(url + "/v1/oauth/token", headers=self._auth(), data={
                "grant_type": "refresh_token", "refresh_token": family.refresh}) as resp:
            body = await resp.json(content_type=None)
        self.ledger.uncertain -= 1
        if resp.status != 200:
            self.ledger.refused.append(f"refresh of a live token answered {resp.status}: {body}")
            return
        self._bury(family.access, family.refresh)
        family.access, family.refresh, family.busy, family.touched = (
            body["access_token"], body["refresh_token"], False, True)

    async def _revoke(self, http, url) -> None:
        if len(self.ledger.live()) < 8:  # let some families live
            await asyncio.sleep(0.01)
            return
        family = self._pick()
        token = family.refresh if self.rng.random() < 0.5 else family.access
        self.ledger.uncertain += 1
        async with http.post(url + "/v1/oauth/revoke", headers=self._auth(), data={"token": token}) as resp:
            await resp.read()
        self.ledger.uncertain -= 1
        if resp.status != 200:
            self.ledger.refused.append(f"revocation answered {resp.status}")
            return
        # Either way the family's current pair is dead (RFC 7009; see services/grants.revoke_token).
        self.ledger.families.remove(family)
        self._bury(family.access, family.refresh)

    def _bury(self, *tokens: str) -> None:
        self.ledger.dead.extend(tokens)
        self.ledger.new_dead.extend(tokens)

    async def _chat(self, http, url) -> None:
        async with http.post(url + "/v1/chat/completions",
                             headers={"Authorization": f"Bearer {self.scene.chat_token}"},
                             json={"model": "x", "messages": [{"role": "user", "content": "count me"}]}) as resp:
            body = await resp.json(content_type=None)
        if resp.status == 200 and body.get("usage"):
            self.ledger.chats.append(time.time())
        else:
            self.ledger.refused.append(f"chat answered {resp.status}: {body}")

    async def _change_provider(self, browser: Browser) -> None:
        """Adds a connection, or (once a few exist) removes one: a dashboard user's steady state."""
        _, html = await browser.get("/providers")
        if len(self.ledger.providers) > 6 and self.rng.random() < 0.6:
            await self._remove_provider(browser, csrf_from(html))
        else:
            await self._add_provider(browser, csrf_from(html))

    async def _remove_provider(self, browser: Browser, csrf: str) -> None:
        name = self.rng.choice(sorted(self.ledger.providers))
        self.ledger.providers.pop(name)  # uncertain until the answer comes
        async with browser.http.post(browser.url(f"/providers/{self._ids[name]}/delete"), allow_redirects=False,
                                     data={"csrf_token": csrf, "confirm": "yes"}) as resp:
            await resp.read()
        if resp.status != 303:
            self.ledger.refused.append(f"removing a connection answered {resp.status}")
            return
        self.ledger.removed.add(name)

    async def _add_provider(self, browser: Browser, csrf: str) -> None:
        name = f"conn-{next(self._names)}-{self.rng.randrange(10**9)}"
        key = f"sk-crash-{self.rng.randrange(10**12):012d}-abcdefWXYZ"
        async with browser.http.post(browser.url("/providers"), allow_redirects=False, data={
                "csrf_token": csrf, "kind": "openai", "name": name, "api_key": key,
                "base_url": "", "model": ""}) as resp:
            await resp.read()
        if resp.status != 303:
            self.ledger.refused.append(f"adding a connection answered {resp.status}")
            return
        self.ledger.providers[name] = key
        self._ids[name] = int(query_of(resp.headers["Location"])["added"])
