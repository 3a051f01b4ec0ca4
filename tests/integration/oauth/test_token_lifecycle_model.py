"""The token lifecycle as a state machine (issue 18 §2), checked against a model after every step.

Hypothesis drives the real app (create_app on loopback, a real SQLite file) through authorize
(the consent's service, grants.approve), code exchange, refresh, replays of used codes and of
rotated refresh tokens, RFC 7009 revocation of access and refresh tokens, disabling and
re-enabling users and apps, deleting provider connections, and time passing (the store's
injected clock, `create_app(..., clock=)`). After every step, every token ever issued is put to
the bearer check (`GET /v1/models`) and to RFC 7662 introspection, and exactly the tokens the
model says are live must be accepted.

Caches are left to the real invalidation path: after a step moved the database's cache epoch,
the check waits (on the condition, not a sleep) until the running cache watch has dropped the
bearer cache; a step whose trigger is missing leaves stale entries and fails the check.

The model's rules are the README's (Rules worth knowing) and services/grants.py's:
- a code works once, for 10 minutes; a second use fails and revokes every token of its family
  (the tokens issued from it and their rotations);
- a refresh rotates: the old pair dies, a new one joins the family; a spent refresh token coming
  back revokes the whole authorization (every family of the grant);
- revoking an access token kills its pair's row; revoking a refresh token kills its family;
- a disabled user or app has no live tokens while disabled (their tokens come back when
  re-enabled: nothing was revoked); a disabled app cannot authenticate at all;
- deleting the grant's connection leaves the tokens valid, and /v1 answers provider_not_configured.
"""

from __future__ import annotations

import asyncio
import itertools
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, invariant, precondition, rule

from infer0app import keys
from infer0app.app import create_app
from infer0app.config import load_settings
from infer0app.runtime import cache_watch
from infer0app.services import accounts, apps, grants, providers
from infer0app.services.cache_epoch import read_epoch
from tests.support.egress import FAKES_ALLOW
from tests.support.oauth import basic

REDIRECT = "http://127.0.0.1:9/cb"
ACCESS_TTL = 3600
REFRESH_TTL = 30 * 24 * 3600
CODE_TTL = grants.CODE_TTL
USERS, APPS = 2, 2
#: How long the check waits for the cache watch (it polls every 0.02 s here) before calling the cache stale.
CACHE_WAIT = 5.0


