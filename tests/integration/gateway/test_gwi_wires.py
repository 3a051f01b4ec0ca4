"""Every wire end to end on loopback: plain, streamed with usage, tool round trips,
images, JSON mode - through `pipeline` with a real aiohttp ClientSession."""

from __future__ import annotations

import json
from typing import Any

import pytest

from infer0app.gateway import pipeline
from tests.fakes.transcripts import assemble

WEATHER = {"type": "function", "function": {"name": "get_weather", "description": "Weather for a place",
                                            "parameters": {"type": "object", "properties": {"location": {"type": "string"}},
                                                           "required": ["location"]}}}
CLOCK = {"type": "function", "function": {"name": "get_time", "parameters": {"type": "object", "properties": {}}}}
PNG = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="


async def complete(http, up, body: dict) -> dict[str, Any]:
    result = await pipeline.complete(http, up.route, body)
    assert result.status == 200 and result.content_type == "application/json"
    out = json.loads(result.body)
    assert out["object"] == "chat.completion" and out["model"] == result.model
    assert result.usage is not None and result.usage.total == out["usage"]["total_tokens"] > 0
    return out


async def stream(http, up, body: dict) -> tuple[dict[str, Any], Any]:
    result = await pipeline.stream(http, up.route, {**body, "stream": True})
    async with result:
        frames = [frame async for frame in result]
    out = assemble(frames)
    assert out["done"] and not out["errors"] and out["role"] == "assistant"
    return out, result


async def test_plain(http, upstream) -> None:
    out = await complete(http, upstream, {"model": "whatever-the-app-says",
                                          "messages": [{"role": "system", "content": "Be kind."},
                                                       {"role": "user", "content": "hello infer0"}]})
    choice = out["choices"][0]
    assert "said" in choice["message"]["content"] and "hello infer0" in choice["message"]["content"]
    assert choice["finish_reason"] == "stop"
    assert out["model"] != "whatever-the-app-says"
    if upstream.fake:
        sent = upstream.fake.chat_requests()[-1].json
        assert sent.get("model", upstream.route.model) == upstream.route.model


async def test_stream_with_usage_matches_non_stream(http, upstream) -> None:
    body = {"messages": [{"role": "user", "content": "tell me about streaming please"}],
            "stream_options": {"include_usage": True}}
    full = await complete(http, upstream, body)
    streamed, result = await stream(http, upstream, body)
    assert streamed["content"] == full["choices"][0]["message"]["content"]
    assert streamed["finish_reason"] == "stop"
    assert streamed["usage"]["total_tokens"] == full["usage"]["total_tokens"]
    assert result.usage.total == full["usage"]["total_tokens"]
    assert result.model == full["model"]


async def test_stream_without_usage_request_still_accounts(http, upstream) -> None:
    streamed, result = await stream(http, upstream, {"messages": [{"role": "user", "content": "count me"}]})
    assert streamed["usage"] is None
    assert result.usage is not None and result.usage.completion_tokens > 0


def tool_followup(messages: list, calls: list[dict], results: list[str]) -> list:
    assistant = {"role": "assistant", "content": None,
                 "tool_calls": [{"id": c["id"], "type": "function", "function": c["function"]} for c in calls]}
    return [*messages, assistant, *({"role": "tool", "tool_call_id": c["id"], "content": r}
                                    for c, r in zip(calls, results))]


@pytest.mark.parametrize("streamed", [False, True], ids=["complete", "stream"])
async def test_tool_call_round_trip(http, upstream, streamed: bool) -> None:
    messages = [{"role": "user", "content": "What is the weather in Paris?"}]
    body = {"messages": messages, "tools": [WEATHER, CLOCK]}
    if streamed:
        first, _ = await stream(http, upstream, body)
        calls, finish = first["tool_calls"], first["finish_reason"]
    else:
        out = await complete(http, upstream, body)
        calls, finish = out["choices"][0]["message"]["tool_calls"], out["choices"][0]["finish_reason"]
    assert finish == "tool_calls" and len(calls) == 1
    assert calls[0]["function"]["name"] == "get_weather" and calls[0]["id"]
    assert "location" in json.loads(calls[0]["function"]["arguments"])
    follow = {"messages": tool_followup(messages, calls, ["sunny, 24C"]), "tools": [WEATHER, CLOCK]}
    if streamed:
        second, _ = await stream(http, upstream, follow)
        text, finish = second["content"], second["finish_reason"]
    else:
        out = await complete(http, upstream, follow)
        text, finish = out["choices"][0]["message"]["content"], out["choices"][0]["finish_reason"]
    assert "sunny, 24C" in text and finish == "stop"


@pytest.mark.parametrize("streamed", [False, True], ids=["complete", "stream"])
async def test_parallel_tool_calls_and_empty_arguments(http, remote_upstream, streamed: bool) -> None:
    upstream = remote_upstream
    upstream.fake.knobs.parallel_tools = True
    messages = [{"role": "user", "content": "Weather and time?"}]
    body = {"messages": messages, "tools": [WEATHER, CLOCK]}
    if streamed:
        calls = (await stream(http, upstream, body))[0]["tool_calls"]
    else:
        calls = (await complete(http, upstream, body))["choices"][0]["message"]["tool_calls"]
    assert [c["function"]["name"] for c in calls] == ["get_weather", "get_time"]
    assert json.loads(calls[1]["function"]["arguments"]) == {}
    assert len({c["id"] for c in calls}) == 2
    out = await complete(http, upstream, {"messages": tool_followup(messages, calls, ["rain", "noon"]),
                                          "tools": [WEATHER, CLOCK]})
    assert out["choices"][0]["finish_reason"] == "stop"


async def test_image_message(http, upstream) -> None:
    body = {"messages": [{"role": "user", "content": [
        {"type": "text", "text": "What is in these pictures?"},
        {"type": "image_url", "image_url": {"url": PNG}},
        {"type": "image_url", "image_url": {"url": "https://example.com/cat.jpg"}}]}]}
    out = await complete(http, upstream, body)
    assert "2 images" in out["choices"][0]["message"]["content"]


async def test_json_object_mode(http, upstream) -> None:
    body = {"messages": [{"role": "user", "content": "Reply in json please"}],
            "response_format": {"type": "json_object"}}
    out = await complete(http, upstream, body)
    assert out["choices"][0]["finish_reason"] == "stop"
    assert isinstance(json.loads(out["choices"][0]["message"]["content"]), dict)
    streamed, _ = await stream(http, upstream, body)
    assert isinstance(json.loads(streamed["content"]), dict) and streamed["finish_reason"] == "stop"


async def test_json_schema_mode(http, upstream) -> None:
    schema = {"type": "object", "properties": {"city": {"type": "string"}, "population": {"type": "integer"}},
              "required": ["city", "population"], "additionalProperties": False}
    body = {"messages": [{"role": "user", "content": "A big city"}],
            "response_format": {"type": "json_schema", "json_schema": {"name": "city", "strict": True, "schema": schema}}}
    out = await complete(http, upstream, body)
    data = json.loads(out["choices"][0]["message"]["content"])
    assert set(data) == {"city", "population"} and isinstance(data["population"], int)


async def test_list_models(http, upstream) -> None:
    models = await pipeline.list_models(http, upstream.route)
    assert models and all(isinstance(m, str) and not m.startswith("models/") for m in models)
