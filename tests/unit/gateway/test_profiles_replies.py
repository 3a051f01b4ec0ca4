"""Golden tests for reply normalisation (gateway/profiles/replies.py): stream cases in
tests/fixtures/profiles/streams.json, non-stream bodies below."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from infer0app.gateway.profiles.replies import StreamNormaliser, normalise_body
from infer0app.gateway.providers.anthropic import to_openai
from infer0app.gateway.providers.base import Route
from infer0app.gateway.sse import SSEParser

FIXTURE = Path(__file__).parents[2] / "fixtures" / "profiles" / "streams.json"
CASES: list[dict[str, Any]] = json.loads(FIXTURE.read_text())["cases"]


def frames_to_values(frames: list[bytes]) -> list[Any]:
    """What an SSE client reads: each event's data, JSON-decoded (or "[DONE]")."""
    parser = SSEParser()
    events = parser.feed(b"".join(frames)) + parser.flush()
    return [e.data if e.data == "[DONE]" else json.loads(e.data) for e in events]


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_stream_golden(case: dict[str, Any]) -> None:
    norm = StreamNormaliser(include_usage=case["include_usage"])
    frames: list[bytes] = []
    for data in case["in"]:
        frames.extend(norm.feed(data))
    frames.extend(norm.finish())
    assert frames_to_values(frames) == case["out"]
    if "complete" in case:
        assert norm.complete is case["complete"]


def test_openai_docs_loop_reads_every_frame() -> None:
    """OpenAI's documented loop (`chunk.choices[0].delta`) must work on every frame
    except the final usage chunk, for every stream case."""
    for case in CASES:
        norm = StreamNormaliser(include_usage=False)
        frames = [f for data in case["in"] for f in norm.feed(data)] + norm.finish()
        for value in frames_to_values(frames):
            if value != "[DONE]":
                assert value["choices"][0]["delta"] is not None, case["name"]


def test_usage_is_kept_for_accounting_even_when_not_sent() -> None:
    norm = StreamNormaliser(include_usage=False)
    norm.feed('{"id":"a","choices":[{"index":0,"delta":{},"finish_reason":"stop"}],'
              '"usage":{"prompt_tokens":2,"completion_tokens":3}}')
    assert norm.usage == {"prompt_tokens": 2, "completion_tokens": 3, "total_tokens": 5}


def test_error_payloads_pass_through_unchanged() -> None:
    norm = StreamNormaliser(include_usage=False)
    raw = '{"error":{"message":"overloaded","type":"server_error"}}'
    assert frames_to_values(norm.feed(raw)) == [json.loads(raw)]


def test_body_finish_reason_role_and_arguments_are_filled() -> None:
    body = {
        "id": "c", "model": "m",
        "choices": [
            {"message": {"content": "hi"}, "finish_reason": None},
            {"message": {"role": "assistant", "content": None,
                         "tool_calls": [{"id": "t", "function": {"name": "f", "arguments": {"x": 1}}}]}},
        ],
        "x_groq": {"usage": {"prompt_tokens": 1, "completion_tokens": 2}},
    }
    assert normalise_body(body) is True
    assert body["object"] == "chat.completion"
    first, second = body["choices"]
    assert (first["index"], first["message"]["role"], first["finish_reason"]) == (0, "assistant", "stop")
    assert second["index"] == 1 and second["finish_reason"] == "tool_calls"
    call = second["message"]["tool_calls"][0]
    assert call["type"] == "function" and json.loads(call["function"]["arguments"]) == {"x": 1}
    assert body["usage"] == {"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3}


def test_body_already_in_openai_shape_is_left_alone() -> None:
    body = {"id": "c", "object": "chat.completion", "model": "m",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": "x"}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}}
    before = json.dumps(body)
    assert normalise_body(body) is False
    assert json.dumps(body) == before


def test_anthropic_thinking_never_reaches_message_content() -> None:
    """With extended thinking on, Claude answers thinking blocks first; the app's
    `message.content` holds only the answer text."""
    route = Route(kind="anthropic", wire="anthropic", base_url="https://a.test", model="claude-sonnet-4-5")
    msg = {"type": "message", "id": "msg_1", "model": "claude-sonnet-4-5", "stop_reason": "end_turn",
           "content": [{"type": "thinking", "thinking": "secret plan", "signature": "sig"},
                       {"type": "redacted_thinking", "data": "xxx"},
                       {"type": "text", "text": "42"}],
           "usage": {"input_tokens": 3, "output_tokens": 9}}
    out = to_openai(route, msg, created=1)
    assert out["choices"][0]["message"]["content"] == "42"
    assert "secret plan" not in json.dumps(out)


def test_anthropic_streamed_thinking_never_reaches_content_deltas() -> None:
    from infer0app.gateway.providers.anthropic_stream import AnthropicTranslator
    from infer0app.gateway.sse import SSEEvent

    route = Route(kind="anthropic", wire="anthropic", base_url="https://a.test", model="claude-sonnet-4-5")
    tr = AnthropicTranslator(route, include_usage=False, created=1, json_tool="infer0_json_response")
    events = [
        ("message_start", {"type": "message_start", "message": {"id": "msg_1", "model": "claude-sonnet-4-5",
                                                                "usage": {"input_tokens": 3, "output_tokens": 1}}}),
        ("content_block_start", {"type": "content_block_start", "index": 0,
                                 "content_block": {"type": "thinking", "thinking": ""}}),
        ("content_block_delta", {"type": "content_block_delta", "index": 0,
                                 "delta": {"type": "thinking_delta", "thinking": "secret plan"}}),
        ("content_block_delta", {"type": "content_block_delta", "index": 0,
                                 "delta": {"type": "signature_delta", "signature": "sig"}}),
        ("content_block_stop", {"type": "content_block_stop", "index": 0}),
        ("content_block_start", {"type": "content_block_start", "index": 1,
                                 "content_block": {"type": "text", "text": ""}}),
        ("content_block_delta", {"type": "content_block_delta", "index": 1,
                                 "delta": {"type": "text_delta", "text": "42"}}),
        ("message_delta", {"type": "message_delta", "delta": {"stop_reason": "end_turn"},
                           "usage": {"output_tokens": 9}}),
        ("message_stop", {"type": "message_stop"}),
    ]
    frames = [f for name, obj in events for f in tr.feed(SSEEvent(json.dumps(obj), event=name))] + tr.finish()
    values = frames_to_values(frames)
    text = "".join(v["choices"][0]["delta"].get("content") or "" for v in values if v != "[DONE]" and v["choices"])
    assert text == "42"
    assert "secret plan" not in json.dumps(values)


@pytest.mark.parametrize("case", [c for c in CASES if c.get("complete", True)], ids=lambda c: c["name"])
def test_openai_wire_translator_gives_the_golden_stream(case: dict[str, Any]) -> None:
    """The OpenAI-wire stream translator (with its byte-for-byte fast path for chunks that
    need nothing) sends what the golden normaliser output says, for every case."""
    from infer0app.gateway.providers.registry import get_adapter
    from infer0app.gateway.sse import SSEEvent

    route = Route(kind="openai-compatible", wire="openai", base_url="https://x.test", model="m")
    tr = get_adapter("openai").stream_translator(route, {}, include_usage=case["include_usage"], created=1)
    frames = [f for data in case["in"] for f in tr.feed(SSEEvent(data))] + tr.finish()
    assert frames_to_values(frames) == case["out"]
    assert tr.error is None
