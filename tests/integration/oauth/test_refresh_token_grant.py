"""grant_type=refresh_token at /v1/oauth/refresh (the brief's endpoint) and /v1/oauth/token."""

from __future__ import annotations

import asyncio
import time

import pytest

from infer0app.store.models import Grant, Token

ENDPOINTS = ["/v1/oauth/refresh", "/v1/oauth/token"]


def refresh_form(tok, client_id, secret, **extra):
    data = {"grant_type": "refresh_token", "refresh_token": tok["refresh_token"], "client_id": client_id}
    if secret:
        data["client_secret"] = secret
    data.update(extra)
    return data


@pytest.mark.parametrize("endpoint", ENDPOINTS)
async def test_refresh_rotates_both_tokens(world, endpoint):
    client_id, secret, tok, _ = await world.tokens()
    resp, new = await world.post(endpoint, refresh_form(tok, client_id, secret))
    assert resp.status == 200 and resp.headers["Cache-Control"] == "no-store"
    assert set(new) == {"access_token", "token_type", "expires_in", "refresh_token", "scope"}
    assert new["expires_in"] == 3600 and new["token_type"] == "Bearer" and new["scope"] == "inference"
    assert new["access_token"] != tok["access_token"] and new["refresh_token"] != tok["refresh_token"]
    assert (await world.me(new["access_token"]))[0].status == 200
    assert (await world.me(tok["access_token"]))[0].status == 401  # the old access token retired with it


async def test_refresh_endpoint_accepts_a_missing_grant_type_and_refuses_others(world):
    client_id, secret, tok, browser = await world.tokens()
    data = refresh_form(tok, client_id, secret)
    del data["grant_type"]
    resp, new = await world.post("/v1/oauth/refresh", data)
    assert resp.status == 200
    code = await world.code(browser, client_id)
    resp, body = await world.post("/v1/oauth/refresh", {"grant_type": "authorization_code", "code": code,
                                                        "client_id": client_id, "client_secret": secret,
                                                        "redirect_uri": "https://app.example/callback"})
    assert resp.status == 400 and body["error"] == "unsupported_grant_type"


@pytest.mark.parametrize("endpoint", ENDPOINTS)
async def test_reusing_a_refresh_token_revokes_the_whole_grant(world, endpoint):
    client_id, secret, tok, _ = await world.tokens()
    _, second = await world.post(endpoint, refresh_form(tok, client_id, secret))
    resp, body = await world.post(endpoint, refresh_form(tok, client_id, secret))  # replay the spent one
    assert resp.status == 400 and body["error"] == "invalid_grant"
    assert "already used" in body["error_description"]
    assert (await world.me(second["access_token"]))[0].status == 401
    resp, body = await world.post(endpoint, refresh_form(second, client_id, secret))
    assert resp.status == 400 and body["error"] == "invalid_grant"
    assert await world.store.run(lambda s: Grant.get().revoked_at) is not None


async def test_concurrent_refresh_with_one_token_has_exactly_one_winner(world):
    client_id, secret, tok, _ = await world.tokens()
    results = await asyncio.gather(*[world.post("/v1/oauth/refresh", refresh_form(tok, client_id, secret))
                                     for _ in range(6)])
    assert sum(1 for r, _ in results if r.status == 200) == 1
    assert all(b["error"] == "invalid_grant" for r, b in results if r.status != 200)
    # whoever lost presented a spent token: the family is revoked
    assert await world.store.run(lambda s: Grant.get().revoked_at) is not None


async def test_another_clients_refresh_token_is_refused_without_harming_it(world):
    client_a, secret_a, tok, browser = await world.tokens()
    client_b, secret_b = await world.app(name="B")
    resp, body = await world.post("/v1/oauth/refresh", refresh_form(tok, client_b, secret_b))
    assert resp.status == 400 and body["error"] == "invalid_grant"
    resp, _ = await world.post("/v1/oauth/refresh", refresh_form(tok, client_a, secret_a))
    assert resp.status == 200


async def test_wrong_secret_on_refresh_is_invalid_client(world):
    client_id, _, tok, _ = await world.tokens()
    resp, body = await world.post("/v1/oauth/refresh", refresh_form(tok, client_id, "i0_cs_wrong"))
    assert resp.status == 400 and body["error"] == "invalid_client"


async def test_expired_refresh_token_is_refused(world):
    client_id, secret, tok, _ = await world.tokens()
    await world.store.run(lambda s: Token.update(refresh_expires_at=time.time() - 1).execute())
    resp, body = await world.post("/v1/oauth/refresh", refresh_form(tok, client_id, secret))
    assert resp.status == 400 and body["error"] == "invalid_grant"


async def test_access_token_is_not_a_refresh_token(world):
    client_id, secret, tok, _ = await world.tokens()
    resp, body = await world.post("/v1/oauth/refresh", refresh_form({"refresh_token": tok["access_token"]},
                                                                    client_id, secret))
    assert resp.status == 400 and body["error"] == "invalid_grant"


async def test_missing_refresh_token_is_invalid_request(world):
    client_id, secret, _, _ = await world.tokens()
    resp, body = await world.post("/v1/oauth/refresh", {"grant_type": "refresh_token", "client_id": client_id,
                                                        "client_secret": secret})
    assert resp.status == 400 and body["error"] == "invalid_request"


async def test_scope_can_only_narrow(world):
    client_id, secret, tok, _ = await world.tokens()
    resp, body = await world.post("/v1/oauth/refresh", refresh_form(tok, client_id, secret, scope="admin"))
    assert resp.status == 400 and body["error"] == "invalid_scope"
    resp, body = await world.post("/v1/oauth/refresh", refresh_form(tok, client_id, secret, scope="inference"))
    assert resp.status == 200 and body["scope"] == "inference"


async def test_public_client_refreshes_with_client_id_only(world):
    client_id, secret, tok, _ = await world.tokens(public=True)
    assert secret is None
    resp, new = await world.post("/v1/oauth/refresh", refresh_form(tok, client_id, None))
    assert resp.status == 200 and (await world.me(new["access_token"]))[0].status == 200


async def test_refresh_after_grant_revoked_fails(world):
    from infer0app.services import grant_views, grants
    client_id, secret, tok, _ = await world.tokens()
    grant = (await world.store.run(grant_views.list_grants))[0]
    await world.store.run(grants.revoke_grant, grant.id, "cli:test")
    resp, body = await world.post("/v1/oauth/refresh", refresh_form(tok, client_id, secret))
    assert resp.status == 400 and body["error"] == "invalid_grant"


async def test_disabled_user_cannot_refresh(world):
    from infer0app.services import accounts
    client_id, secret, tok, _ = await world.tokens("gone@example.com")
    await world.store.run(accounts.set_disabled, "gone@example.com", True, actor="cli:test")
    resp, body = await world.post("/v1/oauth/refresh", refresh_form(tok, client_id, secret))
    assert resp.status == 400 and body["error"] == "invalid_grant"
