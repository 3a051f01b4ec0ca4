"""grant_type=authorization_code at POST /v1/oauth/token (RFC 6749 §4.1.3, RFC 7636)."""

from __future__ import annotations

import asyncio
import time

import pytest

from infer0app.services import accounts
from infer0app.store.models import AuthorizationCode, Token
from tests.support.oauth import pkce_pair


async def test_exchange_returns_the_contracted_token_response(world):
    browser = await world.user("u@example.com")
    client_id, secret = await world.app()
    code = await world.code(browser, client_id)
    resp, body = await world.exchange(code, client_id, secret)
    assert resp.status == 200
    assert set(body) == {"access_token", "token_type", "expires_in", "refresh_token", "scope"}
    assert body["token_type"] == "Bearer" and body["expires_in"] == 3600 and body["scope"] == "inference"
    assert body["access_token"].startswith("i0_at_") and body["refresh_token"].startswith("i0_rt_")
    assert len(body["access_token"]) >= 6 + 43 and len(body["refresh_token"]) >= 6 + 43
    assert resp.headers["Cache-Control"] == "no-store" and resp.headers["Content-Type"].startswith("application/json")
    me_resp, me = await world.me(body["access_token"])
    assert me_resp.status == 200 and me["client_id"] == client_id
    user = await world.store.run(accounts.get_user_by_email, "u@example.com")
    assert me["user_id"] == user.id


async def test_only_hashes_are_stored(world):
    _, _, tok, _ = await world.tokens()
    rows = await world.store.run(lambda s: list(Token.select().dicts()))
    dump = repr(rows)
    assert tok["access_token"] not in dump and tok["refresh_token"] not in dump
    assert len(rows) == 1 and rows[0]["refresh_expires_at"] - rows[0]["access_expires_at"] == 30 * 86400 - 3600


async def test_client_secret_basic_works(world):
    browser = await world.user("u@example.com")
    client_id, secret = await world.app()
    code = await world.code(browser, client_id)
    resp, body = await world.post("/v1/oauth/token", {"grant_type": "authorization_code", "code": code,
                                                      "redirect_uri": "https://app.example/callback"},
                                  auth=(client_id, secret))
    assert resp.status == 200 and body["access_token"].startswith("i0_at_")


async def test_lifetimes_follow_settings(server):
    from tests.support.oauth import World
    w = World(await server(access_token_ttl=120, refresh_token_ttl=600))
    try:
        _, _, tok, _ = await w.tokens()
        assert tok["expires_in"] == 120
        row = await w.store.run(lambda s: Token.get())
        assert round(row.refresh_expires_at - row.created_at) == 600
    finally:
        await w.close()


async def test_code_replay_fails_and_revokes_the_tokens_issued_from_it(world):
    browser = await world.user("u@example.com")
    client_id, secret = await world.app()
    code = await world.code(browser, client_id)
    _, first = await world.exchange(code, client_id, secret)
    assert (await world.me(first["access_token"]))[0].status == 200
    resp, body = await world.exchange(code, client_id, secret)
    assert resp.status == 400 and body["error"] == "invalid_grant"
    assert (await world.me(first["access_token"]))[0].status == 401
    resp, body = await world.post("/v1/oauth/token", {"grant_type": "refresh_token", "client_id": client_id,
                                                      "client_secret": secret,
                                                      "refresh_token": first["refresh_token"]})
    assert resp.status == 400 and body["error"] == "invalid_grant"


async def test_replay_also_revokes_tokens_rotated_from_the_code(world):
    browser = await world.user("u@example.com")
    client_id, secret = await world.app()
    code = await world.code(browser, client_id)
    _, first = await world.exchange(code, client_id, secret)
    _, second = await world.post("/v1/oauth/refresh", {"grant_type": "refresh_token", "client_id": client_id,
                                                       "client_secret": secret,
                                                       "refresh_token": first["refresh_token"]})
    assert (await world.me(second["access_token"]))[0].status == 200
    await world.exchange(code, client_id, secret)
    assert (await world.me(second["access_token"]))[0].status == 401


async def test_expired_code_is_refused(world):
    browser = await world.user("u@example.com")
    client_id, secret = await world.app()
    code = await world.code(browser, client_id)
    await world.store.run(lambda s: AuthorizationCode.update(expires_at=time.time() - 1).execute())
    resp, body = await world.exchange(code, client_id, secret)
    assert resp.status == 400 and body["error"] == "invalid_grant"


async def test_code_issued_to_another_client_is_refused(world):
    browser = await world.user("u@example.com")
    client_a, secret_a = await world.app(name="A")
    client_b, secret_b = await world.app(name="B")
    code = await world.code(browser, client_a)
    resp, body = await world.exchange(code, client_b, secret_b)
    assert resp.status == 400 and body["error"] == "invalid_grant"
    resp, body = await world.exchange(code, client_a, secret_a)  # the rightful client still can
    assert resp.status == 200


