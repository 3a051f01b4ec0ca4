"""Two `infer0 serve` processes on one PostgreSQL database, as two hosts behind a load balancer
(issue 15): what one instance issues or revokes holds on the other, a grant's request limit is
one limit over both, a KEK rotation completes with both live once each holds the new keyring,
and a kill -9 of one instance under load loses nothing it acknowledged.

(One-winner redemption and rotation over both are in test_two_instances.py.) Each instance has
a data dir of its own with a copy of the keyring (the `second_instance` fixture).
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import sys
import time

import aiohttp

from infer0app.services import runtime
from infer0app.services.grant_limits import GrantLimits, set_grant_limits
from infer0app.vault.keyring import Vault
from tests.fakes import run_fake
from tests.support.backend import open_data_dir
from tests.support.egress import FAKES_ALLOW
from tests.support.limits import away_from_minute_edge
from tests.support.oauth import basic
from tests.support.processes import ROOT, cli_env
from tests.support.sdk_calls import chat_status
from tests.support.seed import seed_grant


def _seed(data_dir, count: int = 1, **kw):
    store, vault = open_data_dir(data_dir)
    try:
        return [seed_grant(store, vault, **kw) for _ in range(count)]
    finally:
        store.close()


async def _me(http, url: str, token: str) -> int:
    async with http.get(url + "/v1/me", headers={"Authorization": f"Bearer {token}"}) as resp:
        return resp.status


async def _until(check, deadline_s: float):
    """Polls the async `check()` until it returns truthy or `deadline_s` passes; returns its last value.
    (A deadline on a condition, not a sleep: the promise is "within", the test waits no longer.)"""
    end = time.monotonic() + deadline_s
    while True:
        value = await check()
        if value or time.monotonic() >= end:
            return value
        await asyncio.sleep(0.02)


async def _post(http, url: str, path: str, seeded, data: dict) -> tuple[int, dict]:
    async with http.post(url + path, data=data,
                         headers={"Authorization": basic(seeded.client_id, seeded.client_secret)}) as resp:
        return resp.status, await resp.json(content_type=None)


async def test_a_token_issued_on_one_instance_calls_through_the_other_and_its_revocation_bites_within_a_second(
        serve_process, second_instance, data_dir):
    async with run_fake("openai") as fake:
        [seeded] = _seed(data_dir, kind="openai", base_url=fake.base_url, api_key=fake.key)
        a = serve_process()
        b = second_instance("--upstream-allow", FAKES_ALLOW)
        async with aiohttp.ClientSession() as http:
            status, issued = await _post(http, a.url, "/v1/oauth/token", seeded,
                                         {"grant_type": "refresh_token", "refresh_token": seeded.refresh_token})
            assert status == 200, issued
            token = issued["access_token"]
            # B opens the provider key sealed by A's process with its own copy of the keyring.
            assert await chat_status(b.url, token) == 200
            assert await chat_status(a.url, token) == 200  # now cached on A too
            status, _ = await _post(http, b.url, "/v1/oauth/revoke", seeded, {"token": token})
            assert status == 200
            assert await _until(lambda: _revoked(a.url, token), 1.0)  # bites on A within a second
            assert await chat_status(a.url, token) == 401 and await chat_status(b.url, token) == 401


async def _revoked(url: str, token: str) -> bool:
    return await chat_status(url, token) == 401


async def test_a_grant_request_limit_is_one_limit_over_both_instances(serve_process, second_instance, data_dir):
    async with run_fake("openai") as fake:
        [seeded] = _seed(data_dir, kind="openai", base_url=fake.base_url, api_key=fake.key)
        store, _ = open_data_dir(data_dir)
        try:
            set_grant_limits(store, seeded.grant_id, GrantLimits(requests_per_minute=4), actor="cli:test")
        finally:
            store.close()
        a = serve_process()
        b = second_instance("--upstream-allow", FAKES_ALLOW)
        await away_from_minute_edge()
        statuses = [await chat_status((a, b)[i % 2].url, seeded.access_token) for i in range(8)]
        assert statuses == [200] * 4 + [429] * 4


def _keyring_state(path):
    ring = Vault.load(path)
    return ring.primary, {k.id: k.status for k in ring.keys.values()}


async def test_a_kek_rotation_completes_with_both_instances_live_once_each_holds_the_new_keyring(
        serve_process, second_instance, data_dir, tmp_path):
    async with run_fake("openai") as fake:
        seeded = _seed(data_dir, 3, kind="openai", base_url=fake.base_url, api_key=fake.key)
        old = Vault.load(data_dir / "keyring.json").primary
        a = serve_process()
        b = second_instance("--upstream-allow", FAKES_ALLOW)
        b_ring = tmp_path / "host-b" / "keyring.json"
        rotation = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "infer0app", "kek", "rotate", "--data-dir", str(data_dir), "--server-wait", "60",
            cwd=ROOT, env=cli_env(), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)

        async def pending_on_a():
            return any(s == "pending" for s in _keyring_state(data_dir / "keyring.json")[1].values())
        assert await _until(pending_on_a, 30)
        # B does not hold the new KEK yet: the rotation may not make it primary.
        store, _ = open_data_dir(data_dir, create=False)
        try:
            live = runtime.live_servers(store)
        finally:
            store.close()
        assert sorted(s.pid for s in live) == sorted([a.proc.pid, b.proc.pid])
        assert rotation.returncode is None and _keyring_state(data_dir / "keyring.json")[0] == old

        async def distribute():  # the operator's keyring distribution (config management, a shared mount)
            while True:
                if (data_dir / "keyring.json").read_bytes() != b_ring.read_bytes():
                    shutil.copy2(data_dir / "keyring.json", b_ring.with_suffix(".tmp"))
                    os.replace(b_ring.with_suffix(".tmp"), b_ring)
                await asyncio.sleep(0.1)

        syncer = asyncio.create_task(distribute())
        try:
            out, err = await asyncio.wait_for(rotation.communicate(), 90)
        finally:
            syncer.cancel()
        assert rotation.returncode == 0, err.decode()
        result = json.loads(out)
        assert result["servers"] == 2 and result["verified"] == 3 and result["retired"] == [old]
        # Both seal with the new KEK and both still open every (re-wrapped) provider key.
        store, _ = open_data_dir(data_dir, create=False)
        try:
            assert {s.primary_kek for s in runtime.live_servers(store)} == {result["new_kek"]}
        finally:
            store.close()
        for s in seeded:
            assert await chat_status(a.url, s.access_token) == 200 and await chat_status(b.url, s.access_token) == 200


async def test_a_kill_9_of_one_instance_under_load_loses_no_acknowledged_token_or_revocation(
        serve_process, second_instance, data_dir):
    """40 grants; on each, one operation (a refresh rotation, or every other one a revocation),
    eight at a time over both instances; A is SIGKILLed once ten are acknowledged. Whatever either
    instance answered 200 to must hold on B afterwards. An operation in flight on A when it died
    got no answer: it may or may not have happened, and nothing is asserted about it."""
    grants = _seed(data_dir, 40, kind="sandbox")
    a = serve_process()
    b = second_instance()
    ten_acknowledged = asyncio.Event()
    issued: dict[int, tuple[str, str, str]] = {}  # grant -> (instance, access, refresh) acknowledged
    revoked: dict[int, tuple[str, str]] = {}  # grant -> (instance, access token) acknowledged
    unanswered: list[int] = []
    gate = asyncio.Semaphore(8)

    async def operate(http, i: int):
        s = grants[i]
        async with gate:
            for url in ((a, b)[i % 2].url, b.url):  # connection refused: a load balancer tries B
                try:
                    if i % 4 < 2:
                        status, body = await _post(http, url, "/v1/oauth/token", s,
                                                   {"grant_type": "refresh_token", "refresh_token": s.refresh_token})
                        assert status == 200, body
                        issued[i] = (url, body["access_token"], body["refresh_token"])
                    else:
                        status, _ = await _post(http, url, "/v1/oauth/revoke", s, {"token": s.access_token})
                        assert status == 200
                        revoked[i] = (url, s.access_token)
                    if len(issued) + len(revoked) >= 10:
                        ten_acknowledged.set()
                    return
                except aiohttp.ClientConnectorError:
                    continue  # never sent: nothing happened, try the other instance
                except (aiohttp.ServerDisconnectedError, aiohttp.ClientOSError):
                    unanswered.append(i)  # sent to A as it died
                    return

    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(force_close=True)) as http:
        load = asyncio.gather(*(operate(http, i) for i in range(len(grants))))
        await ten_acknowledged.wait()
        os.kill(a.proc.pid, signal.SIGKILL)
        await load
        assert len(issued) + len(revoked) + len(unanswered) == len(grants)
        by_a = [i for i, v in {**issued, **revoked}.items() if v[0] == a.url]
        assert by_a, "A acknowledged nothing before it was killed"
        for i, (_, token) in revoked.items():
            assert await _until(lambda: _revoked_me(http, b.url, token), 1.0), i
        for i, (_, access, refresh) in issued.items():
            assert await _me(http, b.url, access) == 200, i
            status, body = await _post(http, b.url, "/v1/oauth/token", grants[i],
                                       {"grant_type": "refresh_token", "refresh_token": refresh})
            assert status == 200, (i, body)
    assert a.proc.wait() == -signal.SIGKILL
    assert issued and revoked


async def _revoked_me(http, url: str, token: str) -> bool:
    return await _me(http, url, token) == 401
