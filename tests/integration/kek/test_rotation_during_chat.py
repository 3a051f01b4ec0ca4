"""The server keeps answering chat calls while the KEK rotates under it.

Forty users, each with their own provider key (sealed under the KEK being rotated) and an app
authorized to use it, keep calling POST /v1/chat/completions on a real `infer0 serve` while
`infer0 kek rotate` runs. Every call must succeed with the caller's own key reaching the
(fake, loopback) provider; afterwards every key sits under the new KEK.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time

import aiohttp
from aiohttp import web

from infer0app.services import accounts, apps, providers
from tests.support.backend import open_data_dir
from infer0app.vault.keyring import Vault
from secrets_fixture import open_all
from tests.support.processes import ROOT, cli_env
from tests.support.waits import until
from tests.tui.seed import issue_token

USERS = 40


async def fake_openai(aiohttp_server):
    """POST /v1/chat/completions that answers with the caller's key tail, and 401s unknown keys."""
    known: set[str] = set()
    seen: list[str] = []

    async def completions(request: web.Request) -> web.Response:
        key = request.headers.get("Authorization", "").removeprefix("Bearer ")
        seen.append(key)
        if key not in known:
            return web.json_response({"error": {"message": "Incorrect API key", "type": "invalid_request_error",
                                                 "code": "invalid_api_key"}}, status=401)
        body = await request.json()
        return web.json_response({
            "id": "chatcmpl-1", "object": "chat.completion", "created": int(time.time()), "model": body["model"],
            "choices": [{"index": 0, "finish_reason": "stop",
                         "message": {"role": "assistant", "content": f"key {key[-6:]}"}}],
            "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}})

    app = web.Application()
    app.router.add_post("/v1/chat/completions", completions)
    server = await aiohttp_server(app, host="127.0.0.1")
    return str(server.make_url("/v1")), known, seen


def populate(data_dir, base_url: str) -> tuple[dict[int, str], list[tuple[str, str]]]:
    """Returns ({connection id: key}, [(access token, that user's key)])."""
    store, vault = open_data_dir(data_dir)
    expected, callers = {}, []
    try:
        dev = accounts.create_user(store, "dev@example.com", None, actor="cli:test")
        app, _ = apps.create_app(store, dev.id, name="Chatter", redirect_uris=["https://chatter.example.com/cb"],
                                 actor="cli:test")
        for i in range(USERS):
            user = accounts.create_user(store, f"user{i}@example.com", None, actor="cli:test")
            key = f"sk-user{i:02d}-{'k' * 24}{i:06d}"
            conn = providers.add_connection(store, vault, user.id, kind="openai-compatible", name="mine",
                                            api_key=key, base_url=base_url, model="fake-model", actor="cli:test")
            expected[conn.id] = key
            _, token = issue_token(store, user.id, app, conn.id)
            callers.append((token, key))
    finally:
        store.close()
    return expected, callers


async def test_chat_calls_keep_succeeding_during_a_rotation(aiohttp_server, data_dir, serve_process):
    base_url, known, seen = await fake_openai(aiohttp_server)
    expected, callers = populate(data_dir, base_url)
    known.update(expected.values())
    old = Vault.load(data_dir / "keyring.json").primary
    server = serve_process()
    results: list[tuple[float, int, bool]] = []
    done = asyncio.Event()

    async def caller(worker: int, http: aiohttp.ClientSession):
        i = worker
        while not done.is_set():
            token, key = callers[i % USERS]
            async with http.post(server.url + "/v1/chat/completions", headers={"Authorization": f"Bearer {token}"},
                                 json={"model": "fake-model", "messages": [{"role": "user", "content": "hi"}]}) as r:
                body = await r.json()
                ok = r.status == 200 and body["choices"][0]["message"]["content"] == f"key {key[-6:]}"
                results.append((time.monotonic(), r.status, ok))
            i += 3

    async with aiohttp.ClientSession() as http:
        load = [asyncio.create_task(caller(w, http)) for w in range(3)]
        await until(lambda: len(results) >= 3, "the load to be running")
        started = time.monotonic()
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "infer0app", "kek", "rotate", "--batch-size", "2", "--data-dir", str(data_dir),
            cwd=ROOT, env=cli_env(), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        out, err = await asyncio.wait_for(proc.communicate(), 60)
        finished = time.monotonic()
        # The re-wrapped rows moved the cache epoch, so the server drops its opened keys and decrypts
        # them again, under the new KEK: keep calling until every user has been served since.
        await until(lambda: sum(r[0] > finished for r in results) >= 2 * USERS, "calls after the rotation")
        done.set()
        await asyncio.gather(*load)

    assert proc.returncode == 0, err.decode()
    result = json.loads(out)
    assert result["servers"] == 1 and result["verified"] == USERS and result["retired"] == [old]
    during = [r for r in results if started <= r[0] <= finished]
    assert len(during) >= 20, f"only {len(during)} chat calls overlapped the rotation"
    failures = [r for r in results if not r[2]]
    assert not failures, f"{len(failures)} of {len(results)} chat calls failed: {failures[:5]}"
    assert set(seen) == known  # every user's own key reached the provider, and nothing else did
    assert open_all(data_dir, expected) == {result["new_kek"]: USERS}
    assert "keyring reloaded" in server.logs()