class Clock:
    """The injected "now": real time at the start, then moved forward by the `expire` rule only."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


@dataclass
class Row:
    """One token row: an access token and its refresh token, issued together."""

    access: str
    refresh: str
    grant: int
    family: str
    issued_at: float
    revoked: bool = False
    spent: bool = False  # the refresh token was rotated


@dataclass
class Code:
    value: str
    grant: int
    family: int
    expires_at: float
    used: bool = False


@dataclass
class GrantModel:
    user: int
    app: int
    connection: int | None
    revoked: bool = False
    rows: list[Row] = field(default_factory=list)


async def _session() -> aiohttp.ClientSession:
    return aiohttp.ClientSession()


class TokenLifecycle(RuleBasedStateMachine):
    codes = Bundle("codes")
    refresh_tokens = Bundle("refresh_tokens")
    access_tokens = Bundle("access_tokens")

    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.tmp = Path(tempfile.mkdtemp(prefix="lifecycle-"))
        self.clock = Clock()
        # The cache watch polls every 20 ms instead of 250: the check waits for it after most
        # steps (hundreds per run). Same watch, same invalidation path; only the wait is shorter.
        self.fast_poll = pytest.MonkeyPatch()
        self.fast_poll.setattr(cache_watch, "POLL", 0.02)
        settings_ = load_settings({"data_dir": str(self.tmp / "data"), "upstream_allow": FAKES_ALLOW},
                                  environ={})
        self.app = create_app(settings_, clock=self.clock)
        self.srv = TestServer(self.app, host="127.0.0.1")
        self.run(self.srv.start_server())
        self.http = self.run(_session())
        self.store = self.app[keys.STORE]
        self.base = str(self.srv.make_url("")).rstrip("/")
        self.users = [accounts.create_user(self.store, f"u{i}@example.com", None, actor="cli:test").id
                      for i in range(USERS)]
        self.emails = [f"u{i}@example.com" for i in range(USERS)]
        self.connections = {u: [providers.add_connection(self.store, self.app[keys.VAULT], u, kind="sandbox").id
                                for _ in range(2)] for u in self.users}
        dev = accounts.create_user(self.store, "dev@example.com", None, actor="cli:test")
        self.apps = []
        for i in range(APPS):
            view, secret = apps.create_app(self.store, dev.id, name=f"App {i}", redirect_uris=[REDIRECT],
                                           actor="cli:test")
            self.apps.append((view.id, view.client_id, secret))
        self.user_disabled = [False] * USERS
        self.app_disabled = [False] * APPS
        self.grants: dict[int, GrantModel] = {}  # database grant id -> model
        self.families = itertools.count()
        self.code_families: dict[str, int] = {}
        self.code_models: list[Code] = []
        self.epoch = read_epoch(self.store)

    def run(self, coro):
        return self.loop.run_until_complete(coro)

    def teardown(self) -> None:
        self.run(self.http.close())
        self.run(self.srv.close())
        self.loop.close()
        self.fast_poll.undo()
        shutil.rmtree(self.tmp, ignore_errors=True)

    # -- the model ------------------------------------------------------------------------
    def _rows(self):
        for g in self.grants.values():
            yield from g.rows

    def _row_of(self, token: str) -> tuple[GrantModel, Row]:
        for g in self.grants.values():
            for r in g.rows:
                if token in (r.access, r.refresh):
                    return g, r
        raise AssertionError("token not in the model")

    def _enabled(self, g: GrantModel) -> bool:
        return not (g.revoked or self.user_disabled[g.user] or self.app_disabled[g.app])

    def _access_live(self, g: GrantModel, r: Row) -> bool:
        return self._enabled(g) and not r.revoked and r.issued_at + ACCESS_TTL > self.clock.now

    def _refresh_live(self, g: GrantModel, r: Row) -> bool:
        return self._enabled(g) and not r.revoked and not r.spent and r.issued_at + REFRESH_TTL > self.clock.now

    def _revoke_family(self, family: str) -> None:
        for r in self._rows():
            if r.family == family:
                r.revoked = True

    def _active_grant(self, user: int, app: int) -> int | None:
        for gid, g in self.grants.items():
            if g.user == user and g.app == app and not g.revoked:
                return gid
        return None

    # -- HTTP -------------------------------------------------------------------------------
    async def _post(self, path: str, app: int, form: dict) -> tuple[int, dict]:
        _, client_id, secret = self.apps[app]
        async with self.http.post(self.base + path, data=form,
                                  headers={"Authorization": basic(client_id, secret)}) as resp:
            return resp.status, (await resp.json() if resp.content_type == "application/json" else {})

    async def _bearer(self, token: str) -> tuple[int, dict]:
        async with self.http.get(self.base + "/v1/models", headers={"Authorization": f"Bearer {token}"}) as resp:
            return resp.status, await resp.json()

    # -- rules ------------------------------------------------------------------------------
    @rule(target=codes, user=st.integers(0, USERS - 1), app=st.integers(0, APPS - 1), data=st.data())
    def authorize(self, user: int, app: int, data) -> str:
        """The consent page's approval (grants.approve): the grant is created or updated, a code issued."""
        if self.user_disabled[user] or self.app_disabled[app] or not self.connections[self.users[user]]:
            return "i0_no_code"  # the consent page is not reachable; a code nobody issued
        conn = data.draw(st.sampled_from(self.connections[self.users[user]]))
        code = grants.approve(self.store, user_id=self.users[user], app_id=self.apps[app][0], provider_id=conn,
                              model="", scope="", redirect_uri=REDIRECT, code_challenge=None,
                              code_challenge_method=None)
        gid = self._active_grant(user, app)
        if gid is None:
            gid = grants.find_code(self.store, code).grant_id
            assert gid not in self.grants, "a revoked grant was reused for a new approval"
            self.grants[gid] = GrantModel(user, app, conn)
        else:
            assert grants.find_code(self.store, code).grant_id == gid, "approval did not reuse the live grant"
            self.grants[gid].connection = conn
        self.code_models.append(Code(code, gid, next(self.families), self.clock.now + CODE_TTL))
        return code

    @rule(target=refresh_tokens, code=codes)
    def exchange(self, code: str):
        """POST /oauth/token grant_type=authorization_code, with the app the code was issued to."""
        model = next((c for c in self.code_models if c.value == code), None)
        if model is None:
            return "i0_rt_never_issued"
        g = self.grants[model.grant]
        if self.app_disabled[g.app]:
            return "i0_rt_never_issued"  # it cannot authenticate (checked once, in toggle_app)
        status, body = self.run(self._post("/v1/oauth/token", g.app, {
            "grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT}))
        family = f"code{model.family}"
        if model.used:
            assert (status, body.get("error")) == (400, "invalid_grant"), (status, body)
            self._revoke_family(family)  # RFC 6749 §4.1.2: a replayed code revokes what it gave
            return "i0_rt_never_issued"
        if model.expires_at <= self.clock.now or not self._enabled(g):
            assert (status, body.get("error")) == (400, "invalid_grant"), (status, body)
            return "i0_rt_never_issued"
        assert status == 200, (status, body)
        model.used = True
        assert body["expires_in"] == ACCESS_TTL and body["token_type"].lower() == "bearer"
        g.rows.append(Row(body["access_token"], body["refresh_token"], model.grant, family, self.clock.now))
        return body["refresh_token"]

    @rule(target=refresh_tokens, token=refresh_tokens)
    def refresh(self, token: str):
        """POST /oauth/token grant_type=refresh_token; a spent token is a replay."""
        if token == "i0_rt_never_issued":
            return token
        g, r = self._row_of(token)
        if self.app_disabled[g.app]:
            return token  # it cannot authenticate (checked once, in toggle_app)
        status, body = self.run(self._post("/v1/oauth/token", g.app, {
            "grant_type": "refresh_token", "refresh_token": token}))
        if r.spent:
            assert (status, body.get("error")) == (400, "invalid_grant"), (status, body)
            g.revoked = True  # RFC 9700 §4.14.2 reuse detection: the whole authorization ends
            return "i0_rt_never_issued"
        if not self._refresh_live(g, r):
            assert (status, body.get("error")) == (400, "invalid_grant"), (status, body)
            return "i0_rt_never_issued"
        assert status == 200, (status, body)
        r.spent = r.revoked = True
        g.rows.append(Row(body["access_token"], body["refresh_token"], r.grant, r.family, self.clock.now))
        return body["refresh_token"]

    @precondition(lambda self: any(not c.used and c.expires_at - 1 > self.clock.now for c in self.code_models))
    @rule(data=st.data())
    def exchange_at_the_last_second(self, data):
        """Time passes until one second is left of a code's 10 minutes; then it must still work."""
        code = data.draw(st.sampled_from([c for c in self.code_models
                                          if not c.used and c.expires_at - 1 > self.clock.now]))
        self.clock.now = code.expires_at - 1
        self.exchange(code.value)

    @precondition(lambda self: any(c.used for c in self.code_models))
    @rule(data=st.data())
    def replay_code(self, data):
        """A used code comes back (a stolen one, or a retry): the exchange rule's replay branch."""
        self.exchange(data.draw(st.sampled_from([c.value for c in self.code_models if c.used])))

    @precondition(lambda self: any(r.spent for r in self._rows()))
    @rule(data=st.data())
    def replay_refresh(self, data):
        """A rotated refresh token comes back: the refresh rule's reuse-detection branch."""
        self.refresh(data.draw(st.sampled_from([r.refresh for r in self._rows() if r.spent])))

    @rule(target=access_tokens, token=refresh_tokens)
    def access_of(self, token: str):
        """Name the access token issued with a refresh token (so revocation can pick it)."""
        if token == "i0_rt_never_issued":
            return "i0_at_never_issued"
        return self._row_of(token)[1].access

    @rule(token=st.one_of(refresh_tokens, access_tokens), hint=st.sampled_from([None, "access_token",
                                                                               "refresh_token"]))
    def revoke(self, token: str, hint: str | None):
        """RFC 7009 revocation by the token's own app (the hint only orders the search)."""
        if token.endswith("never_issued"):
            return
        g, r = self._row_of(token)
        if self.app_disabled[g.app]:
            return  # it cannot authenticate (checked once, in toggle_app)
        form = {"token": token, **({"token_type_hint": hint} if hint else {})}
        status, body = self.run(self._post("/v1/oauth/revoke", g.app, form))
        assert status == 200, (status, body)
        if token == r.refresh:
            self._revoke_family(r.family)
        else:
            r.revoked = True

    @rule(user=st.integers(0, USERS - 1))
    def toggle_user(self, user: int):
        accounts.set_disabled(self.store, self.emails[user], not self.user_disabled[user], actor="cli:test")
        self.user_disabled[user] = not self.user_disabled[user]

    @rule(app=st.integers(0, APPS - 1))
    def toggle_app(self, app: int):
        apps.set_disabled(self.store, self.apps[app][1], not self.app_disabled[app], actor="cli:test")
        self.app_disabled[app] = not self.app_disabled[app]
        if self.app_disabled[app]:  # once per disable: the failures count toward the client-auth throttle
            status, body = self.run(self._post("/v1/oauth/introspect", app, {"token": "i0_at_x"}))
            assert (status, body.get("error")) == (401, "invalid_client"), (status, body)

    @precondition(lambda self: any(self.connections.values()))
    @rule(data=st.data())
    def delete_connection(self, data):
        user = data.draw(st.sampled_from([u for u, c in self.connections.items() if c]))
        conn = data.draw(st.sampled_from(self.connections[user]))
        providers.delete_connection(self.store, user, conn, actor="cli:test")
        self.connections[user].remove(conn)
        for g in self.grants.values():
            if g.connection == conn:
                g.connection = None

    # Just under a lifetime as well as just past it: a code or token that dies too early fails too.
    @rule(seconds=st.sampled_from([CODE_TTL - 1, CODE_TTL + 1, ACCESS_TTL - 1, ACCESS_TTL + 1, REFRESH_TTL + 1]))
    def expire(self, seconds: int):
        self.clock.now += seconds

    # -- the check ---------------------------------------------------------------------------
    async def _wait_for_cache_watch(self) -> None:
        """If the step moved the cache epoch, wait until the running cache watch dropped the
        bearer cache (the real invalidation path); never clear it by hand."""
        epoch = read_epoch(self.store)
        if epoch == self.epoch:
            return
        self.epoch = epoch
        cache = self.app[keys.TOKEN_CACHE]
        deadline = time.monotonic() + CACHE_WAIT
        while len(cache) and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        assert not len(cache), "the cache epoch moved but the bearer cache was never dropped"

    async def _check(self) -> None:
        await self._wait_for_cache_watch()
        for g in self.grants.values():
            for r in g.rows:
                status, body = await self._bearer(r.access)
                live = self._access_live(g, r)
                if not live:
                    assert status == 401, (status, body, "a dead access token was accepted")
                elif g.connection is None:
                    assert (status, body["error"]["code"]) == (409, "provider_not_configured"), (status, body)
                else:
                    assert status == 200, (status, body, "a live access token was refused")
                await self._introspect(g, r.access, live)
                await self._introspect(g, r.refresh, self._refresh_live(g, r))

    async def _introspect(self, g: GrantModel, token: str, live: bool) -> None:
        if self.app_disabled[g.app]:
            return  # it cannot authenticate; its tokens' death is the bearer check's to show
        status, body = await self._post("/v1/oauth/introspect", g.app, {"token": token})
        assert status == 200, (status, body)
        assert body["active"] is live, (body, "introspection disagrees with the model")
        if live:
            assert body["client_id"] == self.apps[g.app][1] and body["sub"] == str(self.users[g.user])

    @invariant()
    def tokens_match_the_model(self) -> None:
        self.run(self._check())


TokenLifecycle.TestCase.settings = settings(max_examples=20, stateful_step_count=20, deadline=None,
                                            suppress_health_check=[HealthCheck.too_slow,
                                                                   HealthCheck.filter_too_much])
test_token_lifecycle = TokenLifecycle.TestCase
