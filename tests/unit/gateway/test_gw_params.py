"""Request validation and the dropped-vs-rejected parameter policy."""

from __future__ import annotations

import pytest

from infer0app.gateway.header_text import header_text
from infer0app.gateway.params import parse_body, prepare, validate
from infer0app.gateway.profiles.apply import Changes
from infer0app.gateway.providers.base import GatewayError, Route
from infer0app.gateway.providers.registry import get_adapter

MSGS = [{"role": "user", "content": "hi"}]
IMAGE_MSGS = [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "https://x.test/a.png"}}]}]
TOOLS = [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}]


def route(kind: str, wire: str | None = None, **options) -> Route:
    return Route(kind=kind, wire=wire or kind, base_url="https://up.test", api_key="k", model="m", options=options)


def run(r: Route, body: dict):
    return prepare(r, body, get_adapter(r.wire))


@pytest.mark.parametrize(
    "raw, code",
    [(b"{not json", "invalid_json"), (b"\xff\xfe", "invalid_json"), (b"[1, 2]", "invalid_request")],
)
def test_parse_body_rejects_malformed_json(raw: bytes, code: str) -> None:
    with pytest.raises(GatewayError) as exc:
        parse_body(raw)
    assert exc.value.status == 400 and exc.value.code == code


@pytest.mark.parametrize(
    "body, param",
    [
        ({}, "messages"),
        ({"messages": []}, "messages"),
        ({"messages": "hi"}, "messages"),
        ({"messages": [{"content": "no role"}]}, "messages[0].role"),
        ({"messages": [MSGS[0], {"role": "robot", "content": "x"}]}, "messages[1].role"),
    ],
)
def test_missing_or_bad_messages_is_a_400(body: dict, param: str) -> None:
    with pytest.raises(GatewayError) as exc:
        validate(body)
    err = exc.value
    assert (err.status, err.type, err.param) == (400, "invalid_request_error", param)
    assert err.to_dict()["error"]["param"] == param


def test_anthropic_drops_advisory_params_and_names_them() -> None:
    body = {"model": "gpt-4o", "messages": MSGS, "frequency_penalty": 0.5, "presence_penalty": 0.1,
            "logit_bias": {"50256": -100}, "seed": 7, "store": True, "temperature": 0.3, "n": 1,
            "stream": True, "stream_options": {"include_usage": True}}
    prep = run(route("anthropic"), body)
    assert prep.dropped == ("frequency_penalty", "logit_bias", "presence_penalty", "seed", "store")
    assert "model" not in prep.body and "seed" not in prep.body and prep.body["temperature"] == 0.3
    assert prep.stream is True and prep.include_usage is True
    assert prep.changes.headers() == {
        "x-infer0-dropped-params": "frequency_penalty, logit_bias, presence_penalty, seed, store"}
    assert body["seed"] == 7  # the caller's body is not modified


@pytest.mark.parametrize(
    "kind, extra, param",
    [
        ("anthropic", {"n": 2}, "n"),
        ("anthropic", {"logprobs": True}, "logprobs"),
        ("anthropic", {"top_logprobs": 3}, "top_logprobs"),
        ("gemini", {"logprobs": True}, "logprobs"),
        ("groq", {"n": 3}, "n"),
        ("groq", {"logprobs": True, "top_logprobs": 2}, "logprobs"),
        ("ollama", {"n": 2}, "n"),
    ],
)
def test_contract_params_are_rejected_naming_param_and_provider(kind: str, extra: dict, param: str) -> None:
    wire = "openai" if kind in ("groq", "ollama") else kind
    with pytest.raises(GatewayError) as exc:
        run(route(kind, wire), {"messages": MSGS, **extra})
    err = exc.value
    assert (err.status, err.type, err.code, err.param) == (400, "invalid_request_error", "unsupported_parameter", param)
    label = {"anthropic": "Anthropic", "gemini": "Google Gemini", "groq": "Groq", "ollama": "Ollama"}[kind]
    assert label in err.message


def test_openai_passes_everything_through() -> None:
    body = {"messages": MSGS, "n": 3, "logprobs": True, "top_logprobs": 2, "logit_bias": {"1": 1}, "seed": 1,
            "some_future_param": {"x": 1}, "tools": TOOLS}
    prep = run(route("openai"), body)
    assert prep.dropped == ()
    assert prep.body == {k: v for k, v in body.items()}


