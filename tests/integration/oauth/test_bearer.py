"""Bearer access tokens on /v1 (GET /v1/me), and the error language of everything under /v1."""

from __future__ import annotations

import time

import pytest

from infer0app.services import accounts, apps, grant_views, grants
from infer0app.store.models import Token
from tests.support.waits import caches_caught_up


async def get(world, path, **headers):
    async with world.http.get(world.base + path, headers=headers) as resp:
        return resp, await resp.json(content_type=None)


async def test_me_shows_user_app_provider_and_model_never_the_key(world):
    browser = await world.user("u@example.com", sandbox=False)
    conn = await world.connection("u@example.com", kind="openai", name="Work", model="gpt-4o-mini")
    client_id, secret = await world.app(name="Acme")
    code = await world.code(browser, client_id)
    _, tok = await world.exchange(code, client_id, secret)
    resp, me = await world.me(tok["access_token"])
    assert resp.status == 200 and resp.headers["Cache-Control"] == "no-store"
    assert me["client_id"] == client_id and me["app"]["name"] == "Acme"
    assert me["provider"] == {"id": conn.id, "kind": "openai"} and me["model"] == "gpt-4o-mini"
    assert "sk-test" not in str(me) and "key" not in str(me).lower()


@pytest.mark.parametrize("header", [None, "Bearer", "Bearer ", "Basic abc", "bearer i0_at_nope", "Bearer i0_rt_x",
                                    "Token i0_at_x"])
async def test_missing_or_bad_tokens_are_401_in_openai_format(world, header):
    resp, body = await get(world, "/v1/me", **({"Authorization": header} if header else {}))
    assert resp.status == 401
    challenge = resp.headers["WWW-Authenticate"]
    assert challenge.startswith('Bearer realm="infer0"') and "resource_metadata=" in challenge
    # RFC 6750 §3.1: no credentials at all (or another scheme): no error code in the challenge;
    # a Bearer token that is not valid: error="invalid_token".
    sent_a_token = header is not None and header.lower().startswith("bearer ") and header.strip() != "Bearer"
    assert ('error="invalid_token"' in challenge) is sent_a_token
    assert ("error_description" in challenge) is sent_a_token
    assert set(body["error"]) == {"message", "type", "code", "param"}
    assert body["error"]["code"] == "invalid_token" and body["error"]["message"]
    assert resp.headers["Content-Type"].startswith("application/json")
    assert resp.headers["Cache-Control"] == "no-store"


async def test_token_in_the_url_is_never_accepted(world):
    _, _, tok, _ = await world.tokens()
    resp, body = await get(world, "/v1/me?access_token=" + tok["access_token"])
    assert resp.status == 400 and 'error="invalid_request"' in resp.headers["WWW-Authenticate"]
    assert "Authorization header" in body["error"]["message"]  # tells the developer what to do
    resp, body = await get(world, "/v1/me?access_token=" + tok["access_token"],
                           Authorization=f"Bearer {tok['access_token']}")
    assert resp.status == 400


async def test_expired_access_token(world):
    _, _, tok, _ = await world.tokens()
    await world.store.run(lambda s: Token.update(access_expires_at=time.time() - 1).execute())
    assert (await world.me(tok["access_token"]))[0].status == 401


async def test_revocation_by_another_process_bites_within_a_second(world):
    _, _, tok, _ = await world.tokens()
    assert (await world.me(tok["access_token"]))[0].status == 200
    grant = (await world.store.run(grant_views.list_grants))[0]
    # the CLI or the admin TUI writes to the same SQLite; this process only sees the database
    await world.store.run(grants.revoke_grant, grant.id, "cli:test")
    await caches_caught_up(world.srv.app)  # the cache watch saw the revocation (it polls every 0.25 s)
    assert (await world.me(tok["access_token"]))[0].status == 401


async def test_disabling_the_user_or_the_app_stops_tokens(world):
    client_id, _, tok, _ = await world.tokens("u@example.com")
    assert (await world.me(tok["access_token"]))[0].status == 200  # cached now
    await world.store.run(accounts.set_disabled, "u@example.com", True, actor="cli:test")
    await caches_caught_up(world.srv.app)
    assert (await world.me(tok["access_token"]))[0].status == 401
    await world.store.run(accounts.set_disabled, "u@example.com", False, actor="cli:test")
    await caches_caught_up(world.srv.app)
    assert (await world.me(tok["access_token"]))[0].status == 200
    await world.store.run(apps.set_disabled, client_id, True, actor="cli:test")
    await caches_caught_up(world.srv.app)
    assert (await world.me(tok["access_token"]))[0].status == 401


async def test_resolve_access_token_context(world):
    client_id, _, tok, _ = await world.tokens("u@example.com")
    ctx = await world.store.run(grants.resolve_access_token, tok["access_token"])
    user = await world.store.run(accounts.get_user_by_email, "u@example.com")
    assert ctx.user_id == user.id and ctx.user_email == "u@example.com" and ctx.client_id == client_id
    assert ctx.provider_kind == "sandbox" and ctx.model == "sandbox-echo-1" and ctx.scope == "inference"
    assert ctx.expires_at > time.time() + 3500
    assert await world.store.run(grants.resolve_access_token, tok["refresh_token"]) is None
    assert await world.store.run(grants.resolve_access_token, "i0_at_unknown") is None


async def test_v1_errors_are_openai_shaped(world):
    resp, body = await get(world, "/v1/nothing-here")
    assert resp.status == 404 and body["error"]["code"] == "not_found" and "message" in body["error"]
    async with world.http.post(world.base + "/v1/me") as resp:
        body = await resp.json()
        assert resp.status == 405 and body["error"]["type"] == "invalid_request_error"


async def test_cors_on_api(world):
    async with world.http.options(world.base + "/v1/me", headers={
            "Origin": "https://spa.example", "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "authorization"}) as resp:
        assert resp.status == 204 and resp.headers["Access-Control-Allow-Origin"] == "*"
        assert "authorization" in resp.headers["Access-Control-Allow-Headers"].lower()
    resp, _ = await get(world, "/v1/me", Origin="https://spa.example")
    assert resp.headers["Access-Control-Allow-Origin"] == "*"
    assert "WWW-Authenticate" in resp.headers["Access-Control-Expose-Headers"]
