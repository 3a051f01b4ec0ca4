"""Pipeline failure mapping, with the network edge mocked by aioresponses (see conftest.py)."""

from __future__ import annotations

import asyncio
import json

import aiohttp
import pytest

from infer0app.gateway import pipeline
from infer0app.gateway.providers.base import GatewayError, Route
from infer0app.gateway.sse import encode_event
from tests.fakes.transcripts import assemble, load_bytes

KEY = "sk-live-VERYSECRET-0123456789"
OPENAI = Route(kind="openai", wire="openai", base_url="https://api.openai.test/v1", api_key=KEY, model="gpt-4o-mini")
ANTHROPIC = Route(kind="anthropic", wire="anthropic", base_url="https://api.anthropic.test", api_key=KEY,
                  model="claude-sonnet-4-5")
CHAT_URL = "https://api.openai.test/v1/chat/completions"
MSG_URL = "https://api.anthropic.test/v1/messages"
BODY = {"messages": [{"role": "user", "content": "hi"}]}


def no_key_leak(err: GatewayError) -> None:
    text = json.dumps(err.to_dict()) + str(err) + repr(err)
    assert KEY not in text and "VERYSECRET" not in text


async def fail(http, route, call=pipeline.complete) -> GatewayError:
    with pytest.raises(GatewayError) as exc:
        await call(http, route, BODY)
    no_key_leak(exc.value)
    return exc.value


@pytest.mark.parametrize("call", [pipeline.complete, pipeline.stream])
@pytest.mark.parametrize("status", [401, 403])
async def test_rejected_key_is_424_provider_auth_failed(http, mocked, call, status) -> None:
    body = {"error": {"message": f"Incorrect API key provided: {KEY}.", "type": "invalid_request_error",
                      "code": "invalid_api_key"}}
    mocked.post(CHAT_URL, status=status, payload=body)
    err = await fail(http, OPENAI, call)
    assert (err.status, err.code) == (424, "provider_auth_failed")
    assert "dashboard" in err.message and "OpenAI" in err.message
    assert "Incorrect API key provided" in err.message  # the provider's words, key redacted


@pytest.mark.parametrize("call", [pipeline.complete, pipeline.stream])
async def test_429_passes_retry_after(http, mocked, call) -> None:
    mocked.post(MSG_URL, status=429, headers={"Retry-After": "12"},
                payload={"type": "error", "error": {"type": "rate_limit_error", "message": "Too many"}})
    err = await fail(http, ANTHROPIC, call)
    assert (err.status, err.type, err.code, err.headers) == (429, "rate_limit_error", "provider_rate_limited",
                                                             {"retry-after": "12"})


@pytest.mark.parametrize("status", [500, 502, 503, 529])
async def test_upstream_5xx_is_502(http, mocked, status) -> None:
    mocked.post(MSG_URL, status=status, payload={"type": "error", "error": {"type": "overloaded_error",
                                                                            "message": "Overloaded"}})
    err = await fail(http, ANTHROPIC)
    assert (err.status, err.code) == (502, "provider_unavailable") and "Overloaded" in err.message


@pytest.mark.parametrize("call", [pipeline.complete, pipeline.stream])
async def test_timeout_is_504(http, mocked, call) -> None:
    mocked.post(CHAT_URL, exception=asyncio.TimeoutError())
    err = await fail(http, OPENAI, call)
    assert (err.status, err.code) == (504, "provider_timeout")


async def test_connection_failure_is_502(http, mocked) -> None:
    mocked.post(CHAT_URL, exception=aiohttp.ClientConnectionError("refused"))
    err = await fail(http, OPENAI)
    assert (err.status, err.code) == (502, "provider_unreachable")


async def test_upstream_400_is_400_in_plain_words(http, mocked) -> None:
    mocked.post(MSG_URL, status=400, payload={"type": "error", "error": {
        "type": "invalid_request_error", "message": "messages: text content blocks must be non-empty"}})
    err = await fail(http, ANTHROPIC)
    assert (err.status, err.type, err.code) == (400, "invalid_request_error", "provider_rejected_request")
    assert err.message == "Anthropic rejected the request: messages: text content blocks must be non-empty"


