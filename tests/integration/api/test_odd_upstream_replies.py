"""Provider answers that are valid HTTP but hold values no real provider sends (found by
probing from outside): token counts past 64 bits or below zero, a model name longer than the
usage table's column, JSON nested deeper than Python's decoder goes (also in an app's
tool-call arguments, which infer0 reads for an Anthropic connection). Each must end as a
documented answer for the app, and never stop infer0 from recording later usage.

The provider here is a small aiohttp app on loopback (the network edge), whose answer is
chosen by the user's message; infer0, its database and the official openai SDK are real.
"""

from __future__ import annotations

import json

import httpx
import openai
import pytest
from aiohttp import web

from infer0app import keys
from infer0app.services.usage_log import UsageRecord
from infer0app.store.models import UsageEvent
from tests.support.seed import seed_grant

DEEP = "[" * 100_000 + "]" * 100_000  # past the decoder's recursion limit


def _completion(usage: dict, model: str = "odd-model", arguments: str = "{}") -> dict:
    return {"id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": model,
            "choices": [{"index": 0, "finish_reason": "tool_calls", "message": {
                "role": "assistant", "content": "ok",
                "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "f", "arguments": arguments}}]}}],
            "usage": usage}


NORMAL = {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}
ANSWERS = {  # the user's message -> the provider's answer body (text)
    "normal": json.dumps(_completion(NORMAL)),
    "huge usage": json.dumps(_completion({"prompt_tokens": 10**22, "completion_tokens": 2**63, "total_tokens": 1})),
    "negative usage": json.dumps(_completion({"prompt_tokens": -500, "completion_tokens": -1, "total_tokens": 0})),
    "long model": json.dumps(_completion(NORMAL, model="m" * 300)),
    "nan usage": json.dumps(_completion({"prompt_tokens": float("nan"), "completion_tokens": 1})),  # NaN
    "deep body": '{"id": "chatcmpl-1", "x": ' + DEEP + "}",
    "deep arguments": json.dumps(_completion(NORMAL, arguments=DEEP)),
}


def _said(body: dict) -> str:
    content = body["messages"][-1]["content"]
    return content if isinstance(content, str) else content[0]["text"]


async def _chat(request: web.Request) -> web.StreamResponse:
    body = await request.json()
    said = _said(body)
    if body.get("stream"):
        resp = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await resp.prepare(request)
        head = {"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1, "model": "odd-model"}
        first = {**head, "choices": [{"index": 0, "delta": {"role": "assistant", "content": "partial"}}]}
        await resp.write(b"data: " + json.dumps(first).encode() + b"\n\n")
        if said == "deep chunk":
            await resp.write(b'data: {"id": "chatcmpl-1", "x": ' + DEEP.encode() + b"}\n\n")
        await resp.write(b"data: [DONE]\n\n")
        return resp
    return web.Response(text=ANSWERS[said], content_type="application/json")


@pytest.fixture
async def odd(server, aiohttp_server):
    provider = web.Application()
    provider.router.add_post("/v1/chat/completions", _chat)
    upstream = await aiohttp_server(provider, host="127.0.0.1")
    srv = await server()
    app = srv.app
    seeded = seed_grant(app[keys.STORE], app[keys.VAULT], kind="openai-compatible",
                        base_url=str(upstream.make_url("/v1")), api_key="sk-odd", model="odd-model")
    client = openai.AsyncOpenAI(base_url=str(srv.make_url("/v1")), api_key=seeded.access_token, max_retries=0)
    yield app, client, seeded
    await client.close()


async def _usage_rows(app, grant_id: int) -> list[UsageEvent]:
    await app[keys.USAGE].flush()
    return await app[keys.STORE].run(lambda s: list(
        UsageEvent.select().where(UsageEvent.grant_id == grant_id).order_by(UsageEvent.id)))


async def _say(client, text: str):
    return await client.chat.completions.create(model="x", messages=[{"role": "user", "content": text}])


async def test_token_counts_no_provider_can_mean_are_recorded_as_unknown_and_later_usage_still_lands(odd):
    """A provider claiming 10**22 tokens made the usage writer fail on every flush (SQLite:
    OverflowError; PostgreSQL: bigint out of range) and keep the batch, so no usage of any
    user was recorded again; a negative count refunded spend."""
    app, client, seeded = odd
    for text in ("huge usage", "negative usage", "normal"):
        await _say(client, text)
    rows = await _usage_rows(app, seeded.grant_id)
    assert [(r.prompt_tokens, r.completion_tokens) for r in rows] == [(0, 0), (0, 0), (3, 2)]


async def test_a_model_name_longer_than_the_usage_column_is_cut_not_refused(odd):
    """PostgreSQL refused the row (VARCHAR(200)) and, with it, every later usage row."""
    app, client, seeded = odd
    await _say(client, "long model")
    await _say(client, "normal")
    rows = await _usage_rows(app, seeded.grant_id)
    assert [r.model for r in rows] == ["m" * 200, "odd-model"]


async def test_one_row_the_database_refuses_does_not_hold_back_the_others(odd):
    """Whatever a row holds, the writer drops only the rows the database refuses (it kept
    the whole batch and retried it forever)."""
    app, client, seeded = odd
    recorder = app[keys.USAGE]
    recorder.record(UsageRecord(user_id=seeded.user_id, app_id=seeded.app_id, grant_id=seeded.grant_id,
                                provider_kind="openai-compatible", model="bad", status=200, latency_ms=1.0,
                                streamed=False, prompt_tokens=2**70))  # past any integer column
    await _say(client, "normal")
    rows = await _usage_rows(app, seeded.grant_id)
    assert [(r.model, r.prompt_tokens, r.completion_tokens) for r in rows] == [("odd-model", 3, 2)]
    assert recorder.pending == 0


async def test_json_nested_too_deep_in_an_answer_is_a_bad_response_not_a_500(odd):
    """RecursionError escaped the `except ValueError` around each provider answer's decoding."""
    app, client, seeded = odd
    with pytest.raises(openai.APIStatusError) as failed:
        await _say(client, "deep body")
    assert (failed.value.status_code, failed.value.body["code"]) == (502, "provider_bad_response")
    async with httpx.AsyncClient(base_url=str(client.base_url)) as http:  # /v1/messages reads the tool arguments
        answer = await http.post("messages", headers={"x-api-key": seeded.access_token}, json={
            "model": "x", "max_tokens": 10, "messages": [{"role": "user", "content": "deep arguments"}]})
    assert answer.status_code == 200
    assert [b for b in answer.json()["content"] if b["type"] == "tool_use"][0]["input"] == {}


async def test_nan_in_an_answer_is_not_passed_on_as_json_apps_cannot_read(odd):
    """NaN is not JSON (RFC 8259 §6); infer0 read it and wrote it on to the app."""
    app, client, seeded = odd
    async with httpx.AsyncClient(base_url=str(client.base_url)) as http:
        answer = await http.post("chat/completions", headers={"Authorization": f"Bearer {seeded.access_token}"},
                                 json={"model": "x", "messages": [{"role": "user", "content": "nan usage"}]})
    assert b"NaN" not in answer.content
    assert (answer.status_code, answer.json()["error"]["code"]) == (502, "provider_bad_response")


async def test_json_nested_too_deep_in_a_stream_ends_it_with_an_error_chunk(odd):
    """The RecursionError escaped the stream loop after the head was sent, and infer0 wrote a
    second HTTP head (a 500) into the chunked body."""
    app, client, seeded = odd
    stream = await client.chat.completions.create(model="x", stream=True,
                                                  messages=[{"role": "user", "content": "deep chunk"}])
    with pytest.raises(openai.APIError) as failed:
        async for _ in stream:
            pass
    assert "unreadable" in str(failed.value)


async def test_tool_arguments_nested_too_deep_are_a_400_naming_them(api_for):
    """An app's own tool-call arguments, parsed for an Anthropic connection: a 500 before."""
    api = await api_for("anthropic")
    deep = "[" * 100_000 + "]" * 100_000
    with pytest.raises(openai.BadRequestError) as failed:
        await api.client().chat.completions.create(model="x", messages=[
            {"role": "user", "content": "hi"},
            {"role": "assistant", "content": None,
             "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "f", "arguments": deep}}]},
            {"role": "tool", "tool_call_id": "call_1", "content": "r"}])
    assert "arguments" in failed.value.body["message"]
