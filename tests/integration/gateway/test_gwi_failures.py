"""Failures, cancellation and what infer0 actually sends, against the fakes on loopback."""

from __future__ import annotations

import asyncio
import json

import aiohttp
import pytest

from infer0app.gateway import pipeline
from infer0app.gateway.providers.base import GatewayError
from tests.fakes import run_fake
from tests.fakes.transcripts import assemble, load_json

FAKES = ["openai", "anthropic", "gemini", "azure"]
BODY = {"messages": [{"role": "user", "content": "hello"}]}
FAST_TIMEOUT = aiohttp.ClientTimeout(total=None, sock_connect=2, sock_read=0.3)
LONG = " ".join(f"word{i}" for i in range(40))


async def failure(call, *args, **kwargs) -> GatewayError:
    with pytest.raises(GatewayError) as exc:
        await call(*args, **kwargs)
    return exc.value


@pytest.mark.parametrize("kind", FAKES)
async def test_wrong_key_is_provider_auth_failed_everywhere(http, kind: str) -> None:
    async with run_fake(kind) as fake:
        route = fake.route(api_key="sk-wrong-key-000000000000")
        for call in (pipeline.complete, pipeline.stream):
            err = await failure(call, http, route, BODY)
            assert (err.status, err.code) == (424, "provider_auth_failed"), err
            assert "dashboard" in err.message and "sk-wrong-key-000000000000" not in err.message
        err = await failure(pipeline.list_models, http, route)
        assert err.code == "provider_auth_failed"
        assert len(fake.requests) == 3  # each call reached the fake once, no retries


@pytest.mark.parametrize("kind", FAKES)
async def test_rate_limit_passes_retry_after(http, kind: str) -> None:
    async with run_fake(kind, fail_status=429, retry_after="7") as fake:
        err = await failure(pipeline.complete, http, fake.route(), BODY)
        assert (err.status, err.code, err.headers) == (429, "provider_rate_limited", {"retry-after": "7"})


@pytest.mark.parametrize("kind", FAKES)
async def test_server_error_is_502(http, kind: str) -> None:
    async with run_fake(kind, fail_status=500) as fake:
        err = await failure(pipeline.stream, http, fake.route(), BODY)
        assert (err.status, err.code) == (502, "provider_unavailable")


@pytest.mark.parametrize("kind", ["openai", "anthropic"])
async def test_slow_provider_is_504(http, kind: str) -> None:
    async with run_fake(kind, delay=2.0) as fake:
        for call in (pipeline.complete, pipeline.stream):
            err = await failure(call, http, fake.route(), BODY, timeout=FAST_TIMEOUT)
            assert (err.status, err.code) == (504, "provider_timeout")


@pytest.mark.parametrize("kind", ["openai", "anthropic"])
async def test_stall_mid_stream_becomes_error_chunk(http, kind: str) -> None:
    async with run_fake(kind, reply=LONG, stall_after=4) as fake:
        result = await pipeline.stream(http, fake.route(), BODY, timeout=FAST_TIMEOUT)
        async with result:
            out = assemble([f async for f in result])
        assert out["content"] and out["done"]
        assert [e["code"] for e in out["errors"]] == ["provider_timeout"]
        assert result.error is not None and result.error.status == 504


async def test_anthropic_error_event_before_content_is_an_http_error(http) -> None:
    async with run_fake("anthropic", error_first=True) as fake:
        err = await failure(pipeline.stream, http, fake.route(), BODY)
        assert (err.status, err.code) == (502, "provider_unavailable") and "Overloaded" in err.message


@pytest.mark.parametrize("kind", ["openai", "anthropic"])
async def test_error_mid_stream_is_an_error_chunk_and_a_clean_end(http, kind: str) -> None:
    async with run_fake(kind, error_mid_stream=True) as fake:
        result = await pipeline.stream(http, fake.route(), BODY)
        async with result:
            frames = [f async for f in result]
        out = assemble(frames)
        assert out["content"] and len(out["errors"]) == 1 and frames[-1] == b"data: [DONE]\n\n"
        assert result.error is not None


async def test_stream_without_done_is_completed(http) -> None:
    async with run_fake("openai", no_done=True) as fake:
        result = await pipeline.stream(http, fake.route(), BODY)
        frames = [f async for f in result]
        assert frames[-1] == b"data: [DONE]\n\n" and frames.count(b"data: [DONE]\n\n") == 1
        assert not assemble(frames)["errors"]


async def test_azure_unknown_deployment_is_model_not_found(http) -> None:
    async with run_fake("azure") as fake:
        err = await failure(pipeline.complete, http, fake.route(model="no-such-deploy"), BODY)
        assert (err.status, err.code) == (424, "provider_model_not_found") and "no-such-deploy" in err.message


