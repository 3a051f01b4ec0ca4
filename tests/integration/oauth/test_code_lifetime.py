"""An authorization code lives 10 minutes (RFC 6749 §4.1.2's recommended maximum, and the
hosted original's contract): redeemable until then, refused after. Time passes by moving the
stored code back in time, as the clock would."""

from __future__ import annotations

import pytest

from infer0app.store.models import AuthorizationCode


async def age_codes(world, seconds: float) -> None:
    """Make every stored code `seconds` older (issued and expiring that much earlier)."""
    await world.store.run(lambda s: AuthorizationCode.update(
        created_at=AuthorizationCode.created_at - seconds,
        expires_at=AuthorizationCode.expires_at - seconds).execute())


@pytest.mark.parametrize("age, redeemable", [(9 * 60 + 30, True), (10 * 60 + 5, False)])
async def test_a_code_lives_ten_minutes(world, age, redeemable):
    browser = await world.user("u@example.com")
    client_id, secret = await world.app()
    code = await world.code(browser, client_id)
    await age_codes(world, age)
    resp, body = await world.exchange(code, client_id, secret)
    if redeemable:
        assert resp.status == 200 and body["access_token"], body
    else:
        assert resp.status == 400 and body["error"] == "invalid_grant", body
