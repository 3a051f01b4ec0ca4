"""Anthropic stream events -> OpenAI chunks, against golden SSE transcripts."""

from __future__ import annotations

import json

import pytest

from infer0app.gateway.providers.anthropic import AnthropicAdapter
from infer0app.gateway.providers.base import Route
from infer0app.gateway.sse import encode_event
from tests.fakes.transcripts import assemble, decode_frames, load_bytes, load_expected_frames, run_translator

ROUTE = Route(kind="anthropic", wire="anthropic", base_url="https://a.test", api_key="k", model="claude-sonnet-4-5")


def translator(include_usage: bool = False):
    return AnthropicAdapter().stream_translator(ROUTE, {}, include_usage=include_usage, created=1700000000)


@pytest.mark.parametrize("chunk_size", [None, 1, 17])
@pytest.mark.parametrize(
    "name, include_usage",
    [("stream_text", True), ("stream_tools", False), ("stream_error_mid", False)],
)
def test_stream_golden(name: str, include_usage: bool, chunk_size: int | None) -> None:
    frames = run_translator(translator(include_usage), load_bytes(f"anthropic/{name}.sse"), chunk_size=chunk_size)
    assert decode_frames(frames) == load_expected_frames(f"anthropic/{name}.expected.jsonl")


def test_text_stream_usage_and_model() -> None:
    tr = translator()
    frames = run_translator(tr, load_bytes("anthropic/stream_text.sse"))
    assert tr.model == "claude-sonnet-4-5-20250929"
    assert (tr.usage.prompt_tokens, tr.usage.completion_tokens) == (25, 15)
    assert not any(b'"usage"' in f for f in frames)  # not asked for: no usage chunk
    assert tr.error is None


def test_tool_stream_assembles_to_parallel_calls_with_valid_json() -> None:
    tr = translator()
    result = assemble(run_translator(tr, load_bytes("anthropic/stream_tools.sse"), chunk_size=5))
    assert result["content"] == "Okay, let me check."
    assert [(c["id"], c["function"]["name"], json.loads(c["function"]["arguments"])) for c in result["tool_calls"]] == [
        ("toolu_01T1x1fJ34qAmk2tNTrN7Up6", "get_weather", {"location": "San Francisco, CA"}),
        ("toolu_02Lk7", "get_time", {}),
    ]
    assert result["finish_reason"] == "tool_calls" and result["done"]
    assert (tr.usage.prompt_tokens, tr.usage.cached_tokens, tr.usage.completion_tokens) == (572, 100, 89)


def test_error_mid_stream_sets_error_after_output() -> None:
    tr = translator()
    run_translator(tr, load_bytes("anthropic/stream_error_mid.sse"))
    assert tr.error is not None and tr.error.code == "provider_unavailable"
    assert tr.error_before_output is False


def events(*items: tuple[str, dict]) -> bytes:
    return b"".join(encode_event(name, data) for name, data in items)


START = ("message_start", {"type": "message_start", "message": {
    "id": "msg_x", "type": "message", "role": "assistant", "model": "claude-x", "content": [],
    "stop_reason": None, "stop_sequence": None, "usage": {"input_tokens": 5, "output_tokens": 1}}})
STOP = ("message_stop", {"type": "message_stop"})


def test_error_right_after_message_start_counts_as_before_output() -> None:
    tr = translator()
    frames = run_translator(tr, events(START, ("error", {"type": "error", "error": {
        "type": "rate_limit_error", "message": "slow down"}})))
    assert tr.error_before_output is True
    assert tr.error.status == 429 and tr.error.code == "provider_rate_limited"
    assert decode_frames(frames)[-1] == "[DONE]"


@pytest.mark.parametrize(
    "stop_reason, finish",
    [("end_turn", "stop"), ("stop_sequence", "stop"), ("max_tokens", "length"), ("tool_use", "tool_calls"),
     ("refusal", "content_filter"), ("pause_turn", "stop"), ("something_new", "stop")],
)
def test_stop_reasons_in_stream(stop_reason: str, finish: str) -> None:
    raw = events(START, ("message_delta", {"type": "message_delta", "delta": {"stop_reason": stop_reason},
                                           "usage": {"output_tokens": 3}}), STOP)
    assert assemble(run_translator(translator(), raw))["finish_reason"] == finish


def test_stream_cut_before_message_stop_ends_with_error_chunk() -> None:
    raw = events(START, ("content_block_start", {"type": "content_block_start", "index": 0,
                                                 "content_block": {"type": "text", "text": ""}}),
                 ("content_block_delta", {"type": "content_block_delta", "index": 0,
                                          "delta": {"type": "text_delta", "text": "Hi"}}))
    result = assemble(run_translator(translator(), raw))
    assert result["content"] == "Hi" and result["done"]
    assert [e["code"] for e in result["errors"]] == ["provider_stream_ended"]


def test_json_mode_tool_streams_as_content() -> None:
    raw = events(
        START,
        ("content_block_start", {"type": "content_block_start", "index": 0, "content_block": {
            "type": "tool_use", "id": "toolu_j", "name": "infer0_json_response", "input": {}}}),
        ("content_block_delta", {"type": "content_block_delta", "index": 0,
                                 "delta": {"type": "input_json_delta", "partial_json": '{"a": '}}),
        ("content_block_delta", {"type": "content_block_delta", "index": 0,
                                 "delta": {"type": "input_json_delta", "partial_json": "1}"}}),
        ("content_block_stop", {"type": "content_block_stop", "index": 0}),
        ("message_delta", {"type": "message_delta", "delta": {"stop_reason": "tool_use"}, "usage": {"output_tokens": 4}}),
        STOP,
    )
    result = assemble(run_translator(translator(), raw))
    assert json.loads(result["content"]) == {"a": 1}
    assert result["tool_calls"] == [] and result["finish_reason"] == "stop"