@pytest.mark.parametrize("redirect_uri", ["https://app.example/callback/", "https://app.example/other", None])
async def test_redirect_uri_must_match_the_authorization_request(world, redirect_uri):
    browser = await world.user("u@example.com")
    client_id, secret = await world.app(redirect_uris=("https://app.example/callback", "https://app.example/other"))
    code = await world.code(browser, client_id)
    data = {"grant_type": "authorization_code", "code": code, "client_id": client_id, "client_secret": secret}
    if redirect_uri:
        data["redirect_uri"] = redirect_uri
    resp, body = await world.post("/v1/oauth/token", data)
    assert resp.status == 400 and body["error"] == "invalid_grant"


async def test_wrong_secret_is_invalid_client_and_the_code_survives(world):
    browser = await world.user("u@example.com")
    client_id, secret = await world.app()
    code = await world.code(browser, client_id)
    resp, body = await world.exchange(code, client_id, "i0_cs_wrong")
    assert resp.status == 400 and body["error"] == "invalid_client"
    assert "WWW-Authenticate" not in resp.headers
    resp, _ = await world.exchange(code, client_id, secret)
    assert resp.status == 200


async def test_confidential_client_cannot_skip_its_secret(world):
    browser = await world.user("u@example.com")
    client_id, _ = await world.app()
    verifier, challenge = pkce_pair()
    code = await world.code(browser, client_id, code_challenge=challenge, code_challenge_method="S256")
    resp, body = await world.exchange(code, client_id, None, code_verifier=verifier)
    assert resp.status == 400 and body["error"] == "invalid_client"


async def test_concurrent_redemption_of_one_code_has_exactly_one_winner(world):
    browser = await world.user("u@example.com")
    client_id, secret = await world.app()
    code = await world.code(browser, client_id)
    results = await asyncio.gather(*[world.exchange(code, client_id, secret) for _ in range(8)])
    statuses = sorted(r.status for r, _ in results)
    assert statuses == [200] + [400] * 7
    assert all(b["error"] == "invalid_grant" for r, b in results if r.status == 400)
    assert await world.store.run(lambda s: Token.select().count()) == 1


# -- PKCE ------------------------------------------------------------------------------------
async def test_public_client_exchanges_with_verifier_and_no_secret(world):
    browser = await world.user("u@example.com")
    client_id, secret = await world.app(public=True)
    assert secret is None
    verifier, challenge = pkce_pair()
    code = await world.code(browser, client_id, code_challenge=challenge, code_challenge_method="S256")
    resp, body = await world.exchange(code, client_id, None, code_verifier=verifier)
    assert resp.status == 200 and body["refresh_token"].startswith("i0_rt_")


@pytest.mark.parametrize("verifier", ["wrong", "missing", "malformed"])
async def test_wrong_or_missing_verifier_is_refused(world, verifier):
    browser = await world.user("u@example.com")
    client_id, _ = await world.app(public=True)
    good, challenge = pkce_pair()
    code = await world.code(browser, client_id, code_challenge=challenge, code_challenge_method="S256")
    extra = {"wrong": {"code_verifier": pkce_pair()[0]}, "missing": {},
             "malformed": {"code_verifier": "short"}}[verifier]
    resp, body = await world.exchange(code, client_id, None, **extra)
    assert resp.status == 400 and body["error"] in ("invalid_grant", "invalid_request")
    if verifier == "wrong":
        assert body["error"] == "invalid_grant"
    resp, _ = await world.exchange(code, client_id, None, code_verifier=good)
    assert resp.status == 200  # failed attempts do not burn the code


async def test_verifier_is_checked_for_confidential_clients_that_sent_a_challenge(world):
    browser = await world.user("u@example.com")
    client_id, secret = await world.app()
    verifier, challenge = pkce_pair()
    code = await world.code(browser, client_id, code_challenge=challenge, code_challenge_method="S256")
    resp, body = await world.exchange(code, client_id, secret)
    assert resp.status == 400 and body["error"] == "invalid_request"
    resp, body = await world.exchange(code, client_id, secret, code_verifier=pkce_pair()[0])
    assert resp.status == 400 and body["error"] == "invalid_grant"
    resp, _ = await world.exchange(code, client_id, secret, code_verifier=verifier)
    assert resp.status == 200


async def test_verifier_without_a_challenge_is_refused(world):
    browser = await world.user("u@example.com")
    client_id, secret = await world.app()
    code = await world.code(browser, client_id)
    resp, body = await world.exchange(code, client_id, secret, code_verifier=pkce_pair()[0])
    assert resp.status == 400 and body["error"] == "invalid_request"


async def test_plain_method_is_refused_at_authorization(world):
    browser = await world.user("u@example.com")
    client_id, _ = await world.app(public=True)
    verifier = pkce_pair()[0]
    resp, _ = await browser.get(world.authorize_path(client_id, code_challenge=verifier,
                                                     code_challenge_method="plain"), allow_redirects=False)
    assert resp.status == 303 and "error=invalid_request" in resp.headers["Location"]


async def test_revoked_grant_makes_its_unused_code_worthless(world):
    from infer0app.services import grant_views, grants
    browser = await world.user("u@example.com")
    client_id, secret = await world.app()
    code = await world.code(browser, client_id)
    grant = (await world.store.run(grant_views.list_grants))[0]
    await world.store.run(grants.revoke_grant, grant.id, "cli:test")
    resp, body = await world.exchange(code, client_id, secret)
    assert resp.status == 400 and body["error"] == "invalid_grant"
