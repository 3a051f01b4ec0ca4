"""Rotation against a running `infer0 serve`: the server keeps decrypting provider keys and
answering throughout, picks the new KEK up without a restart, and seals with it afterwards;
a server killed mid-rotation neither blocks the rotation nor loses a secret.

The request here is the dashboard's "Test connection": it decrypts the stored key on every
call (no cache in between) and calls the provider's model list on a fake OpenAI-compatible
provider on loopback that checks the key. Chat calls during a rotation are in
test_rotation_during_chat.py.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import time

from aiohttp import web

from infer0app.services import runtime
from tests.support.backend import open_data_dir
from infer0app.store.models import ProviderConnection, User
from infer0app.vault.keyring import Vault
from secrets_fixture import make_secrets, open_all
from tests.support.browser import Browser
from tests.support.processes import ROOT, cli_env
from tests.support.waits import until

PASSWORD = "correct horse battery"


async def fake_provider(aiohttp_server):
    """GET /v1/models answering 200 only for a key in `keys` (filled by the test); records what it got."""
    seen: list[str] = []
    keys: set[str] = set()

    async def models(request: web.Request) -> web.Response:
        key = request.headers.get("Authorization", "").removeprefix("Bearer ")
        seen.append(key)
        if key not in keys:
            return web.json_response({"error": {"message": "bad key", "type": "invalid_request_error"}}, status=401)
        return web.json_response({"object": "list", "data": [{"id": "fake-model", "object": "model"}]})

    app = web.Application()
    app.router.add_get("/v1/models", models)
    server = await aiohttp_server(app, host="127.0.0.1")
    return str(server.make_url("/v1")), seen, keys


async def start_rotation(data_dir, *args):
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "infer0app", "kek", "rotate", "--data-dir", str(data_dir), *args, cwd=ROOT,
        env=cli_env(), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)


def user0_connections(data_dir) -> list[int]:
    store, _ = open_data_dir(data_dir, create=False)
    try:
        uid = User.get(User.email == "user0@example.com").id
        return [c.id for c in ProviderConnection.select().where(ProviderConnection.user == uid)]
    finally:
        store.close()


async def test_server_keeps_answering_during_rotation_and_seals_with_the_new_key(
        aiohttp_server, data_dir, serve_process):
    url, seen, known = await fake_provider(aiohttp_server)
    expected = make_secrets(data_dir, 40, kind="openai-compatible", base_url=url, password=PASSWORD)
    known.update(expected.values())
    old = Vault.load(data_dir / "keyring.json").primary
    ids = user0_connections(data_dir)
    server = serve_process()
    browser = Browser(server.url)
    try:
        resp, html = await browser.login("user0@example.com", PASSWORD)
        assert resp.status == 200
        token = await browser.token_for("/providers")
        results: list[tuple[float, int, bool]] = []
        done = asyncio.Event()

        async def keep_testing():
            i = 0
            while not done.is_set():
                cid = ids[i % len(ids)]
                resp, html = await browser.post(f"/providers/{cid}/test", {"csrf_token": token})
                results.append((time.monotonic(), resp.status, "Connected" in html))
                i += 1

        load = asyncio.create_task(keep_testing())
        await until(lambda: len(results) >= 2, "the load to be running")
        started = time.monotonic()
        proc = await start_rotation(data_dir, "--batch-size", "2")
        out, err = await asyncio.wait_for(proc.communicate(), 60)
        finished = time.monotonic()
        await until(lambda: sum(r[0] > finished for r in results) >= 3, "tests after the rotation")
        done.set()
        await load

        assert proc.returncode == 0, err.decode()
        result = json.loads(out)
        assert result["servers"] == 1 and result["verified"] == 40 and result["retired"] == [old]
        during = [r for r in results if started <= r[0] <= finished]
        assert len(during) >= 5, f"only {len(during)} calls overlapped the rotation"
        assert all(status == 200 and ok for _, status, ok in results), [r for r in results if not r[2]]
        assert seen and set(seen) <= known  # the provider only ever got the right keys
        assert open_all(data_dir, expected) == {result["new_kek"]: 40}

        # the server now seals new secrets with the new KEK (it reloaded the keyring itself)
        resp, html = await browser.submit("/providers", "/providers", {
            "kind": "openai-compatible", "name": "after rotation", "api_key": "sk-after-rotation-0123456789",
            "base_url": url, "model": "fake-model"})
        assert resp.status == 200
        store, _ = open_data_dir(data_dir, create=False)
        try:
            added = ProviderConnection.get(ProviderConnection.name == "after rotation")
            assert added.kek_id == result["new_kek"]
            live = runtime.live_servers(store)
            assert [(s.pid, s.primary_kek) for s in live] == [(server.proc.pid, result["new_kek"])]
        finally:
            store.close()
        assert "keyring reloaded" in server.logs()
    finally:
        await browser.close()


async def test_a_server_killed_mid_rotation_neither_blocks_it_nor_loses_a_secret(data_dir, serve_process):
    expected = make_secrets(data_dir, 12)
    old = Vault.load(data_dir / "keyring.json").primary
    server = serve_process()
    os.kill(server.proc.pid, signal.SIGSTOP)  # hung: alive, heartbeat fresh, never picks the key up
    try:
        proc = await start_rotation(data_dir, "--server-wait", "30")
        # Wait (on the condition, not a fixed sleep: a loaded CI machine is slow) for the pending key.
        def pending():
            ring = Vault.load(data_dir / "keyring.json")
            return ring if any(k.status == "pending" for k in ring.keys.values()) else None
        ring = await until(pending, "the rotation to add its pending key")
        assert proc.returncode is None  # waiting for the server
        assert ring.primary == old and any(k.status == "pending" for k in ring.keys.values())
        open_all(data_dir, expected)
        killed_at = time.monotonic()
        os.kill(server.proc.pid, signal.SIGKILL)
        out, err = await asyncio.wait_for(proc.communicate(), 30)
        assert proc.returncode == 0, err.decode()
        # It noticed the process is gone instead of waiting out its 30 s --server-wait.
        assert time.monotonic() - killed_at < 15
        result = json.loads(out)
        assert result["resumed"] is False and result["servers"] == 0
        assert open_all(data_dir, expected) == {result["new_kek"]: 12}
    finally:
        if server.proc.poll() is None:  # a failed assertion above must not leave it stopped forever
            os.kill(server.proc.pid, signal.SIGKILL)
        server.proc.wait()
    # a fresh server starts on the rotated keyring and reports the new key
    again = serve_process()
    store, _ = open_data_dir(data_dir, create=False)
    try:
        live = await until(lambda: runtime.live_servers(store), "the new server to report its keys")
        assert [(s.pid, s.primary_kek) for s in live] == [(again.proc.pid, result["new_kek"])]
    finally:
        store.close()
