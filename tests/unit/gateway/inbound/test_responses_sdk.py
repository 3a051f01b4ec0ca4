"""The official `openai` SDK's `responses.create` / `responses.stream` against the Responses
translators, over loopback, for OpenAI-compatible, Anthropic and Gemini connections (fakes)."""

from __future__ import annotations

import json

import openai
import pytest

from tests.unit.gateway.inbound.conftest import Shim, run_shim

WEATHER = {
    "type": "function",
    "name": "get_weather",
    "description": "Weather in a city",
    "parameters": {"type": "object", "properties": {"location": {"type": "string"}}, "required": ["location"]},
}


def client(shim: Shim) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(base_url=shim.url, api_key="i0_at_test", max_retries=0)


async def test_create_answers_a_response_the_sdk_reads(shim: Shim) -> None:
    resp = await client(shim).responses.create(model="any", input="hi there", instructions="Be brief.")
    assert resp.object == "response" and resp.id.startswith("resp_")
    assert resp.status == "completed"
    assert resp.output_text == "Hello! You said: hi there"
    assert [item.type for item in resp.output] == ["message"]
    assert resp.output[0].content[0].type == "output_text"
    assert resp.usage is not None and resp.usage.input_tokens > 0 and resp.usage.output_tokens > 0
    assert resp.usage.total_tokens == resp.usage.input_tokens + resp.usage.output_tokens
    assert resp.instructions == "Be brief."
    sent = shim.chat_bodies[-1]["messages"]
    assert sent[0] == {"role": "system", "content": "Be brief."}
    assert sent[1] == {"role": "user", "content": "hi there"}


async def test_stream_events_accumulate_to_the_same_answer(shim: Shim) -> None:
    async with client(shim).responses.stream(model="any", input="tell me a story please") as stream:
        events = [event async for event in stream]
        final = await stream.get_final_response()
    kinds = [e.type for e in events]
    assert kinds[:4] == ["response.created", "response.in_progress", "response.output_item.added",
                         "response.content_part.added"]
    assert kinds[-4:] == ["response.output_text.done", "response.content_part.done", "response.output_item.done",
                          "response.completed"]
    assert [e.sequence_number for e in events] == list(range(len(events)))
    deltas = [e for e in events if e.type == "response.output_text.delta"]
    assert len(deltas) > 1, "the text should arrive in several deltas"
    assert deltas[-1].snapshot == "Hello! You said: tell me a story please"
    assert final.output_text == "Hello! You said: tell me a story please"
    assert final.status == "completed"
    assert final.usage is not None and final.usage.output_tokens > 0
    assert shim.chat_bodies[-1]["stream_options"] == {"include_usage": True}


async def test_function_call_round_trip(shim: Shim) -> None:
    api = client(shim)
    first = await api.responses.create(model="any", input="Weather in Paris?", tools=[WEATHER])
    calls = [item for item in first.output if item.type == "function_call"]
    assert len(calls) == 1
    call = calls[0]
    assert call.name == "get_weather" and call.call_id and call.id and call.id.startswith("fc_")
    assert json.loads(call.arguments) == {"location": "Paris"}
    assert first.tools[0].name == "get_weather"

    history = [{"role": "user", "content": "Weather in Paris?"}, *[i.model_dump(exclude_none=True) for i in first.output],
               {"type": "function_call_output", "call_id": call.call_id, "output": "sunny, 21 C"}]
    second = await api.responses.create(model="any", input=history, tools=[WEATHER])
    assert second.output_text == "The tool said: sunny, 21 C."
    sent = shim.chat_bodies[-1]["messages"]
    assert sent[-2]["tool_calls"][0]["id"] == call.call_id
    assert sent[-1] == {"role": "tool", "tool_call_id": call.call_id, "content": "sunny, 21 C"}


