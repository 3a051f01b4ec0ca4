"""purge_expired: dead codes and tokens go; what replay and reuse detection need stays."""

from __future__ import annotations

import time

from infer0app.services import grants
from infer0app.store.models import AuthorizationCode, Token


async def test_purge_keeps_what_detection_needs_and_drops_the_rest(world):
    client_id, secret, tok, _ = await world.tokens()
    _, new = await world.post("/v1/oauth/refresh", {"client_id": client_id, "client_secret": secret,
                                                    "refresh_token": tok["refresh_token"]})
    later = time.time() + 2 * 3600 + grants.RETENTION  # access tokens long expired, refresh tokens alive
    assert await world.store.run(grants.purge_expired, later) == 1  # only the code
    assert await world.store.run(lambda s: Token.select().count()) == 2  # the spent refresh token stays
    resp, body = await world.post("/v1/oauth/refresh", {"client_id": client_id, "client_secret": secret,
                                                        "refresh_token": tok["refresh_token"]})
    assert body["error"] == "invalid_grant"  # reuse still detected...
    assert (await world.me(new["access_token"]))[0].status == 401  # ...and still revokes the family

    much_later = time.time() + 31 * 86400 + grants.RETENTION
    assert await world.store.run(grants.purge_expired, much_later) == 2
    assert await world.store.run(lambda s: (Token.select().count(), AuthorizationCode.select().count())) == (0, 0)
