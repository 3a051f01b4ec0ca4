"""POST /v1/oauth/revoke (RFC 7009)."""

from __future__ import annotations

import pytest

from tests.support.oauth import basic


async def test_revoking_the_access_token_stops_it_at_once(world):
    client_id, secret, tok, _ = await world.tokens()
    assert (await world.me(tok["access_token"]))[0].status == 200  # now in the bearer cache
    resp, body = await world.post("/v1/oauth/revoke", {"token": tok["access_token"], "client_id": client_id,
                                                       "client_secret": secret})
    assert resp.status == 200 and body == {}
    assert resp.headers["Cache-Control"] == "no-store"
    assert (await world.me(tok["access_token"]))[0].status == 401


async def test_revoking_the_refresh_token_revokes_its_family(world):
    client_id, secret, tok, _ = await world.tokens()
    _, new = await world.post("/v1/oauth/refresh", {"grant_type": "refresh_token", "client_id": client_id,
                                                    "client_secret": secret, "refresh_token": tok["refresh_token"]})
    resp, _ = await world.post("/v1/oauth/revoke", {"token": new["refresh_token"], "token_type_hint": "refresh_token"},
                               headers={"Authorization": basic(client_id, secret)})
    assert resp.status == 200
    assert (await world.me(new["access_token"]))[0].status == 401
    resp, body = await world.post("/v1/oauth/refresh", {"client_id": client_id, "client_secret": secret,
                                                        "refresh_token": new["refresh_token"]})
    assert resp.status == 400 and body["error"] == "invalid_grant"


async def test_other_families_of_the_same_grant_survive(world):
    client_id, secret, first, browser = await world.tokens()
    code = await world.code(browser, client_id)  # the same user signs in on a second device
    _, second = await world.exchange(code, client_id, secret)
    await world.post("/v1/oauth/revoke", {"token": first["refresh_token"], "client_id": client_id,
                                          "client_secret": secret})
    assert (await world.me(first["access_token"]))[0].status == 401
    assert (await world.me(second["access_token"]))[0].status == 200


async def test_unknown_or_already_revoked_token_is_still_200(world):
    client_id, secret, tok, _ = await world.tokens()
    for token in ("i0_at_unknown", tok["access_token"], tok["access_token"]):
        resp, body = await world.post("/v1/oauth/revoke", {"token": token, "client_id": client_id,
                                                           "client_secret": secret})
        assert resp.status == 200


async def test_another_client_cannot_revoke_my_token(world):
    client_id, secret, tok, _ = await world.tokens()
    other_id, other_secret = await world.app(name="Other")
    resp, body = await world.post("/v1/oauth/revoke", {"token": tok["access_token"], "client_id": other_id,
                                                       "client_secret": other_secret})
    assert resp.status == 400 and body["error"] == "invalid_grant"
    assert (await world.me(tok["access_token"]))[0].status == 200


async def test_revocation_requires_client_authentication(world):
    client_id, secret, tok, _ = await world.tokens()
    resp, body = await world.post("/v1/oauth/revoke", {"token": tok["access_token"], "client_id": client_id})
    assert resp.status == 400 and body["error"] == "invalid_client"
    resp, body = await world.post("/v1/oauth/revoke", {"token": tok["access_token"]},
                                  headers={"Authorization": basic(client_id, "wrong")})
    assert resp.status == 401 and body["error"] == "invalid_client" and "WWW-Authenticate" in resp.headers
    assert (await world.me(tok["access_token"]))[0].status == 200


async def test_public_client_revokes_with_its_client_id(world):
    client_id, _, tok, _ = await world.tokens(public=True)
    resp, _ = await world.post("/v1/oauth/revoke", {"token": tok["refresh_token"], "client_id": client_id})
    assert resp.status == 200
    assert (await world.me(tok["access_token"]))[0].status == 401


async def test_missing_token_and_bad_hint(world):
    client_id, secret, tok, _ = await world.tokens()
    resp, body = await world.post("/v1/oauth/revoke", {"client_id": client_id, "client_secret": secret})
    assert resp.status == 400 and body["error"] == "invalid_request"
    resp, body = await world.post("/v1/oauth/revoke", {"token": "", "client_id": client_id, "client_secret": secret})
    assert resp.status == 400 and body["error"] == "invalid_request"  # RFC 6749 §3.1: empty is missing


# RFC 7009 §2.1: token_type_hint is only a hint; an unknown one is ignored, a wrong one extends the search.
@pytest.mark.parametrize("hint", ["id_token", "access_token", "refresh_token", "bogus", "\u00e9", ""])
async def test_any_hint_revokes_a_refresh_token(world, hint):
    client_id, secret, tok, _ = await world.tokens()
    resp, body = await world.post("/v1/oauth/revoke", {"token": tok["refresh_token"], "token_type_hint": hint,
                                                       "client_id": client_id, "client_secret": secret})
    assert resp.status == 200 and body == {}, body
    resp, body = await world.post("/v1/oauth/refresh", {"refresh_token": tok["refresh_token"],
                                                        "client_id": client_id, "client_secret": secret})
    assert resp.status == 400 and body["error"] == "invalid_grant"
    assert (await world.me(tok["access_token"]))[0].status == 401  # the family went with it


@pytest.mark.parametrize("hint", ["id_token", "refresh_token", "urn:ietf:params:oauth:token-type:jwt"])
async def test_any_hint_revokes_an_access_token(world, hint):
    client_id, secret, tok, _ = await world.tokens()
    resp, _ = await world.post("/v1/oauth/revoke", {"token": tok["access_token"], "token_type_hint": hint},
                               auth=(client_id, secret))
    assert resp.status == 200
    assert (await world.me(tok["access_token"]))[0].status == 401