async def test_streamed_function_call_round_trip(shim: Shim) -> None:
    api = client(shim)
    async with api.responses.stream(model="any", input="Weather in Paris?", tools=[WEATHER]) as stream:
        events = [event async for event in stream]
        final = await stream.get_final_response()
    kinds = [e.type for e in events]
    assert "response.function_call_arguments.done" in kinds
    added = next(e for e in events if e.type == "response.output_item.added" and e.item.type == "function_call")
    done = next(e for e in events if e.type == "response.function_call_arguments.done")
    assert done.item_id == added.item.id and json.loads(done.arguments) == {"location": "Paris"}
    call = next(item for item in final.output if item.type == "function_call")
    assert json.loads(call.arguments) == {"location": "Paris"}

    history = [{"role": "user", "content": "Weather in Paris?"},
               {"type": "function_call", "call_id": call.call_id, "name": call.name, "arguments": call.arguments},
               {"type": "function_call_output", "call_id": call.call_id, "output": "rain"}]
    async with api.responses.stream(model="any", input=history, tools=[WEATHER]) as stream:
        final = await stream.get_final_response()
    assert final.output_text == "The tool said: rain."


async def test_json_schema_text_format(shim: Shim) -> None:
    schema = {"type": "object", "properties": {"city": {"type": "string"}, "days": {"type": "integer"}},
              "required": ["city", "days"], "additionalProperties": False}
    resp = await client(shim).responses.create(
        model="any", input="plan a trip",
        text={"format": {"type": "json_schema", "name": "trip", "schema": schema, "strict": True}})
    assert json.loads(resp.output_text) == {"city": "Paris", "days": 3}
    assert resp.text.format.type == "json_schema"
    assert shim.chat_bodies[-1]["response_format"]["json_schema"]["name"] == "trip"


async def test_max_output_tokens_makes_an_incomplete_response(shim: Shim) -> None:
    api = client(shim)
    resp = await api.responses.create(model="any", input="one two three four five six", max_output_tokens=2)
    assert resp.status == "incomplete"
    assert resp.incomplete_details is not None and resp.incomplete_details.reason == "max_output_tokens"
    async with api.responses.stream(model="any", input="one two three four five six", max_output_tokens=2) as stream:
        events = [event async for event in stream]
    assert events[-1].type == "response.incomplete"
    assert events[-1].response.incomplete_details.reason == "max_output_tokens"


@pytest.mark.parametrize(
    ("extra", "param"),
    [
        ({"previous_response_id": "resp_abc"}, "previous_response_id"),
        ({"conversation": "conv_abc"}, "conversation"),
        ({"background": True}, "background"),
        ({"tools": [{"type": "web_search"}]}, "tools[0].type"),
        ({"input": [{"type": "item_reference", "id": "msg_1"}]}, "input[0].type"),
    ],
)
async def test_stateful_features_get_a_400_naming_the_parameter(extra: dict, param: str) -> None:
    async with run_shim("openai") as shim:
        with pytest.raises(openai.BadRequestError) as caught:
            await client(shim).responses.create(model="any", **{"input": "hi", **extra})
        assert caught.value.status_code == 400
        assert caught.value.body["param"] == param
        assert shim.fake.chat_requests() == []  # nothing reached the provider


async def test_store_true_is_accepted_and_nothing_is_kept() -> None:
    async with run_shim("openai") as shim:
        api = client(shim)
        resp = await api.responses.create(model="any", input="hi", store=True, metadata={"trace": "t1"})
        assert resp.output_text == "Hello! You said: hi"
        assert resp.metadata == {"trace": "t1"}
        assert "metadata" not in shim.chat_bodies[-1] and "store" not in shim.chat_bodies[-1]
        with pytest.raises(openai.BadRequestError):
            await api.responses.create(model="any", input="again", previous_response_id=resp.id)


async def test_a_provider_failure_mid_stream_fails_the_response() -> None:
    async with run_shim("openai", error_mid_stream=True) as shim:
        async with client(shim).responses.stream(model="any", input="tell me more about it") as stream:
            events = [event async for event in stream]
    kinds = [e.type for e in events]
    assert kinds[-2:] == ["error", "response.failed"]
    assert events[-1].response.status == "failed"
    assert events[-1].response.error.code == "server_error"
    assert events[-1].response.error.message
