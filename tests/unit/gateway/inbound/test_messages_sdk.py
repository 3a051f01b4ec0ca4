"""The official `anthropic` SDK's `messages.create` / `messages.stream` against the Messages
translators, over loopback, for OpenAI-compatible, Anthropic and Gemini connections (fakes)."""

from __future__ import annotations

import base64

import anthropic
import pytest

from tests.unit.gateway.inbound.conftest import Shim, run_shim

WEATHER = {
    "name": "get_weather",
    "description": "Weather in a city",
    "input_schema": {"type": "object", "properties": {"location": {"type": "string"}}, "required": ["location"]},
}
PIXEL = base64.b64encode(bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082")).decode()


def client(shim: Shim) -> anthropic.AsyncAnthropic:
    return anthropic.AsyncAnthropic(base_url=shim.url.removesuffix("/v1"), api_key="i0_at_test", max_retries=0)


async def test_create_answers_a_message_the_sdk_reads(shim: Shim) -> None:
    msg = await client(shim).messages.create(
        model="any", max_tokens=100, system=[{"type": "text", "text": "Be brief."}],
        messages=[{"role": "user", "content": "hi there"}])
    assert msg.type == "message" and msg.role == "assistant" and msg.id.startswith("msg_")
    assert [b.type for b in msg.content] == ["text"]
    assert msg.content[0].text == "Hello! You said: hi there"
    assert msg.stop_reason == "end_turn"
    assert msg.usage.input_tokens > 0 and msg.usage.output_tokens > 0
    sent = shim.chat_bodies[-1]
    assert sent["messages"][0] == {"role": "system", "content": "Be brief."}
    assert sent["max_tokens"] == 100


async def test_images_reach_the_provider(shim: Shim) -> None:
    msg = await client(shim).messages.create(model="any", max_tokens=100, messages=[{"role": "user", "content": [
        {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": PIXEL}},
        {"type": "text", "text": "what is this"}]}])
    assert msg.content[0].text == "Hello! You said: what is this I see 1 image."
    part = shim.chat_bodies[-1]["messages"][0]["content"][0]
    assert part == {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PIXEL}"}}


async def test_stream_events_accumulate_to_the_same_answer(shim: Shim) -> None:
    async with client(shim).messages.stream(
            model="any", max_tokens=100, messages=[{"role": "user", "content": "tell me a story please"}]) as stream:
        kinds = [event.type async for event in stream]
        final = await stream.get_final_message()
    assert kinds[0] == "message_start"
    assert kinds[-2:] == ["message_delta", "message_stop"]
    assert kinds.count("content_block_start") == 1 and kinds.count("text") > 1
    assert final.content[0].text == "Hello! You said: tell me a story please"
    assert final.stop_reason == "end_turn"
    assert final.usage.input_tokens > 0 and final.usage.output_tokens > 0


async def test_tool_round_trip(shim: Shim) -> None:
    api = client(shim)
    ask = [{"role": "user", "content": "Weather in Paris?"}]
    first = await api.messages.create(model="any", max_tokens=200, tools=[WEATHER], messages=ask)
    assert first.stop_reason == "tool_use"
    use = next(b for b in first.content if b.type == "tool_use")
    assert use.name == "get_weather" and use.input == {"location": "Paris"} and use.id

    history = [*ask, {"role": "assistant", "content": [b.model_dump(exclude_none=True) for b in first.content]},
               {"role": "user", "content": [{"type": "tool_result", "tool_use_id": use.id, "content": "sunny"}]}]
    second = await api.messages.create(model="any", max_tokens=200, tools=[WEATHER], messages=history)
    assert second.content[0].text == "The tool said: sunny."
    sent = shim.chat_bodies[-1]["messages"]
    assert sent[-2]["tool_calls"][0]["id"] == use.id
    assert sent[-1] == {"role": "tool", "tool_call_id": use.id, "content": "sunny"}


async def test_streamed_tool_round_trip(shim: Shim) -> None:
    api = client(shim)
    ask = [{"role": "user", "content": "Weather in Paris?"}]
    async with api.messages.stream(model="any", max_tokens=200, tools=[WEATHER], messages=ask) as stream:
        events = [event async for event in stream]
        first = await stream.get_final_message()
    assert any(e.type == "input_json" for e in events)
    assert first.stop_reason == "tool_use"
    use = next(b for b in first.content if b.type == "tool_use")
    assert use.input == {"location": "Paris"}

    history = [*ask, {"role": "assistant", "content": [b.model_dump(exclude_none=True) for b in first.content]},
               {"role": "user", "content": [{"type": "tool_result", "tool_use_id": use.id,
                                             "content": [{"type": "text", "text": "rain"}]}]}]
    async with api.messages.stream(model="any", max_tokens=200, tools=[WEATHER], messages=history) as stream:
        second = await stream.get_final_message()
    assert second.content[0].text == "The tool said: rain."


async def test_max_tokens_stop_reason(shim: Shim) -> None:
    msg = await client(shim).messages.create(model="any", max_tokens=2,
                                             messages=[{"role": "user", "content": "one two three four five"}])
    assert msg.stop_reason == "max_tokens"


@pytest.mark.parametrize(
    ("body", "param_in_message"),
    [
        ({"max_tokens": 0}, "max_tokens"),
        ({"tools": [{"type": "web_search_20250305", "name": "web_search"}]}, "tools.0"),
        ({"messages": [{"role": "user", "content": [{"type": "document", "source": {}}]}]}, "messages.0.content.0"),
    ],
)
async def test_bad_requests_get_anthropic_errors(body: dict, param_in_message: str) -> None:
    async with run_shim("openai") as shim:
        request = {"model": "any", "max_tokens": 10, "messages": [{"role": "user", "content": "hi"}], **body}
        with pytest.raises(anthropic.BadRequestError) as caught:
            await client(shim).messages.create(**request)
        assert caught.value.status_code == 400
        assert caught.value.body["type"] == "error"
        assert caught.value.body["error"]["type"] == "invalid_request_error"
        assert param_in_message in caught.value.body["error"]["message"]
        assert shim.fake.chat_requests() == []


async def test_a_provider_failure_mid_stream_raises_in_the_sdk() -> None:
    async with run_shim("openai", error_mid_stream=True) as shim:
        with pytest.raises(anthropic.APIStatusError):
            async with client(shim).messages.stream(
                    model="any", max_tokens=100, messages=[{"role": "user", "content": "tell me more about it"}]) as s:
                async for _ in s:
                    pass


async def test_a_provider_rejection_is_an_anthropic_error() -> None:
    async with run_shim("openai", fail_status=429) as shim:
        with pytest.raises(anthropic.RateLimitError) as caught:
            await client(shim).messages.create(model="any", max_tokens=10, messages=[{"role": "user", "content": "hi"}])
        assert caught.value.body["error"]["type"] == "rate_limit_error"
