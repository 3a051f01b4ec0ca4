"""A refresh token presented twice at once: reuse detection by default, and the operator's
--refresh-reuse-interval grace for the same client (issue 12 §5)."""

from __future__ import annotations

import asyncio

import pytest

from infer0app.config import SettingsError, load_settings
from infer0app.store.models import Token
from tests.support.oauth import World


def refresh_form(client_id, secret, refresh_token):
    return {"grant_type": "refresh_token", "refresh_token": refresh_token, "client_id": client_id,
            "client_secret": secret}


async def twice_at_once(world, client_id, secret, refresh_token):
    return await asyncio.gather(*(world.post("/v1/oauth/token", refresh_form(client_id, secret, refresh_token))
                                  for _ in range(2)))


async def age_spent_tokens(world, seconds):
    """Move every spend `seconds` into the past (instead of sleeping through the interval)."""
    def age(store):
        with store.write():
            Token.update(refresh_used_at=Token.refresh_used_at - seconds).where(
                Token.refresh_used_at.is_null(False)).execute()
    await world.store.run(age)


async def test_by_default_a_concurrent_double_present_revokes_the_family(world):
    client_id, secret, tok, _ = await world.tokens()
    answers = await twice_at_once(world, client_id, secret, tok["refresh_token"])
    assert sorted(r.status for r, _ in answers) == [200, 400]
    winner = next(body for r, body in answers if r.status == 200)
    loser = next(body for r, body in answers if r.status == 400)
    assert loser["error"] == "invalid_grant"
    assert (await world.me(winner["access_token"]))[0].status == 401  # the whole family went
    resp, body = await world.post("/v1/oauth/token", refresh_form(client_id, secret, winner["refresh_token"]))
    assert resp.status == 400 and body["error"] == "invalid_grant"


@pytest.fixture
async def graceful(server):
    w = World(await server(refresh_reuse_interval=30))
    yield w
    await w.close()


async def test_within_the_interval_both_presents_succeed_and_the_family_lives(graceful):
    world = graceful
    client_id, secret, tok, _ = await world.tokens()
    answers = await twice_at_once(world, client_id, secret, tok["refresh_token"])
    assert [r.status for r, _ in answers] == [200, 200], answers
    (_, a), (_, b) = answers
    assert a["refresh_token"] != b["refresh_token"] and a["access_token"] != b["access_token"]
    for pair in (a, b):  # both new pairs work, and both refresh on
        assert (await world.me(pair["access_token"]))[0].status == 200
    resp, c = await world.post("/v1/oauth/token", refresh_form(client_id, secret, a["refresh_token"]))
    assert resp.status == 200
    assert (await world.me(c["access_token"]))[0].status == 200
    assert (await world.me(tok["access_token"]))[0].status == 401  # the spent pair's access token is gone


async def test_a_sequential_retry_within_the_interval_gets_a_fresh_pair(graceful):
    world = graceful
    client_id, secret, tok, _ = await world.tokens()
    first = (await world.post("/v1/oauth/refresh", refresh_form(client_id, secret, tok["refresh_token"])))[1]
    resp, again = await world.post("/v1/oauth/refresh", refresh_form(client_id, secret, tok["refresh_token"]))
    assert resp.status == 200 and again["refresh_token"] != first["refresh_token"]
    assert (await world.me(first["access_token"]))[0].status == 200


async def test_a_late_replay_after_the_interval_still_revokes_the_family(graceful):
    world = graceful
    client_id, secret, tok, _ = await world.tokens()
    resp, new = await world.post("/v1/oauth/token", refresh_form(client_id, secret, tok["refresh_token"]))
    assert resp.status == 200
    await age_spent_tokens(world, 31)
    resp, body = await world.post("/v1/oauth/token", refresh_form(client_id, secret, tok["refresh_token"]))
    assert resp.status == 400 and body["error"] == "invalid_grant"
    assert (await world.me(new["access_token"]))[0].status == 401
    resp, _ = await world.post("/v1/oauth/token", refresh_form(client_id, secret, new["refresh_token"]))
    assert resp.status == 400


async def test_a_replay_of_an_older_generation_still_revokes(graceful):
    world = graceful
    client_id, secret, tok, _ = await world.tokens()
    _, r1 = await world.post("/v1/oauth/token", refresh_form(client_id, secret, tok["refresh_token"]))
    _, r2 = await world.post("/v1/oauth/token", refresh_form(client_id, secret, r1["refresh_token"]))
    # r1 was spent: the original token is no longer "just rotated", even inside the interval.
    resp, body = await world.post("/v1/oauth/token", refresh_form(client_id, secret, tok["refresh_token"]))
    assert resp.status == 400 and body["error"] == "invalid_grant"
    assert (await world.me(r2["access_token"]))[0].status == 401


async def test_a_revoked_family_is_not_revived_by_the_interval(graceful):
    world = graceful
    client_id, secret, tok, _ = await world.tokens()
    _, new = await world.post("/v1/oauth/token", refresh_form(client_id, secret, tok["refresh_token"]))
    resp, _ = await world.post("/v1/oauth/revoke", {"token": new["refresh_token"], "client_id": client_id,
                                                    "client_secret": secret})
    assert resp.status == 200
    resp, body = await world.post("/v1/oauth/token", refresh_form(client_id, secret, tok["refresh_token"]))
    assert resp.status == 400 and body["error"] == "invalid_grant"


async def test_another_client_gets_no_grace(graceful):
    world = graceful
    client_id, secret, tok, _ = await world.tokens()
    other_id, other_secret = await world.app(name="Other")
    await world.post("/v1/oauth/token", refresh_form(client_id, secret, tok["refresh_token"]))
    resp, body = await world.post("/v1/oauth/token", refresh_form(other_id, other_secret, tok["refresh_token"]))
    assert resp.status == 400 and body["error"] == "invalid_grant"


@pytest.mark.parametrize("value", ["-1", "301", "soon"])
def test_the_setting_is_checked(value):
    with pytest.raises(SettingsError, match="--refresh-reuse-interval"):
        load_settings({"refresh_reuse_interval": value}, environ={})
