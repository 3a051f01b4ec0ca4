"""Anthropic adapter: golden request/response transcripts, stop reasons, errors."""

from __future__ import annotations

import json
import logging

import pytest

from infer0app.gateway.params import prepare
from infer0app.gateway.providers.anthropic import AnthropicAdapter, build_body, read_anthropic_error
from infer0app.gateway.providers.base import GatewayError, Route
from tests.fakes.transcripts import load_json

ADAPTER = AnthropicAdapter()
ROUTE = Route(kind="anthropic", wire="anthropic", base_url="https://api.anthropic.test", api_key="sk-ant-secret",
              model="claude-sonnet-4-5")


def upstream_body(openai_body: dict, *, stream: bool = False, route: Route = ROUTE) -> dict:
    prepared = prepare(route, openai_body, ADAPTER)
    req = ADAPTER.build_request(route, prepared.body, stream=stream)
    return json.loads(req.body)


@pytest.mark.parametrize(
    "name",
    ["request_tool_round_trip.json", "request_images.json", "request_json_schema.json",
     "request_history_without_tools.json"],
)
def test_request_golden(name: str) -> None:
    case = load_json(f"anthropic/{name}")
    assert upstream_body(case["openai"], stream=case.get("stream", False)) == case["anthropic"]


def test_request_url_and_headers() -> None:
    for base in ("https://api.anthropic.test", "https://api.anthropic.test/", "https://api.anthropic.test/v1"):
        route = Route(kind="anthropic", wire="anthropic", base_url=base, api_key="sk-ant-secret", model="m")
        req = ADAPTER.build_request(route, {"messages": [{"role": "user", "content": "x"}]}, stream=False)
        assert req.method == "POST" and req.url == "https://api.anthropic.test/v1/messages"
        assert req.headers["x-api-key"] == "sk-ant-secret"
        assert req.headers["anthropic-version"] == "2023-06-01"
        assert "authorization" not in {k.lower() for k in req.headers}
        assert "sk-ant-secret" not in repr(req) and "sk-ant-secret" not in repr(route)


def test_default_max_tokens_is_configurable() -> None:
    route = Route(kind="anthropic", wire="anthropic", base_url="https://a.test", model="m",
                  options={"default_max_tokens": 1234})
    assert upstream_body({"messages": [{"role": "user", "content": "x"}]}, route=route)["max_tokens"] == 1234


@pytest.mark.parametrize(
    "choice, parallel, expected",
    [
        ("auto", None, {"type": "auto"}),
        ("required", None, {"type": "any"}),
        ("none", None, {"type": "none"}),
        (None, False, {"type": "auto", "disable_parallel_tool_use": True}),
        ("required", False, {"type": "any", "disable_parallel_tool_use": True}),
        (None, None, None),
    ],
)
def test_tool_choice_mapping(choice, parallel, expected) -> None:
    body = {"messages": [{"role": "user", "content": "x"}],
            "tools": [{"type": "function", "function": {"name": "f"}}]}
    if choice is not None:
        body["tool_choice"] = choice
    if parallel is not None:
        body["parallel_tool_calls"] = parallel
    assert upstream_body(body).get("tool_choice") == expected


def test_json_object_mode_forces_an_object_tool() -> None:
    out = upstream_body({"messages": [{"role": "user", "content": "json please"}],
                         "response_format": {"type": "json_object"}})
    assert out["tools"] == [{"name": "infer0_json_response", "description": "Respond with a JSON object.",
                             "input_schema": {"type": "object"}}]
    assert out["tool_choice"] == {"type": "tool", "name": "infer0_json_response"}


@pytest.mark.parametrize(
    "body, param",
    [
        ({"response_format": {"type": "json_schema", "json_schema": {"name": "l", "schema": {"type": "array"}}}},
         "response_format"),
        ({"response_format": {"type": "json_object"}, "tools": [{"type": "function", "function": {"name": "f"}}]},
         "response_format"),
        ({"tool_choice": {"type": "allowed_tools"}, "tools": [{"type": "function", "function": {"name": "f"}}]},
         "tool_choice"),
    ],
)
def test_unsupported_combinations_are_clear_400s(body: dict, param: str) -> None:
    with pytest.raises(GatewayError) as exc:
        upstream_body({"messages": [{"role": "user", "content": "x"}], **body})
    assert exc.value.status == 400 and exc.value.param == param


@pytest.mark.parametrize(
    "message",
    [
        {"role": "user", "content": [{"type": "input_audio", "input_audio": {"data": "AA==", "format": "wav"}}]},
        {"role": "user", "content": [{"type": "image_url", "image_url": {"url": "ftp://x/y.png"}}]},
        {"role": "assistant", "tool_calls": [{"id": "c", "type": "function",
                                              "function": {"name": "f", "arguments": "{broken"}}]},
        {"role": "assistant", "tool_calls": [{"id": "c", "type": "function",
                                              "function": {"name": "f", "arguments": "[1]"}}]},
    ],
)
def test_untranslatable_messages_are_400(message: dict) -> None:
    with pytest.raises(GatewayError) as exc:
        upstream_body({"messages": [{"role": "user", "content": "x"}, message]})
    assert exc.value.status == 400 and exc.value.param.startswith("messages[1]")


@pytest.mark.parametrize(
    "name", ["response_parallel_tools.json", "response_text.json", "response_json_tool.json"]
)
def test_response_golden(name: str) -> None:
    case = load_json(f"anthropic/{name}")
    parsed = ADAPTER.parse_response(ROUTE, json.dumps(case["anthropic"]).encode(), created=1700000000)
    assert json.loads(parsed.body) == case["openai"]
    assert parsed.model == case["openai"]["model"]
    assert parsed.usage.to_openai() == case["openai"]["usage"]


