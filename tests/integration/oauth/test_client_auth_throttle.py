"""A stranger's failed client authentications cannot lock the real client out (issue 12 §3).

Failures are counted per (client, address), with a looser cap per address. The server trusts
127.0.0.1 as a proxy, so X-Forwarded-For gives the attacker and the app distinct addresses."""

from __future__ import annotations

import pytest

from tests.support.oauth import World

ATTACKER = {"X-Forwarded-For": "203.0.113.66"}
APP_HOST = {"X-Forwarded-For": "198.51.100.7"}


@pytest.fixture
async def world(server):
    w = World(await server(trusted_proxies="127.0.0.1"))
    yield w
    await w.close()


async def flood(world, client_id, n=40, *, auth=False):
    statuses = set()
    for i in range(n):
        if auth:
            resp, body = await world.post("/v1/oauth/token", {"grant_type": "authorization_code", "code": "x"},
                                          auth=(client_id, f"i0_cs_guess{i}"), headers=ATTACKER)
        else:
            resp, body = await world.post("/v1/oauth/token", {"grant_type": "authorization_code", "code": "x",
                                                              "client_id": client_id,
                                                              "client_secret": f"i0_cs_guess{i}"}, headers=ATTACKER)
        statuses.add((resp.status, body["error"]))
    return statuses


@pytest.mark.parametrize("public", [True, False])
async def test_attacker_failures_do_not_block_the_real_client(world, public):
    client_id, secret, tok, browser = await world.tokens(public=public)
    # The attacker is slowed down himself ...
    assert (429, "slow_down") in await flood(world, client_id)
    assert (429, "slow_down") in await flood(world, client_id, auth=True)
    # ... while the real client, from its own address, still refreshes and gets new codes redeemed.
    form = {"grant_type": "refresh_token", "refresh_token": tok["refresh_token"], "client_id": client_id}
    if secret:
        form["client_secret"] = secret
    resp, body = await world.post("/v1/oauth/token", form, headers=APP_HOST)
    assert resp.status == 200, body
    resp, body = await world.post("/v1/oauth/revoke", {"token": body["access_token"], "client_id": client_id,
                                                       **({"client_secret": secret} if secret else {})})
    assert resp.status == 200, body  # and from the connecting address too


async def test_confidential_client_gets_its_token_while_flooded(world):
    browser = await world.user("u@example.com")
    client_id, secret = await world.app()
    code = await world.code(browser, client_id)
    assert (429, "slow_down") in await flood(world, client_id, n=15)
    resp, body = await world.exchange(code, client_id, secret)
    assert resp.status == 200 and body["access_token"], body


async def test_the_attackers_address_is_capped_across_clients(world):
    ids = [(await world.app(name=f"App {i}"))[0] for i in range(4)]
    seen = set()
    for client_id in ids:
        seen |= await flood(world, client_id, n=9)  # under the per-pair limit each time
    assert (429, "slow_down") in seen  # but 36 failures from one address trip the address cap
    client_id, secret = await world.app(name="Fresh")
    resp, body = await world.post("/v1/oauth/token", {"grant_type": "authorization_code", "code": "x",
                                                      "client_id": client_id, "client_secret": secret},
                                  headers=APP_HOST)
    assert resp.status == 400 and body["error"] == "invalid_grant"  # authenticated; only the code is wrong
