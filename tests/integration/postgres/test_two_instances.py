"""Two `infer0 serve` processes sharing one PostgreSQL database (issue 15): one winner among
parallel redemptions of a code spread over both, and a revocation on one biting on the other."""

from __future__ import annotations

import asyncio

import aiohttp

from infer0app.runtime.cache_watch import POLL
from tests.support.oauth import basic
from tests.support.served_flow import CALLBACK, approved_code


async def _redeem(http, url: str, app: dict, code: str) -> tuple[int, dict]:
    async with http.post(url + "/v1/oauth/token", data={"grant_type": "authorization_code", "code": code,
                                                      "redirect_uri": CALLBACK},
                         headers={"Authorization": basic(app["client_id"], app["client_secret"])}) as resp:
        return resp.status, await resp.json(content_type=None)


async def _me(http, url: str, access_token: str) -> int:
    async with http.get(url + "/v1/me", headers={"Authorization": f"Bearer {access_token}"}) as resp:
        return resp.status


async def test_twenty_parallel_redemptions_over_two_instances_have_one_winner(serve_process, second_instance,
                                                                              data_dir):
    a = serve_process()
    b = second_instance()
    app, code = await approved_code(a.url, data_dir)
    async with aiohttp.ClientSession() as http:
        results = await asyncio.gather(*(_redeem(http, (a, b)[i % 2].url, app, code) for i in range(20)))
        winners = [body for status, body in results if status == 200]
        assert len(winners) == 1, results
        assert all(status == 400 and body["error"] == "invalid_grant" for status, body in results if status != 200)
        # The replays revoked what the code issued (RFC 6749 §4.1.2), on both instances.
        token = winners[0]["access_token"]
        assert await _me(http, a.url, token) == 401 and await _me(http, b.url, token) == 401


async def test_a_revocation_on_one_instance_bites_on_the_other_within_a_second(serve_process, second_instance,
                                                                               data_dir):
    a = serve_process()
    b = second_instance()
    app, code = await approved_code(a.url, data_dir)
    async with aiohttp.ClientSession() as http:
        status, tokens = await _redeem(http, a.url, app, code)
        assert status == 200, tokens
        await asyncio.sleep(4 * POLL)  # let both caches settle after the consent's own epoch moves
        token = tokens["access_token"]
        assert await _me(http, a.url, token) == 200  # issued on A, now cached on A
        assert await _me(http, b.url, token) == 200  # and valid on B
        async with http.post(b.url + "/v1/oauth/revoke", data={"token": token},
                             headers={"Authorization": basic(app["client_id"], app["client_secret"])}) as resp:
            assert resp.status == 200
        await asyncio.sleep(1.0)  # the promise: within a second on every instance
        assert await _me(http, a.url, token) == 401
        assert await _me(http, b.url, token) == 401


async def _refresh(http, url: str, app: dict, refresh_token: str) -> tuple[int, dict]:
    async with http.post(url + "/v1/oauth/token", data={"grant_type": "refresh_token", "refresh_token": refresh_token},
                         headers={"Authorization": basic(app["client_id"], app["client_secret"])}) as resp:
        return resp.status, await resp.json(content_type=None)


async def test_twenty_parallel_rotations_of_one_refresh_token_over_two_instances_have_one_winner(
        serve_process, second_instance, data_dir):
    a = serve_process()
    b = second_instance()
    app, code = await approved_code(a.url, data_dir)
    async with aiohttp.ClientSession() as http:
        status, tokens = await _redeem(http, b.url, app, code)
        assert status == 200, tokens
        results = await asyncio.gather(*(_refresh(http, (a, b)[i % 2].url, app, tokens["refresh_token"])
                                         for i in range(20)))
    winners = [body for status, body in results if status == 200]
    assert len(winners) == 1, results
    assert all(status == 400 and body["error"] == "invalid_grant" for status, body in results if status != 200)
