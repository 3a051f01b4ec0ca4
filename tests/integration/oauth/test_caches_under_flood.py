"""The bearer-token and provider-target caches keep real entries while a flood of bogus ones
passes through (issue 12 §5): unknown keys live in a small cache of their own, so they can never
push a live token or an opened target back to SQLite. DB lookups are counted with a spy that
calls through to the real function."""

from __future__ import annotations

import asyncio
import secrets

from infer0app import keys
from infer0app.runtime import target_cache as target_cache_module
from infer0app.services import grants as grants_svc
from infer0app.services.secrets_util import sha256_hex
from tests.support.waits import caches_caught_up


def count_calls(monkeypatch, module, name):
    real = getattr(module, name)
    calls = []

    def spy(*args, **kwargs):
        calls.append(args[-1])
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, spy)
    return calls


async def test_a_flood_of_bogus_tokens_does_not_evict_the_real_one(world, monkeypatch):
    _, _, tok, _ = await world.tokens()
    # Consent wrote the grant and its limits, which moves the cache epoch: let the cache watch see
    # that move before counting, or its one clear lands mid-flood.
    await caches_caught_up(world.srv.app)
    lookups = count_calls(monkeypatch, grants_svc, "resolve_access_token_hash")
    resp, _ = await world.me(tok["access_token"])
    assert resp.status == 200 and len(lookups) == 1  # first use: read from SQLite, then cached
    # Bogus tokens through the real endpoint: each is looked up once, then answered from the cache.
    bogus = [grants_svc.ACCESS_PREFIX + secrets.token_urlsafe(32) for _ in range(300)]
    for chunk in range(0, len(bogus), 50):
        answers = await asyncio.gather(*(world.me(t) for t in bogus[chunk:chunk + 50]))
        assert all(r.status == 401 for r, _ in answers)
    seen = len(lookups)  # a bogus token seen recently is answered from the (negative) cache
    assert (await world.me(bogus[-1]))[0].status == 401 and len(lookups) == seen
    # ... and 100k more misses, recorded the way a miss records them.
    cache = world.srv.app[keys.TOKEN_CACHE]
    for _ in range(100_000):
        cache.put(sha256_hex(grants_svc.ACCESS_PREFIX + secrets.token_urlsafe(32)), None)
    before = len(lookups)
    for _ in range(3):
        resp, _ = await world.me(tok["access_token"])
        assert resp.status == 200
    assert len(lookups) == before, "the real token went back to SQLite after the flood"


async def test_revocation_still_empties_the_bearer_cache(world):
    client_id, secret, tok, _ = await world.tokens()
    assert (await world.me(tok["access_token"]))[0].status == 200
    resp, _ = await world.post("/v1/oauth/revoke", {"token": tok["access_token"], "client_id": client_id,
                                                    "client_secret": secret})
    assert resp.status == 200
    assert (await world.me(tok["access_token"]))[0].status == 401


async def test_lookups_of_missing_connections_do_not_evict_an_opened_target(world, monkeypatch):
    await world.user("t@example.com", sandbox=False)
    conn = await world.connection("t@example.com", kind="openai", name="Work", model="gpt-4o-mini")
    loads = count_calls(monkeypatch, target_cache_module, "load_target")
    targets = world.srv.app[keys.TARGETS]
    first = await targets.get(conn.id, "gpt-4o-mini")
    assert first is not None and len(loads) == 1
    for missing in range(conn.id + 1, conn.id + 10_050):  # more than the cache's whole size
        assert await targets.get(missing, "m") is None
    assert await targets.get(conn.id, "gpt-4o-mini") is first
    assert len(loads) == 1 + 10_049, "the opened target was loaded again after the flood"


async def test_the_cache_epoch_still_clears_both_caches(world):
    from infer0app.store.models import ProviderConnection
    _, _, tok, _ = await world.tokens()
    await world.me(tok["access_token"])
    app = world.srv.app
    await caches_caught_up(app)
    await world.me(tok["access_token"])
    assert len(app[keys.TOKEN_CACHE]) >= 1
    # any write that moves the cache epoch (here a renamed connection, as from the CLI) empties both
    await world.store.run(lambda s: ProviderConnection.update(name="renamed").execute())
    await caches_caught_up(app)
    assert len(app[keys.TOKEN_CACHE]) == 0 and len(app[keys.TARGETS]) == 0