async def test_unknown_model_is_424(http, mocked) -> None:
    mocked.post(CHAT_URL, status=404, payload={"error": {"message": "The model `gpt-9` does not exist"}})
    err = await fail(http, OPENAI)
    assert (err.status, err.code) == (424, "provider_model_not_found") and "gpt-4o-mini" in err.message


async def test_unreadable_success_body_is_502(http, mocked) -> None:
    mocked.post(CHAT_URL, status=200, body=b"<html>proxy login</html>")
    err = await fail(http, OPENAI)
    assert (err.status, err.code) == (502, "provider_bad_response")


async def test_complete_success_reports_model_usage_and_dropped(http, mocked) -> None:
    mocked.post(MSG_URL, status=200, payload=json.loads(load_bytes("anthropic/response_text.json"))["anthropic"])
    result = await pipeline.complete(http, ANTHROPIC, {**BODY, "seed": 1, "model": "gpt-4o"}, clock=lambda: 5)
    assert result.status == 200 and result.model == "claude-sonnet-4-5-20250929"
    assert json.loads(result.body)["created"] == 5
    assert result.usage.total == 2598 and result.dropped_params == ("seed",)
    assert result.headers == {"x-infer0-dropped-params": "seed"}
    sent = mocked.requests[("POST", aiohttp.client.URL(MSG_URL))][0].kwargs
    assert json.loads(sent["data"])["model"] == "claude-sonnet-4-5"
    assert sent["headers"]["x-api-key"] == KEY


async def test_stream_success_through_mock(http, mocked) -> None:
    mocked.post(MSG_URL, status=200, body=load_bytes("anthropic/stream_tools.sse"),
                headers={"Content-Type": "text/event-stream"})
    result = await pipeline.stream(http, ANTHROPIC, {**BODY, "stream": True, "stream_options": {"include_usage": True}})
    async with result:
        out = assemble([frame async for frame in result])
    assert out["finish_reason"] == "tool_calls" and len(out["tool_calls"]) == 2 and out["done"]
    assert out["usage"] == {"prompt_tokens": 572, "completion_tokens": 89, "total_tokens": 661,
                            "prompt_tokens_details": {"cached_tokens": 100}}
    assert result.usage.total == 661 and result.model == "claude-sonnet-4-5-20250929" and result.error is None


async def test_error_event_before_any_content_is_a_real_http_error(http, mocked) -> None:
    raw = encode_event("message_start", {"type": "message_start", "message": {
        "id": "m", "type": "message", "role": "assistant", "model": "c", "content": [], "usage": {"input_tokens": 1}}})
    raw += encode_event("error", {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}})
    mocked.post(MSG_URL, status=200, body=raw, headers={"Content-Type": "text/event-stream"})
    err = await fail(http, ANTHROPIC, pipeline.stream)
    assert (err.status, err.code) == (502, "provider_unavailable")


async def test_empty_stream_is_a_real_http_error(http, mocked) -> None:
    mocked.post(CHAT_URL, status=200, body=b"", headers={"Content-Type": "text/event-stream"})
    err = await fail(http, OPENAI, pipeline.stream)
    assert (err.status, err.code) == (502, "provider_stream_ended")


async def test_list_models_errors_in_plain_words(http, mocked) -> None:
    url = "https://api.anthropic.test/v1/models?limit=1000"
    mocked.get(url, status=401, payload={"type": "error", "error": {"type": "authentication_error",
                                                                    "message": "invalid x-api-key"}})
    with pytest.raises(GatewayError) as exc:
        await pipeline.list_models(http, ANTHROPIC)
    assert exc.value.code == "provider_auth_failed"
    assert exc.value.message == "This Anthropic API key was rejected by Anthropic (Anthropic said: invalid x-api-key)."
    mocked.get("https://api.openai.test/v1/models", status=404, body=b"Not Found")
    with pytest.raises(GatewayError) as exc:
        await pipeline.list_models(http, OPENAI)
    assert exc.value.code == "provider_not_found" and "base URL" in exc.value.message
    mocked.get("https://api.openai.test/v1/models", status=200, payload={"object": "list", "data": [{"id": "a"}]})
    assert await pipeline.list_models(http, OPENAI) == ["a"]


async def test_unknown_wire_is_reported() -> None:
    with pytest.raises(GatewayError) as exc:
        await pipeline.complete(None, Route(kind="x", wire="carrier-pigeon", base_url="", model="m"), BODY)
    assert exc.value.code == "provider_misconfigured"
