"""Issue 14 §1 end to end: the official openai SDK against a real infer0, each provider kind
behind a fake that refuses what the real provider refuses. Every test here failed on the
code before the provider profiles were wired in (one exception is named in its docstring)."""

from __future__ import annotations

import asyncio
import json

import aiohttp
import openai
import pytest

from infer0app import keys
from infer0app.store.models import UsageEvent
from tests.fakes.anthropic_fake import THINKING_TEXT

HI = [{"role": "user", "content": "hi"}]
WEATHER = {"type": "function", "function": {
    "name": "get_weather", "description": "Weather for a city",
    "parameters": {"type": "object", "properties": {"location": {"type": "string"}}, "required": ["location"]}}}


async def recorded_usage(api, count: int = 1) -> list[dict]:
    store = api.app[keys.STORE]
    rows: list[dict] = []
    for _ in range(50):  # written in batches by the background recorder
        rows = await store.run(lambda s: list(UsageEvent.select().order_by(UsageEvent.id).dicts()))
        if len(rows) >= count:
            break
        await asyncio.sleep(0.1)
    return rows


async def read_stream(stream) -> tuple[str, list[str], list]:
    """(text, finish reasons, chunks) the way OpenAI's docs loop over a stream."""
    text, finishes, chunks = "", [], []
    async for chunk in stream:
        chunks.append(chunk)
        for choice in chunk.choices:
            text += choice.delta.content or ""
            if choice.finish_reason:
                finishes.append(choice.finish_reason)
    return text, finishes, chunks


# ------------------------------------------------------------------ the four cases of the issue


async def test_anthropic_whitespace_stop_sequence_is_dropped_and_reported(api_for):
    api = await api_for("anthropic")
    raw = await api.client().chat.completions.with_raw_response.create(model="x", messages=HI, stop="\n")
    chat = raw.parse()
    assert chat.choices[0].message.content == "Hello! You said: hi"
    assert raw.headers["x-infer0-dropped-params"] == "stop"
    assert "stop_sequences" not in api.fake.chat_requests()[-1].json


async def test_anthropic_image_jpg_is_sent_as_image_jpeg(api_for):
    api = await api_for("anthropic")
    image = {"type": "image_url", "image_url": {"url": "data:image/jpg;base64,/9j/4AAQSkZJRg=="}}
    raw = await api.client().chat.completions.with_raw_response.create(
        model="x", messages=[{"role": "user", "content": [{"type": "text", "text": "what is it"}, image]}])
    assert "1 image" in raw.parse().choices[0].message.content
    assert raw.headers["x-infer0-adjusted-params"] == "messages[].content[].image_url"
    block = api.fake.chat_requests()[-1].json["messages"][0]["content"][1]
    assert block["source"]["media_type"] == "image/jpeg"


async def test_mistral_plain_stream_works_and_its_usage_is_recorded(api_for):
    api = await api_for("mistral", mistral=True)
    stream = await api.client().chat.completions.create(model="x", messages=HI, stream=True)
    text, finishes, chunks = await read_stream(stream)
    assert text == "Hello! You said: hi" and finishes == ["stop"]
    assert all(c.usage is None for c in chunks), "the app did not ask for usage"
    assert "stream_options" not in api.fake.chat_requests()[-1].json
    rows = await recorded_usage(api)
    assert rows[-1]["provider_kind"] == "mistral" and rows[-1]["completion_tokens"] > 0  # from the finish chunk


async def test_openai_reasoning_model_gets_max_completion_tokens_and_no_temperature(api_for):
    api = await api_for("openai", model="o3-mini")
    raw = await api.client().chat.completions.with_raw_response.create(
        model="x", messages=HI, max_tokens=50, temperature=0.7)
    assert raw.parse().choices[0].message.content == "Hello! You said: hi"
    assert raw.headers["x-infer0-dropped-params"] == "temperature"
    assert raw.headers["x-infer0-renamed-params"] == "max_tokens->max_completion_tokens"
    sent = api.fake.chat_requests()[-1].json
    assert sent["max_completion_tokens"] == 50 and "max_tokens" not in sent and "temperature" not in sent


async def test_azure_filter_frame_never_breaks_openais_documented_loop(api_for):
    api = await api_for("azure-openai")
    stream = await api.client().chat.completions.create(model="x", messages=HI, stream=True)
    text = ""
    async for chunk in stream:
        text += chunk.choices[0].delta.content or ""  # OpenAI's docs: IndexError on a choice-less chunk
    assert text == "Hello! You said: hi"


# ------------------------------------------------------------------ one per other kind of rule


async def test_developer_role_reaches_mistral_as_system(api_for):
    api = await api_for("mistral", mistral=True)
    raw = await api.client().chat.completions.with_raw_response.create(
        model="x", messages=[{"role": "developer", "content": "Be brief."}, *HI])
    assert raw.parse().choices[0].message.content == "Hello! You said: hi"
    assert raw.headers["x-infer0-renamed-params"] == "messages[].role:developer->system"
    assert api.fake.chat_requests()[-1].json["messages"][0]["role"] == "system"


