"""The sandbox provider: deterministic, input-derived answers through the pipeline."""

from __future__ import annotations

import json

import pytest

from infer0app.gateway import pipeline
from infer0app.gateway.providers.base import Route
from tests.fakes.transcripts import assemble

ROUTE = Route(kind="sandbox", wire="sandbox", base_url="", model="sandbox-echo-1")
WEATHER = {"type": "function", "function": {"name": "get_weather", "parameters": {
    "type": "object", "properties": {"city": {"type": "string"}, "days": {"type": "integer"},
                                     "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}},
    "required": ["city", "unit"]}}}
NOOP = {"type": "function", "function": {"name": "ping"}}


async def answer(body: dict) -> dict:
    result = await pipeline.complete(None, ROUTE, body, clock=lambda: 1700000000)
    return json.loads(result.body)


async def test_plain_reply_echoes_and_counts_tokens() -> None:
    out = await answer({"messages": [{"role": "system", "content": "be brief"},
                                     {"role": "user", "content": "hello big world"}]})
    assert out["model"] == "sandbox-echo-1" and out["created"] == 1700000000
    assert out["choices"][0]["message"]["content"] == 'Sandbox reply: you said "hello big world".'
    assert out["choices"][0]["finish_reason"] == "stop"
    assert out["usage"] == {"prompt_tokens": 13, "completion_tokens": 7, "total_tokens": 20}
    assert out == await answer({"messages": [{"role": "system", "content": "be brief"},
                                             {"role": "user", "content": "hello big world"}]})


async def test_images_are_noticed() -> None:
    out = await answer({"messages": [{"role": "user", "content": [
        {"type": "text", "text": "look"}, {"type": "image_url", "image_url": {"url": "data:image/png;base64,AA=="}}]}]})
    assert out["choices"][0]["message"]["content"] == 'Sandbox reply: you said "look" and attached 1 image.'


async def test_tools_get_a_call_to_the_named_tool_with_schema_arguments() -> None:
    body = {"messages": [{"role": "user", "content": "Oslo please"}], "tools": [NOOP, WEATHER],
            "tool_choice": {"type": "function", "function": {"name": "get_weather"}}}
    out = await answer(body)
    choice = out["choices"][0]
    call = choice["message"]["tool_calls"][0]
    assert choice["finish_reason"] == "tool_calls" and choice["message"]["content"] is None
    assert call["function"]["name"] == "get_weather"
    assert json.loads(call["function"]["arguments"]) == {"city": "Oslo please", "unit": "celsius"}
    assert call["id"].startswith("call_") and call["id"] == (await answer(body))["choices"][0]["message"]["tool_calls"][0]["id"]
    first = (await answer({**body, "tool_choice": "auto"}))["choices"][0]["message"]["tool_calls"][0]
    assert first["function"] == {"name": "ping", "arguments": "{}"}


async def test_tool_choice_none_answers_in_text_and_tool_result_is_quoted() -> None:
    out = await answer({"messages": [{"role": "user", "content": "x"}], "tools": [WEATHER], "tool_choice": "none"})
    assert out["choices"][0]["message"]["content"].startswith("Sandbox reply")
    out = await answer({"messages": [
        {"role": "user", "content": "x"},
        {"role": "assistant", "tool_calls": [{"id": "c", "type": "function", "function": {"name": "ping", "arguments": "{}"}}]},
        {"role": "tool", "tool_call_id": "c", "content": "pong"}], "tools": [NOOP]})
    assert out["choices"][0]["message"]["content"] == 'Sandbox got the tool result: "pong"'


async def test_max_tokens_truncates_with_length_and_stop_cuts() -> None:
    out = await answer({"messages": [{"role": "user", "content": "one two three four"}], "max_tokens": 3})
    assert out["choices"][0]["message"]["content"] == "Sandbox reply: you"
    assert out["choices"][0]["finish_reason"] == "length" and out["usage"]["completion_tokens"] == 3
    out = await answer({"messages": [{"role": "user", "content": "a b"}], "stop": ["said"]})
    assert out["choices"][0]["message"]["content"] == "Sandbox reply: you "


async def test_json_modes_and_n() -> None:
    out = await answer({"messages": [{"role": "user", "content": "q"}], "response_format": {"type": "json_object"}})
    assert json.loads(out["choices"][0]["message"]["content"]) == {"reply": "q"}
    schema = {"type": "object", "properties": {"ok": {"type": "boolean"}, "tags": {"type": "array", "items": {"type": "string"}}}}
    out = await answer({"messages": [{"role": "user", "content": "q"}], "n": 2,
                        "response_format": {"type": "json_schema", "json_schema": {"name": "s", "schema": schema}}})
    assert [json.loads(c["message"]["content"]) for c in out["choices"]] == [{"ok": True, "tags": ["q"]}] * 2


async def test_stream_matches_non_stream_and_reports_usage() -> None:
    body = {"messages": [{"role": "user", "content": "stream me some words please"}],
            "stream_options": {"include_usage": True}}
    result = await pipeline.stream(None, ROUTE, body)
    async with result:
        frames = [f async for f in result]
    assert len(frames) >= 5
    streamed = assemble(frames)
    full = await answer(body)
    assert streamed["content"] == full["choices"][0]["message"]["content"]
    assert streamed["usage"] == full["usage"] and streamed["done"] and streamed["role"] == "assistant"
    assert result.usage.total == full["usage"]["total_tokens"]


async def test_stream_tool_call_arguments_reassemble() -> None:
    result = await pipeline.stream(None, ROUTE, {"messages": [{"role": "user", "content": "Rome"}], "tools": [WEATHER]})
    streamed = assemble([f async for f in result])
    assert streamed["finish_reason"] == "tool_calls" and streamed["usage"] is None
    assert json.loads(streamed["tool_calls"][0]["function"]["arguments"]) == {"city": "Rome", "unit": "celsius"}


async def test_models() -> None:
    assert await pipeline.list_models(None, ROUTE) == ["sandbox-echo-1"]


ODD_SCHEMAS = [  # found by probing from outside: each was a 500 through /v1/chat/completions
    ({"type": "object", "properties": {"a": {"enum": {"x": 1}}}}, {"a": "hi"}),  # enum not an array
    ({"type": "object", "properties": {"a": {"type": "string"}}, "required": 5}, {"a": "hi"}),  # required not an array
    ({"type": "object", "properties": ["a", "b"]}, {}),  # properties not an object
    ({"type": "object", "properties": [{"a": 1}]}, {}),
]


@pytest.mark.parametrize(("schema", "expected"), ODD_SCHEMAS)
async def test_schemas_with_keywords_of_the_wrong_type_still_get_an_example(schema: dict, expected: dict) -> None:
    tool = {"type": "function", "function": {"name": "f", "parameters": schema}}
    out = await answer({"messages": [{"role": "user", "content": "hi"}], "tools": [tool]})
    assert json.loads(out["choices"][0]["message"]["tool_calls"][0]["function"]["arguments"]) == expected
    fmt = {"type": "json_schema", "json_schema": {"name": "n", "schema": schema}}
    out = await answer({"messages": [{"role": "user", "content": "hi"}], "response_format": fmt})
    assert json.loads(out["choices"][0]["message"]["content"]) == expected
