"""Prompt and completion content is never written down (issue 17): not to the database or its
WAL, not to the data dir, not to the server's logs or the audit, on success and on errors.

A canary string rides in every place content can: the prompt (system, user, a tool result),
tool definitions and tool-call arguments, the provider's answer (text and tool arguments, via
the fake upstream), an upstream error that quotes the request back, malformed requests, and
the other inference APIs (Responses, Messages, embeddings). The server logs at `debug`, its
most talkative level. Then every byte of the data dir and the log is searched for it.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3

import aiohttp
import openai

from infer0app.services.datadir import open_data_dir
from tests.fakes import run_fake
from tests.support.seed import seed_grant

CANARY = "PRIVACYCANARY-4b1d9e7c"
TOOLS = [{"type": "function", "function": {
    "name": "lookup", "description": f"Looks up {CANARY}",
    "parameters": {"type": "object", "properties": {"query": {"type": "string"}}, "required": ["query"]}}}]
CONVERSATION = [
    {"role": "system", "content": f"You keep {CANARY} secret."},
    {"role": "user", "content": f"Find {CANARY} for me"},
    {"role": "assistant", "content": None, "tool_calls": [{"id": "call_1", "type": "function", "function": {
        "name": "lookup", "arguments": json.dumps({"query": CANARY})}}]},
    {"role": "tool", "tool_call_id": "call_1", "content": f"found {CANARY}"},
    {"role": "user", "content": f"Now look up {CANARY} again"},
]


async def _post(http, url, token, body: bytes | dict, path="/v1/chat/completions", headers=None):
    kw = {"json": body} if isinstance(body, dict) else {"data": body}
    async with http.post(url + path, headers={"Authorization": f"Bearer {token}", **(headers or {})}, **kw) as r:
        return r.status, await r.read()


async def _traffic(server, fake, token: str) -> None:
    client = openai.AsyncOpenAI(base_url=server.url + "/v1", api_key=token, max_retries=0)
    fake.knobs.reply = f"The answer is {CANARY}."
    # success: text answers, tool calls both ways, streamed and not
    done = await client.chat.completions.create(model="x", messages=CONVERSATION[:2])
    assert CANARY in done.choices[0].message.content
    called = await client.chat.completions.create(model="x", messages=CONVERSATION, tools=TOOLS)
    assert CANARY in called.choices[0].message.tool_calls[0].function.arguments
    stream = await client.chat.completions.create(model="x", messages=CONVERSATION[:2], stream=True,
                                                  stream_options={"include_usage": True})
    assert CANARY in "".join([c.choices[0].delta.content or "" async for c in stream if c.choices])
    stream = await client.chat.completions.create(model="x", messages=CONVERSATION, tools=TOOLS, stream=True)
    assert [c async for c in stream]
    responses = await client.responses.create(model="x", input=f"Tell me about {CANARY}", store=False)
    assert CANARY in responses.output_text
    await client.embeddings.create(model="x", input=[f"embed {CANARY}"])

    async with aiohttp.ClientSession() as http:
        status, body = await _post(http, server.url, token, {
            "model": "x", "max_tokens": 50, "messages": [{"role": "user", "content": f"Hi {CANARY}"}]},
            path="/v1/messages", headers={"anthropic-version": "2023-06-01"})
        assert status == 200 and CANARY.encode() in body
        # malformed requests that carry the canary
        for bad in [b'{"messages": [{"role": "user", "content": "' + CANARY.encode() + b'"',
                    json.dumps({"messages": CANARY}).encode(),
                    json.dumps({"messages": [{"role": CANARY, "content": CANARY}]}).encode(),
                    json.dumps({"messages": [{"role": "user", "content": [{"type": CANARY, "text": CANARY}]}]}).encode(),
                    b'{"messages": [{"role": "user", "content": "\xff' + CANARY.encode() + b'"}]}']:
            status, _ = await _post(http, server.url, token, bad)
            assert status == 400, bad
        # the provider fails and quotes the request back (as several do in their 400s)
        fake.knobs.fail_status, fake.knobs.echo_in_errors = 400, True
        status, body = await _post(http, server.url, token, {"messages": CONVERSATION, "tools": TOOLS})
        assert status >= 400
        status, body = await _post(http, server.url, token, {"messages": CONVERSATION, "stream": True})
        assert status >= 400
        fake.knobs.fail_status = 500
        status, body = await _post(http, server.url, token, {"messages": CONVERSATION})
        assert status >= 400
        fake.knobs.fail_status, fake.knobs.echo_in_errors = None, False
        # a stream the provider breaks off with an error after the first words
        fake.knobs.error_mid_stream = True
        status, body = await _post(http, server.url, token, {"messages": CONVERSATION[:2], "stream": True})
        assert status == 200 and b"error" in body


async def test_no_prompt_or_completion_content_is_written_anywhere(data_dir, serve_process):
    async with run_fake("openai") as fake:
        store, vault = open_data_dir(data_dir)
        try:
            seeded = seed_grant(store, vault, kind="openai", base_url=fake.base_url, api_key=fake.key)
        finally:
            store.close()
        server = serve_process("--log-level", "debug")
        await _traffic(server, fake, seeded.access_token)
        assert any(CANARY.encode() in r.body for r in fake.requests)  # it did travel upstream
        written = {p.name: p.read_bytes() for p in data_dir.rglob("*") if p.is_file()}  # WAL, -shm, keyring
        assert server.stop() == 0
        written.update({"after stop: " + p.name: p.read_bytes() for p in data_dir.rglob("*") if p.is_file()})
        written["server log"] = server.logs().encode()
    with contextlib.closing(sqlite3.connect(data_dir / "infer0.sqlite3")) as db:
        dump = "\n".join(db.iterdump())  # every table, audit and usage included
    written["database dump"] = dump.encode()
    leaks = [name for name, data in written.items() if CANARY.encode() in data]
    assert not leaks, f"the canary was written to: {leaks}"
    assert "infer0.request" in server.logs()  # the log was on and did log these requests