async def test_streamed_tool_call_deltas_without_index_get_one(api_for):
    api = await api_for("openai-compatible", model="local-model", tool_delta_no_index=True)
    stream = await api.client().chat.completions.create(
        model="x", messages=[{"role": "user", "content": "Weather in Paris?"}], tools=[WEATHER], stream=True)
    _text, finishes, chunks = await read_stream(stream)
    deltas = [tc for c in chunks for ch in c.choices for tc in ch.delta.tool_calls or []]
    assert len(deltas) == 3 and [tc.index for tc in deltas] == [0, 0, 0]
    assert json.loads("".join(tc.function.arguments or "" for tc in deltas)) == {"location": "Paris"}
    assert finishes == ["tool_calls"]


async def test_stream_without_done_still_ends_with_done_and_its_usage_chunk(api_for):
    """A provider that closes after its finish chunk (no `[DONE]`) with usage on that
    chunk: the app reads OpenAI's ending, a usage chunk and then `[DONE]`. (The `[DONE]`
    alone was already supplied before profiles; the usage chunk was not.)"""
    api = await api_for("together", no_done=True, usage_on_finish=True)
    body = {"model": "x", "messages": HI, "stream": True, "stream_options": {"include_usage": True}}
    async with aiohttp.ClientSession() as http, http.post(
            api.url + "/v1/chat/completions", json=body,
            headers={"Authorization": f"Bearer {api.seeded.access_token}"}) as resp:
        raw = (await resp.read()).decode()
    datas = [line[6:] for line in raw.split("\n") if line.startswith("data: ")]
    assert datas[-1] == "[DONE]"
    last = json.loads(datas[-2])
    assert last["choices"] == [] and last["usage"]["completion_tokens"] > 0


@pytest.mark.parametrize("include_usage", [True, False])
async def test_usage_on_the_finish_chunk_becomes_openais_usage_chunk(api_for, include_usage):
    api = await api_for("together", usage_on_finish=True)
    stream = await api.client().chat.completions.create(
        model="x", messages=HI, stream=True, stream_options={"include_usage": include_usage})
    text, finishes, chunks = await read_stream(stream)
    assert text == "Hello! You said: hi" and finishes == ["stop"]
    with_usage = [c for c in chunks if c.usage is not None]
    if include_usage:
        assert with_usage == [chunks[-1]] and chunks[-1].choices == [] and chunks[-1].usage.completion_tokens > 0
    else:
        assert with_usage == []
    assert (await recorded_usage(api))[-1]["completion_tokens"] > 0


async def test_finish_reason_left_null_is_closed_as_stop(api_for):
    api = await api_for("openai-compatible", model="local-model", no_finish_reason=True)
    stream = await api.client().chat.completions.create(model="x", messages=HI, stream=True)
    text, finishes, _chunks = await read_stream(stream)
    assert text == "Hello! You said: hi" and finishes == ["stop"]


# ------------------------------------------------------------------ reasoning_effort -> extended thinking


@pytest.mark.parametrize("streamed", [False, True], ids=["complete", "stream"])
async def test_anthropic_thinking_is_asked_for_and_never_reaches_content(api_for, streamed):
    api = await api_for("anthropic")
    raw = await api.client().chat.completions.with_raw_response.create(
        model="x", messages=HI, reasoning_effort="low", temperature=0.5, stream=streamed)
    if streamed:
        text, finishes, _chunks = await read_stream(raw.parse())
    else:
        text = raw.parse().choices[0].message.content
    assert text == "Hello! You said: hi" and THINKING_TEXT not in text
    assert raw.headers["x-infer0-renamed-params"] == "reasoning_effort->thinking"
    assert raw.headers["x-infer0-dropped-params"] == "temperature"
    sent = api.fake.chat_requests()[-1].json
    assert sent["thinking"] == {"type": "enabled", "budget_tokens": 1024} and "temperature" not in sent


async def test_change_headers_are_exposed_to_browser_apps(api_for):
    api = await api_for("sandbox")
    async with aiohttp.ClientSession() as http, http.post(
            api.url + "/v1/chat/completions", json={"messages": HI, "frequency_penalty": 1},
            headers={"Authorization": f"Bearer {api.seeded.access_token}", "Origin": "https://app.test"}) as resp:
        exposed = {h.strip().lower() for h in resp.headers["Access-Control-Expose-Headers"].split(",")}
        assert resp.headers["x-infer0-dropped-params"] == "frequency_penalty"
    assert {"x-infer0-dropped-params", "x-infer0-renamed-params", "x-infer0-adjusted-params"} <= exposed