@pytest.mark.parametrize("kind", ["openai", "anthropic", "gemini", "azure"])
@pytest.mark.parametrize("how", ["aclose", "cancel"])
async def test_client_hang_up_closes_the_upstream_request(http, kind: str, how: str) -> None:
    async with run_fake(kind, reply=LONG, stream_delay=0.05) as fake:
        result = await pipeline.stream(http, fake.route(), BODY)
        got: list[bytes] = []

        async def consume() -> None:
            async for frame in result:
                got.append(frame)
                if how == "aclose" and len(got) == 3:
                    await result.aclose()
                    return

        task = asyncio.create_task(consume())
        if how == "cancel":
            while len(got) < 3:
                await asyncio.sleep(0.01)
            task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await asyncio.wait_for(fake.state.disconnected.wait(), 2)
        assert fake.state.disconnects == 1 and fake.state.streams_completed == 0
        assert 3 <= len(got) < 20


async def test_what_infer0_sends_to_anthropic(http) -> None:
    async with run_fake("anthropic") as fake:
        body = {**BODY, "model": "gpt-4o", "seed": 3, "frequency_penalty": 0.2, "temperature": 1.5, "user": "u-1"}
        result = await pipeline.complete(http, fake.route(), body)
        assert result.dropped_params == ("frequency_penalty", "seed")
        sent = fake.chat_requests()[-1]
        assert sent.headers["x-api-key"] == fake.key and sent.headers["anthropic-version"] == "2023-06-01"
        assert sent.json == {"model": "claude-sonnet-4-5", "messages": [{"role": "user", "content": [
            {"type": "text", "text": "hello"}]}], "max_tokens": 4096, "temperature": 1.0,
            "metadata": {"user_id": "u-1"}}


async def test_complex_history_passes_the_strict_anthropic_fake(http) -> None:
    case = load_json("anthropic/request_tool_round_trip.json")["openai"]
    async with run_fake("anthropic") as fake:
        result = await pipeline.stream(http, fake.route(), {**case, "tool_choice": "auto"})
        out = assemble([f async for f in result])
        assert out["done"] and not out["errors"] and out["finish_reason"]
        sent = fake.chat_requests()[-1].json["messages"]
        assert [m["role"] for m in sent] == ["user", "assistant", "user"]
        assert [b["type"] for b in sent[2]["content"]] == ["tool_result", "tool_result", "text"]


async def test_what_infer0_sends_on_the_openai_wires(http) -> None:
    async with run_fake("openai") as fake:
        await pipeline.complete(http, fake.route(model="gpt-4o"), {**BODY, "model": "x", "seed": 1})
        result = await pipeline.stream(http, fake.route(), BODY)
        [f async for f in result]
        plain, streamed = fake.chat_requests()
        assert plain.json == {**BODY, "model": "gpt-4o", "seed": 1}
        assert plain.headers["authorization"] == f"Bearer {fake.key}"
        assert streamed.json["stream"] is True and streamed.json["stream_options"] == {"include_usage": True}
    async with run_fake("azure") as fake:
        await pipeline.complete(http, fake.route(api_version="2024-10-21"), BODY)
        sent = fake.chat_requests()[-1]
        assert sent.path == "/openai/deployments/chat-deploy/chat/completions"
        assert sent.query == {"api-version": "2024-10-21"} and sent.headers["api-key"] == fake.key
        assert "model" not in sent.json and "authorization" not in sent.headers


async def test_gemini_drops_unknown_fields_it_would_reject(http) -> None:
    async with run_fake("gemini") as fake:
        result = await pipeline.complete(http, fake.route(), {**BODY, "user": "u", "logit_bias": {"1": 2}})
        assert result.dropped_params == ("logit_bias", "user")
        assert set(fake.chat_requests()[-1].json) == {"messages", "model"}


async def test_gemini_3_tool_round_trip_survives_a_dropped_thought_signature(http) -> None:
    tools = [{"type": "function", "function": {"name": "lookup", "parameters": {
        "type": "object", "properties": {"q": {"type": "string"}}, "required": ["q"]}}}]
    async with run_fake("gemini") as fake:
        route = fake.route(model="gemini-3-flash-preview")
        messages = [{"role": "user", "content": "find cats"}]
        first = await pipeline.stream(http, route, {"messages": messages, "tools": tools})
        out = assemble([f async for f in first])
        assert out["finish_reason"] == "tool_calls"
        call = out["tool_calls"][0]  # an SDK-style accumulation keeps no extra_content
        follow = [*messages, {"role": "assistant", "tool_calls": [call]},
                  {"role": "tool", "tool_call_id": call["id"], "content": "3 cats"}]
        second = await pipeline.complete(http, route, {"messages": follow, "tools": tools})
        assert "3 cats" in json.loads(second.body)["choices"][0]["message"]["content"]