def test_response_usage_counts_cache_tokens() -> None:
    case = load_json("anthropic/response_parallel_tools.json")
    parsed = ADAPTER.parse_response(ROUTE, json.dumps(case["anthropic"]).encode(), created=0)
    u = parsed.usage
    assert (u.prompt_tokens, u.completion_tokens, u.cached_tokens, u.cache_write_tokens, u.total) == (
        2572, 91, 2000, 100, 2663)


@pytest.mark.parametrize(
    "stop_reason, finish",
    [
        ("end_turn", "stop"),
        ("stop_sequence", "stop"),
        ("max_tokens", "length"),
        ("model_context_window_exceeded", "length"),
        ("tool_use", "tool_calls"),
        ("refusal", "content_filter"),
        ("pause_turn", "stop"),
    ],
)
def test_every_stop_reason(stop_reason: str, finish: str) -> None:
    msg = {"id": "msg_1", "type": "message", "role": "assistant", "model": "claude-x",
           "content": [{"type": "text", "text": "a"}], "stop_reason": stop_reason, "stop_sequence": None,
           "usage": {"input_tokens": 1, "output_tokens": 1}}
    parsed = ADAPTER.parse_response(ROUTE, json.dumps(msg).encode(), created=0)
    assert json.loads(parsed.body)["choices"][0]["finish_reason"] == finish


def test_unknown_stop_reason_is_logged_and_mapped_to_stop(caplog: pytest.LogCaptureFixture) -> None:
    msg = {"id": "msg_1", "type": "message", "role": "assistant", "model": "claude-x",
           "content": [{"type": "text", "text": "a"}], "stop_reason": "brand_new_reason",
           "usage": {"input_tokens": 1, "output_tokens": 1}}
    with caplog.at_level(logging.WARNING):
        parsed = ADAPTER.parse_response(ROUTE, json.dumps(msg).encode(), created=0)
    assert json.loads(parsed.body)["choices"][0]["finish_reason"] == "stop"
    assert "brand_new_reason" in caplog.text


def test_non_message_body_is_unreadable() -> None:
    with pytest.raises(ValueError):
        ADAPTER.parse_response(ROUTE, b'{"type": "error"}', created=0)


@pytest.mark.parametrize(
    "status, kind, category",
    [
        (401, "authentication_error", "auth"),
        (403, "permission_error", "auth"),
        (429, "rate_limit_error", "rate_limit"),
        (529, "overloaded_error", "server"),
        (500, "api_error", "server"),
        (400, "invalid_request_error", "bad_request"),
        (400, "billing_error", "payment"),
        (404, "not_found_error", "not_found"),
    ],
)
def test_error_bodies(status: int, kind: str, category: str) -> None:
    raw = json.dumps({"type": "error", "error": {"type": kind, "message": "words"}, "request_id": "req_1"}).encode()
    failure = read_anthropic_error(status, raw)
    assert (failure.category, failure.message) == (category, "words")


def test_error_body_that_is_not_json_still_gives_words() -> None:
    failure = read_anthropic_error(502, b"<html>Bad gateway</html>")
    assert failure.category == "server" and "Bad gateway" in failure.message


def test_build_body_is_pure() -> None:
    body = {"messages": [{"role": "user", "content": "x"}], "stop": ["a"]}
    snapshot = json.dumps(body)
    first = build_body(ROUTE, body, stream=False)
    assert build_body(ROUTE, body, stream=False) == first
    assert json.dumps(body) == snapshot


CALL = {"id": "call_1", "type": "function", "function": {"name": "f", "arguments": "{}"}}


@pytest.mark.parametrize(("messages", "expected"), [
    # "text content blocks must contain non-whitespace text": whitespace-only text is left out
    ([{"role": "user", "content": "hi"}, {"role": "assistant", "content": " \n"}, {"role": "user", "content": "again"}],
     [{"role": "user", "content": [{"type": "text", "text": "hi"}, {"type": "text", "text": "again"}]}]),
    ([{"role": "user", "content": [{"type": "text", "text": "\t"}, {"type": "text", "text": "hi"}]}],
     [{"role": "user", "content": [{"type": "text", "text": "hi"}]}]),
    ([{"role": "user", "content": "hi"}, {"role": "assistant", "content": " ", "tool_calls": [CALL]},
      {"role": "tool", "tool_call_id": "call_1", "content": "  "}],
     [{"role": "user", "content": [{"type": "text", "text": "hi"}]},
      {"role": "assistant", "content": [{"type": "tool_use", "id": "call_1", "name": "f", "input": {}}]},
      {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "call_1"}]}]),
    # "final assistant content cannot end with trailing whitespace": a prefill is right-trimmed
    ([{"role": "user", "content": "hi"}, {"role": "assistant", "content": "Sure, here it is: \n"}],
     [{"role": "user", "content": [{"type": "text", "text": "hi"}]},
      {"role": "assistant", "content": [{"type": "text", "text": "Sure, here it is:"}]}]),
])
def test_whitespace_anthropic_refuses_is_not_sent(messages: list, expected: list) -> None:
    """Found replaying other gateways' bug reports: infer0 sent both, and Anthropic answered 400."""
    sent = upstream_body({"messages": messages})
    assert sent["messages"] == expected


def test_a_conversation_of_whitespace_only_is_a_400_naming_messages() -> None:
    with pytest.raises(GatewayError) as caught:
        upstream_body({"messages": [{"role": "system", "content": "be brief"}, {"role": "user", "content": "  "}]})
    assert (caught.value.status, caught.value.param) == (400, "messages")
