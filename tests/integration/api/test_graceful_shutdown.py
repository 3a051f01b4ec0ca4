"""SIGTERM: the server stops taking new calls and lets running streams finish."""

from __future__ import annotations

import asyncio
import signal

import aiohttp

from tests.support.backend import open_data_dir
from tests.fakes import run_fake
from tests.support.seed import seed_grant
from tests.support.waits import until


async def refuses_new_calls(url: str) -> bool:
    try:
        async with aiohttp.ClientSession() as other:
            async with other.get(url + "/healthz", timeout=aiohttp.ClientTimeout(total=2)):
                return False
    except (aiohttp.ClientError, asyncio.TimeoutError):
        return True


async def test_sigterm_lets_a_running_stream_finish(data_dir, serve_process):
    async with run_fake("openai", stream_delay=0.03) as fake:
        store, vault = open_data_dir(data_dir)
        try:
            seeded = seed_grant(store, vault, kind="openai", base_url=fake.base_url, api_key=fake.key)
        finally:
            store.close()
        server = serve_process()
        body = {"messages": [{"role": "user", "content": "tell me a long story " * 3}], "stream": True}
        headers = {"Authorization": f"Bearer {seeded.access_token}"}
        async with aiohttp.ClientSession() as http:
            async with http.post(server.url + "/v1/chat/completions", json=body, headers=headers) as resp:
                assert resp.status == 200
                first = await resp.content.readline()
                assert first.startswith(b"data: ")
                server.proc.send_signal(signal.SIGTERM)
                # no new calls once shutting down (waited for, not slept: the signal takes a moment)
                await until(lambda: refuses_new_calls(server.url), "the server to stop accepting")
                assert server.proc.poll() is None  # ... while the running stream goes on
                rest = await resp.content.read()
        assert rest.rstrip().endswith(b"data: [DONE]")
        assert fake.state.streams_completed == 1
        await asyncio.get_running_loop().run_in_executor(None, server.proc.wait, 15)
        assert server.proc.returncode == 0
