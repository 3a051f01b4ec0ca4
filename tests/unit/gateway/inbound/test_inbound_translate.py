"""Golden request translations (Responses and Messages -> Chat Completions), and recorded
chat streams replayed through the stream translators and read by the official SDKs."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import anthropic
import openai
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from infer0app.errors.anthropic_errors import anthropic_error_body
from infer0app.gateway.inbound import messages, responses, responses_output
from infer0app.gateway.inbound.messages_stream import MessagesStream
from infer0app.gateway.inbound.responses_stream import ResponsesStream
from infer0app.gateway.providers.base import GatewayError
from infer0app.gateway.sse import encode_json
from tests.fakes.transcripts import load_bytes, load_expected_frames
from tests.unit.gateway.inbound.conftest import counter_ids

FN = {"type": "object", "properties": {"q": {"type": "string"}}}


def test_responses_request_golden() -> None:
    body = {
        "model": "gpt-x", "instructions": "Be brief.", "max_output_tokens": 50, "temperature": 0.2, "top_p": 0.9,
        "store": True, "metadata": {"a": "b"}, "truncation": "auto", "include": ["reasoning.encrypted_content"],
        "reasoning": {"effort": "low"}, "text": {"format": {"type": "json_schema", "name": "n", "schema": FN}},
        "tools": [{"type": "function", "name": "find", "parameters": FN, "strict": True}],
        "tool_choice": {"type": "function", "name": "find"}, "parallel_tool_calls": False,
        "input": [
            {"role": "user", "content": [{"type": "input_text", "text": "look"},
                                         {"type": "input_image", "image_url": "https://x/y.png", "detail": "low"}]},
            {"type": "message", "role": "assistant", "id": "msg_1", "status": "completed",
             "content": [{"type": "output_text", "text": "Searching.", "annotations": []}]},
            {"type": "function_call", "call_id": "c1", "name": "find", "arguments": '{"q":"a"}'},
            {"type": "function_call", "call_id": "c2", "name": "find", "arguments": '{"q":"b"}'},
            {"type": "reasoning", "id": "rs_1", "summary": []},
            {"type": "function_call_output", "call_id": "c1", "output": "A"},
            {"type": "function_call_output", "call_id": "c2", "output": [{"type": "input_text", "text": "B"}]},
        ],
    }
    chat = responses.to_chat(body)
    assert chat.body == {
        "model": "gpt-x",
        "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": [{"type": "text", "text": "look"},
                                         {"type": "image_url", "image_url": {"url": "https://x/y.png", "detail": "low"}}]},
            {"role": "assistant", "content": "Searching.", "tool_calls": [
                {"id": "c1", "type": "function", "function": {"name": "find", "arguments": '{"q":"a"}'}},
                {"id": "c2", "type": "function", "function": {"name": "find", "arguments": '{"q":"b"}'}}]},
            {"role": "tool", "tool_call_id": "c1", "content": "A"},
            {"role": "tool", "tool_call_id": "c2", "content": [{"type": "text", "text": "B"}]},
        ],
        "tools": [{"type": "function", "function": {"name": "find", "parameters": FN, "strict": True}}],
        "tool_choice": {"type": "function", "function": {"name": "find"}},
        "parallel_tool_calls": False,
        "response_format": {"type": "json_schema", "json_schema": {"name": "n", "schema": FN}},
        "reasoning_effort": "low",
        "max_tokens": 50, "temperature": 0.2, "top_p": 0.9,
    }
    assert chat.dropped == ("include", "input[].reasoning", "truncation")
    assert chat.stream is False


def test_responses_allowed_tools_narrows_the_tool_list() -> None:
    body = {"input": "hi", "tools": [{"type": "function", "name": "a"}, {"type": "function", "name": "b"}],
            "tool_choice": {"type": "allowed_tools", "mode": "required", "tools": [{"type": "function", "name": "b"}]}}
    chat = responses.to_chat(body)
    assert chat.body["tool_choice"] == "required"
    assert [t["function"]["name"] for t in chat.body["tools"]] == ["b"]


@pytest.mark.parametrize(("body", "param"), [
    ({"input": 3}, "input"),
    ({"input": []}, "input"),
    ({"input": [{"role": "robot", "content": "x"}]}, "input[0].role"),
    ({"input": [{"role": "user", "content": [{"type": "input_audio"}]}]}, "input[0].content[0].type"),
    ({"input": [{"role": "user", "content": [{"type": "input_image", "file_id": "f"}]}]}, "input[0].content[0].file_id"),
    ({"input": [{"type": "function_call", "name": "f", "arguments": "{}"}]}, "input[0].call_id"),
    ({"input": "x", "tools": [{"type": "file_search"}]}, "tools[0].type"),
    ({"input": "x", "tool_choice": {"type": "web_search_preview"}, "tools": [{"type": "function", "name": "a"}]},
     "tool_choice"),
    ({"input": "x", "text": {"format": {"type": "xml"}}}, "text.format.type"),
    ({"input": "x", "max_output_tokens": 0}, "max_output_tokens"),
    ({"input": "x", "prompt": {"id": "pmpt_1"}}, "prompt"),
])
def test_responses_request_errors_name_the_parameter(body: dict, param: str) -> None:
    with pytest.raises(GatewayError) as caught:
        responses.to_chat(body)
    assert caught.value.status == 400 and caught.value.param == param


def test_messages_request_golden() -> None:
    body = {
        "model": "claude-x", "max_tokens": 64, "system": [{"type": "text", "text": "S1"}, {"type": "text", "text": "S2"}],
        "stop_sequences": ["END"], "temperature": 0.5, "top_p": 0.8, "top_k": 40, "metadata": {"user_id": "u1"},
        "tools": [{"name": "find", "description": "Find", "input_schema": FN}],
        "tool_choice": {"type": "any", "disable_parallel_tool_use": True}, "stream": True,
        "messages": [
            {"role": "user", "content": [
                {"type": "image", "source": {"type": "url", "url": "https://x/y.jpg"}},
                {"type": "text", "text": "look"}]},
            {"role": "assistant", "content": [
                {"type": "thinking", "thinking": "hm", "signature": "sig"},
                {"type": "text", "text": "Searching."},
                {"type": "tool_use", "id": "toolu_1", "name": "find", "input": {"q": "a"}}]},
            {"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": "toolu_1", "content": [{"type": "text", "text": "A"}]},
                {"type": "text", "text": "and?"}]},
            {"role": "assistant", "content": [{"type": "tool_use", "id": "toolu_2", "name": "find", "input": {}}]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_2", "is_error": True,
                                          "content": "timeout"}]},
        ],
    }
    chat = messages.to_chat(body)
    assert chat.body == {
        "model": "claude-x", "max_tokens": 64, "stop": ["END"], "temperature": 0.5, "top_p": 0.8, "user": "u1",
        "messages": [
            {"role": "system", "content": "S1\n\nS2"},
            {"role": "user", "content": [{"type": "image_url", "image_url": {"url": "https://x/y.jpg"}},
                                         {"type": "text", "text": "look"}]},
            {"role": "assistant", "content": "Searching.", "tool_calls": [
                {"id": "toolu_1", "type": "function", "function": {"name": "find", "arguments": '{"q": "a"}'}}]},
            {"role": "tool", "tool_call_id": "toolu_1", "content": "A"},
            {"role": "user", "content": [{"type": "text", "text": "and?"}]},
            {"role": "assistant", "content": None, "tool_calls": [
                {"id": "toolu_2", "type": "function", "function": {"name": "find", "arguments": "{}"}}]},
            {"role": "tool", "tool_call_id": "toolu_2", "content": "Error: timeout"},
        ],
        "tools": [{"type": "function", "function": {"name": "find", "parameters": FN, "description": "Find"}}],
        "tool_choice": "required", "parallel_tool_calls": False,
        "stream": True, "stream_options": {"include_usage": True},
    }
    assert chat.dropped == ("messages[].content[].thinking", "top_k")
    assert chat.stream is True


def test_messages_error_body_keeps_the_status_meaning() -> None:
    for status, kind in [(400, "invalid_request_error"), (401, "authentication_error"), (424, "invalid_request_error"),
                         (429, "rate_limit_error"), (502, "api_error"), (504, "timeout_error")]:
        err = GatewayError(status, "why")
        body = anthropic_error_body(err.code, err.status, err.message)  # what /v1/messages answers
        assert body == {"type": "error", "error": {"type": kind, "message": "why"}}


def test_chat_answer_to_message_and_response() -> None:
    chat = {"id": "chatcmpl-1", "object": "chat.completion", "created": 1700000000, "model": "m-1",
            "choices": [{"index": 0, "finish_reason": "tool_calls", "message": {
                "role": "assistant", "content": "Let me look.",
                "tool_calls": [{"id": "call_9", "type": "function", "function": {"name": "find", "arguments": '{"q":1}'}}]}}],
            "usage": {"prompt_tokens": 100, "completion_tokens": 7, "total_tokens": 107,
                      "prompt_tokens_details": {"cached_tokens": 60},
                      "completion_tokens_details": {"reasoning_tokens": 2}}}
    assert messages.to_message(chat, new_id=counter_ids()) == {
        "id": "msg_1", "type": "message", "role": "assistant", "model": "m-1",
        "content": [{"type": "text", "text": "Let me look."},
                    {"type": "tool_use", "id": "call_9", "name": "find", "input": {"q": 1}}],
        "stop_reason": "tool_use", "stop_sequence": None,
        "usage": {"input_tokens": 40, "output_tokens": 7, "cache_read_input_tokens": 60,
                  "cache_creation_input_tokens": 0},
    }
    resp = openai.types.responses.Response.model_validate(
        responses_output.to_response(chat, {"input": "x", "metadata": {"k": "v"}}, new_id=counter_ids()))
    assert resp.id == "resp_3" and resp.created_at == 1700000000 and resp.model == "m-1"
    assert resp.output_text == "Let me look."
    assert [(i.type, i.id) for i in resp.output] == [("message", "msg_1"), ("function_call", "fc_2")]
    assert resp.output[1].call_id == "call_9" and resp.output[1].arguments == '{"q":1}'
    assert resp.usage.input_tokens_details.cached_tokens == 60
    assert resp.usage.output_tokens_details.reasoning_tokens == 2
    assert resp.usage.total_tokens == 107 and resp.metadata == {"k": "v"}


# ---------------------------------------------------------------- recorded streams, read by the SDKs

#: Chat streams as the pipeline emits them: OpenAI's own (parallel calls, usage after the
#: finish chunk), Anthropic's translated (text then a call), Gemini's (both calls in one chunk).
RECORDED = {
    "openai": load_bytes("openai/stream_tool_calls_usage.sse"),
    "anthropic": b"".join(b"data: [DONE]\n\n" if c == "[DONE]" else encode_json(c)
                          for c in load_expected_frames("anthropic/stream_tools.expected.jsonl")),
    "gemini": b"".join(b"data: [DONE]\n\n" if c == "[DONE]" else encode_json(c)
                       for c in load_expected_frames("gemini/stream_tool_calls.expected.jsonl")),
}


def _split_frames(raw: bytes) -> list[bytes]:
    return [frame + b"\n\n" for frame in raw.split(b"\n\n") if frame.strip()]


def _chat_calls(raw: bytes) -> dict[str, tuple[str, str]]:
    """{call id: (name, arguments)} accumulated from a chat stream, as the app would."""
    calls: dict[int, dict[str, str]] = {}
    for frame in _split_frames(raw):
        data = frame.decode().removeprefix("data: ").strip()
        if data == "[DONE]":
            continue
        for choice in json.loads(data).get("choices") or []:
            for tc in (choice.get("delta") or {}).get("tool_calls") or []:
                slot = calls.setdefault(tc["index"], {"id": "", "name": "", "arguments": ""})
                slot["id"] = tc.get("id") or slot["id"]
                slot["name"] = (tc.get("function") or {}).get("name") or slot["name"]
                slot["arguments"] += (tc.get("function") or {}).get("arguments") or ""
    return {c["id"]: (c["name"], c["arguments"]) for c in calls.values()}


@pytest.fixture
async def replay() -> AsyncIterator[tuple[str, dict[str, bytes]]]:
    """A loopback server answering /v1/responses and /v1/messages with prepared bytes."""
    served: dict[str, bytes] = {}

    async def answer(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse(headers={"content-type": "text/event-stream"})
        await resp.prepare(request)
        await resp.write(served[request.path])
        return resp

    app = web.Application()
    app.router.add_post("/v1/responses", answer)
    app.router.add_post("/v1/messages", answer)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        yield str(server.make_url("")).rstrip("/"), served
    finally:
        await server.close()


@pytest.mark.parametrize("source", sorted(RECORDED))
async def test_recorded_streams_as_responses_events(source: str, replay: tuple[str, dict[str, bytes]]) -> None:
    url, served = replay
    raw = RECORDED[source]
    tr = ResponsesStream({"input": "x"}, model="m", created_at=1700000000, new_id=counter_ids())
    served["/v1/responses"] = b"".join(tr.start() + [o for f in _split_frames(raw) for o in tr.feed_frame(f)] + tr.finish())
    api = openai.AsyncOpenAI(base_url=url + "/v1", api_key="k", max_retries=0)
    async with api.responses.stream(model="m", input="x") as stream:
        events = [e async for e in stream]
        final = await stream.get_final_response()
    assert [e.sequence_number for e in events] == list(range(len(events)))
    got = {i.call_id: (i.name, i.arguments) for i in final.output if i.type == "function_call"}
    assert got == _chat_calls(raw) and got
    assert final.status == "completed"
    if b'"prompt_tokens"' in raw:  # the stream reported usage
        assert final.usage is not None and final.usage.output_tokens > 0


@pytest.mark.parametrize("source", sorted(RECORDED))
async def test_recorded_streams_as_anthropic_events(source: str, replay: tuple[str, dict[str, bytes]]) -> None:
    url, served = replay
    raw = RECORDED[source]
    tr = MessagesStream(model="m", new_id=counter_ids())
    served["/v1/messages"] = b"".join([o for f in _split_frames(raw) for o in tr.feed_frame(f)] + tr.finish())
    api = anthropic.AsyncAnthropic(base_url=url, api_key="k", max_retries=0)
    async with api.messages.stream(model="m", max_tokens=10, messages=[{"role": "user", "content": "x"}]) as stream:
        final = await stream.get_final_message()
    got = {b.id: (b.name, b.input) for b in final.content if b.type == "tool_use"}
    assert got == {k: (n, json.loads(a)) for k, (n, a) in _chat_calls(raw).items()} and got
    assert final.stop_reason == "tool_use"
    assert (final.usage.output_tokens > 0) == (b'"prompt_tokens"' in raw)  # usage whenever the stream reported it
