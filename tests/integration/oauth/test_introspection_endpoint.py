"""POST /v1/oauth/introspect (RFC 7662): client-authenticated, own tokens only."""

from __future__ import annotations

import pytest

from tests.support.oauth import basic


async def test_active_access_token(world):
    client_id, secret, tok, _ = await world.tokens()
    resp, body = await world.post("/v1/oauth/introspect", {"token": tok["access_token"]},
                                  headers={"Authorization": basic(client_id, secret)})
    assert resp.status == 200 and resp.headers["Cache-Control"] == "no-store"
    assert body["active"] is True and body["client_id"] == client_id and body["scope"] == "inference"
    assert body["token_type"] == "Bearer" and body["iss"] == world.issuer
    assert body["exp"] - body["iat"] == 3600 and body["sub"].isdigit()
    assert "u@example.com" not in str(body) and "user@example.com" not in str(body)


async def test_refresh_token_and_post_authentication(world):
    client_id, secret, tok, _ = await world.tokens()
    resp, body = await world.post("/v1/oauth/introspect", {"token": tok["refresh_token"], "client_id": client_id,
                                                           "client_secret": secret,
                                                           "token_type_hint": "refresh_token"})
    assert body["active"] is True and body["token_type"] == "refresh_token"
    assert body["exp"] - body["iat"] == 30 * 86400


async def test_inactive_when_revoked_spent_unknown_or_foreign(world):
    client_id, secret, tok, _ = await world.tokens()
    other_id, other_secret = await world.app(name="Other")
    auth = {"Authorization": basic(client_id, secret)}
    _, body = await world.post("/v1/oauth/introspect", {"token": "i0_at_nope"}, headers=auth)
    assert body == {"active": False}
    _, body = await world.post("/v1/oauth/introspect", {"token": tok["access_token"]},
                               headers={"Authorization": basic(other_id, other_secret)})
    assert body == {"active": False}
    await world.post("/v1/oauth/refresh", {"client_id": client_id, "client_secret": secret,
                                           "refresh_token": tok["refresh_token"]})
    for token in (tok["access_token"], tok["refresh_token"]):  # rotated out
        _, body = await world.post("/v1/oauth/introspect", {"token": token}, headers=auth)
        assert body == {"active": False}


async def test_public_clients_and_anonymous_callers_cannot_introspect(world):
    client_id, _, tok, _ = await world.tokens(public=True)
    # RFC 7662 §2.3: a caller that fails to authenticate here gets 401, whatever the method.
    resp, body = await world.post("/v1/oauth/introspect", {"token": tok["access_token"], "client_id": client_id})
    assert resp.status == 401 and body["error"] == "invalid_client" and "WWW-Authenticate" in resp.headers
    resp, body = await world.post("/v1/oauth/introspect", {"token": tok["access_token"]})
    assert resp.status == 401 and body["error"] == "invalid_client"


# RFC 7662 §2.1: an unknown token_type_hint is ignored, a wrong one extends the search.
@pytest.mark.parametrize("hint", ["id_token", "access_token", "bogus", "\u00e9"])
async def test_any_hint_finds_a_refresh_token(world, hint):
    client_id, secret, tok, _ = await world.tokens()
    resp, body = await world.post("/v1/oauth/introspect", {"token": tok["refresh_token"], "token_type_hint": hint},
                                  auth=(client_id, secret))
    assert resp.status == 200 and body["active"] is True and body["client_id"] == client_id, body