def test_groq_drops_logit_bias_and_message_names_but_keeps_function_names() -> None:
    body = {"messages": [{"role": "user", "name": "bob", "content": "hi"},
                         {"role": "function", "name": "f", "content": "1"}], "logit_bias": {"1": 1}, "n": 1}
    prep = run(route("groq", "openai"), body)
    assert prep.dropped == ("logit_bias", "messages[].name")
    assert prep.body["messages"][0] == {"role": "user", "content": "hi"}
    assert prep.body["messages"][1]["name"] == "f"
    assert "n" not in prep.body  # n=1 asks for nothing: removed silently


def test_gemini_keeps_documented_fields_and_drops_the_rest() -> None:
    body = {"messages": MSGS, "user": "u1", "parallel_tool_calls": False, "seed": 3, "tools": TOOLS,
            "presence_penalty": 0.2, "metadata": {"a": "b"}}
    prep = run(route("gemini"), body)
    assert prep.dropped == ("metadata", "parallel_tool_calls", "user")
    assert prep.body["seed"] == 3 and prep.body["presence_penalty"] == 0.2 and prep.body["tools"] == TOOLS


@pytest.mark.parametrize(
    "body, param",
    [
        ({"messages": MSGS, "tools": TOOLS}, "tools"),
        ({"messages": IMAGE_MSGS}, "messages"),
        ({"messages": MSGS, "response_format": {"type": "json_object"}}, "response_format"),
    ],
)
def test_route_capability_override_rejects_what_the_model_lacks(body: dict, param: str) -> None:
    narrowed = route("openai", capabilities=["stream"])
    with pytest.raises(GatewayError) as exc:
        run(narrowed, body)
    assert exc.value.param == param and exc.value.status == 400


def test_without_tools_capability_an_empty_tools_list_and_tool_choice_are_just_dropped() -> None:
    narrowed = route("openai", capabilities=["stream"])
    prep = run(narrowed, {"messages": MSGS, "tools": [], "tool_choice": "none"})
    assert "tools" not in prep.body and prep.dropped == ("tool_choice",)


def test_invalid_n_is_rejected() -> None:
    with pytest.raises(GatewayError) as exc:
        run(route("openai"), {"messages": MSGS, "n": 0})
    assert exc.value.param == "n"


def test_sandbox_drops_unknown_params() -> None:
    prep = run(route("sandbox"), {"messages": MSGS, "frequency_penalty": 1, "n": 2, "seed": 1})
    assert prep.dropped == ("frequency_penalty",) and prep.body["n"] == 2


def test_dropped_header_empty_when_nothing_dropped() -> None:
    assert Changes().headers() == {}


@pytest.mark.parametrize("value, sent", [
    ("gpt-4o", "gpt-4o"),
    ("a\r\nSet-Cookie: x=1", "a\\u000d\\u000aSet-Cookie: x=1"),
    ("tab\there", "tab\\u0009here"),
    ("del\x7f", "del\\u007f"),
    ("modèle", "mod\\u00e8le"),
])
def test_header_text_sends_only_printable_ascii(value: str, sent: str) -> None:
    assert header_text(value) == sent
    assert all(" " <= c <= "~" for c in header_text(value))


@pytest.mark.parametrize("body, param", [
    ({"messages": MSGS, "temperature": float("nan")}, "temperature"),
    ({"messages": MSGS, "top_p": float("inf")}, "top_p"),
    ({"messages": [{"role": "user", "content": "a\ud800"}]}, "messages[0].content"),
    ({"messages": MSGS, "metadata": {"k": [[[["\udfff"]]]]}}, "metadata.k[0][0][0][0]"),
    ({"messages": MSGS, "tools": [{"type": "function", "function": {"name": "f", "parameters": {
        "type": "object", "x": __import__("functools").reduce(lambda acc, _: [acc], range(150), [])}}}]}, "tools"),
])
def test_bodies_built_in_python_are_checked_like_decoded_ones(body: dict, param: str) -> None:
    """pipeline.complete/stream take a dict: NaN, lone surrogates and deep nesting cannot slip in that way."""
    with pytest.raises(GatewayError) as exc:
        validate(body)
    assert (exc.value.status, exc.value.param) == (400, param)
