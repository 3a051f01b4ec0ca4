"""OpenAI-wire adapters: pass-through OpenAI-compatible, Gemini quirks, Azure URLs."""

from __future__ import annotations

import json

import pytest

from infer0app.gateway.params import prepare
from infer0app.gateway.providers.azure import AzureAdapter
from infer0app.gateway.providers.base import Route
from infer0app.gateway.providers.gemini import SKIP_SIGNATURE, GeminiAdapter
from infer0app.gateway.providers.openai_compat import OpenAICompatAdapter
from infer0app.gateway.sse import encode_data
from tests.fakes.transcripts import assemble, decode_frames, load_bytes, load_expected_frames, run_translator

OPENAI = OpenAICompatAdapter()
GEMINI = GeminiAdapter()
AZURE = AzureAdapter()
MSGS = [{"role": "user", "content": "hi"}]


def route(kind: str = "openai", wire: str = "openai", **kw) -> Route:
    defaults = {"base_url": "https://api.up.test/v1/", "api_key": "sk-secret", "model": "the-model"}
    return Route(kind=kind, wire=wire, **{**defaults, **kw})


# ------------------------------------------------------------------ OpenAI-compatible


def test_request_replaces_model_and_uses_bearer() -> None:
    req = OPENAI.build_request(route(), {"model": "app-model", "messages": MSGS, "temperature": 0.2}, stream=False)
    assert req.url == "https://api.up.test/v1/chat/completions"
    assert req.headers["Authorization"] == "Bearer sk-secret"
    assert json.loads(req.body) == {"model": "the-model", "messages": MSGS, "temperature": 0.2}


def test_stream_request_always_asks_for_usage_unless_disabled() -> None:
    req = OPENAI.build_request(route(), {"messages": MSGS, "stream_options": {"foo": 1}}, stream=True)
    body = json.loads(req.body)
    assert body["stream"] is True and body["stream_options"] == {"foo": 1, "include_usage": True}
    off = OPENAI.build_request(route(options={"stream_usage": False}), {"messages": MSGS}, stream=True)
    assert "stream_options" not in json.loads(off.body)
    plain = OPENAI.build_request(route(), {"messages": MSGS, "stream": True, "stream_options": {}}, stream=False)
    assert "stream" not in json.loads(plain.body) and "stream_options" not in json.loads(plain.body)


def test_keyless_provider_sends_no_authorization() -> None:
    req = OPENAI.build_request(route("ollama", api_key=None), {"messages": MSGS}, stream=False)
    assert "Authorization" not in req.headers
    assert OPENAI.models_request(route("ollama", api_key=None)).url == "https://api.up.test/v1/models"


def test_response_bytes_pass_through_unchanged() -> None:
    raw = (b'{"id":"chatcmpl-1", "object":"chat.completion","created":1,"model":"gpt-4o-2024-08-06",'
           b'"choices":[{"index":0,"message":{"role":"assistant","content":"hi"},"finish_reason":"stop"}],'
           b'"usage":{"prompt_tokens":9,"completion_tokens":2,"total_tokens":11,'
           b'"prompt_tokens_details":{"cached_tokens":4}}, "service_tier":"default"}')
    parsed = OPENAI.parse_response(route(), raw, created=0)
    assert parsed.body is raw
    assert parsed.model == "gpt-4o-2024-08-06"
    assert (parsed.usage.prompt_tokens, parsed.usage.completion_tokens, parsed.usage.cached_tokens) == (9, 2, 4)


def test_response_without_model_names_the_route_model() -> None:
    parsed = OPENAI.parse_response(route(), b'{"choices": [], "usage": null}', created=0)
    assert parsed.model == "the-model" and json.loads(parsed.body)["model"] == "the-model"
    assert parsed.usage is None
    with pytest.raises(ValueError):
        OPENAI.parse_response(route(), b"<html>", created=0)


def openai_stream(include_usage: bool):
    tr = OPENAI.stream_translator(route(), {}, include_usage=include_usage, created=0)
    raw = load_bytes("openai/stream_tool_calls_usage.sse")
    return tr, raw, run_translator(tr, raw, chunk_size=13)


def test_stream_passes_data_through_byte_for_byte_with_usage_when_asked() -> None:
    tr, raw, frames = openai_stream(include_usage=True)
    upstream = [line[6:] for line in raw.decode().split("\n") if line.startswith("data: ")]
    assert [f.decode()[6:-2] for f in frames] == upstream
    assert (tr.usage.prompt_tokens, tr.usage.completion_tokens, tr.usage.cached_tokens) == (81, 38, 64)
    assert tr.model == "gpt-4o-mini-2024-07-18"


def test_stream_withholds_usage_chunk_the_app_did_not_ask_for() -> None:
    tr, _raw, frames = openai_stream(include_usage=False)
    result = assemble(frames)
    assert result["usage"] is None and tr.usage.total == 119
    assert [c["function"]["name"] for c in result["tool_calls"]] == ["get_weather", "get_time"]
    assert json.loads(result["tool_calls"][0]["function"]["arguments"]) == {"location": "Paris"}
    assert result["done"] and len(frames) == 6


def test_stream_without_done_gets_one_and_early_end_gets_an_error() -> None:
    finished = encode_data('{"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}')
    tr = OPENAI.stream_translator(route(), {}, include_usage=False, created=0)
    assert decode_frames(run_translator(tr, finished))[-1] == "[DONE]" and tr.error is None
    cut = encode_data('{"choices":[{"index":0,"delta":{"content":"Hel"},"finish_reason":null}]}')
    tr = OPENAI.stream_translator(route(), {}, include_usage=False, created=0)
    result = assemble(run_translator(tr, cut))
    assert result["content"] == "Hel" and result["done"]
    assert result["errors"][0]["code"] == "provider_stream_ended"


def test_mid_stream_error_chunk_is_passed_on_then_done() -> None:
    raw = (encode_data('{"choices":[{"index":0,"delta":{"content":"a"},"finish_reason":null}]}')
           + encode_data('{"error": {"message": "boom", "type": "server_error"}}')
           + encode_data('{"choices":[{"index":0,"delta":{"content":"IGNORED"},"finish_reason":null}]}'))
    tr = OPENAI.stream_translator(route(), {}, include_usage=False, created=0)
    result = assemble(run_translator(tr, raw))
    assert result["content"] == "a" and result["errors"][0]["message"] == "boom" and result["done"]
    assert tr.error is not None and tr.error_before_output is False


def test_groq_usage_in_x_groq_is_read() -> None:
    raw = encode_data('{"model":"llama","choices":[{"index":0,"delta":{},"finish_reason":"stop"}],'
                      '"x_groq":{"usage":{"prompt_tokens":3,"completion_tokens":4,"total_tokens":7}}}')
    tr = OPENAI.stream_translator(route("groq"), {}, include_usage=False, created=0)
    run_translator(tr, raw)
    assert tr.usage.total == 7


def test_openai_errors() -> None:
    bad_key = b'{"error": {"message": "Incorrect API key provided", "type": "invalid_request_error", "code": "invalid_api_key"}}'
    assert OPENAI.read_error(401, bad_key).category == "auth"
    quota = b'{"error": {"message": "You exceeded your current quota", "type": "insufficient_quota", "code": "insufficient_quota"}}'
    assert OPENAI.read_error(429, quota).category == "payment"
    assert OPENAI.read_error(429, b'{"error": {"message": "slow"}}').category == "rate_limit"
    assert OPENAI.read_error(503, b"upstream connect error").message == "upstream connect error"


# ------------------------------------------------------------------ Gemini


def test_gemini_stream_repairs_indexless_tool_calls_and_finish_reason() -> None:
    tr = GEMINI.stream_translator(route("gemini", "gemini"), {}, include_usage=True, created=0)
    frames = run_translator(tr, load_bytes("gemini/stream_tool_calls.sse"), chunk_size=9)
    assert decode_frames(frames) == load_expected_frames("gemini/stream_tool_calls.expected.jsonl")
    assert tr.usage.total == 42


def test_gemini_split_indexless_call_keeps_one_index() -> None:
    raw = (encode_data('{"choices":[{"index":0,"delta":{"tool_calls":[{"id":"c1","type":"function",'
                       '"function":{"name":"f","arguments":"{\\"a\\":"}}]},"finish_reason":null}]}')
           + encode_data('{"choices":[{"index":0,"delta":{"tool_calls":[{"id":"","function":{"arguments":"1}"}}]},'
                         '"finish_reason":"stop"}]}'))
    tr = GEMINI.stream_translator(route("gemini", "gemini"), {}, include_usage=False, created=0)
    result = assemble(run_translator(tr, raw))
    assert [json.loads(c["function"]["arguments"]) for c in result["tool_calls"]] == [{"a": 1}]
    assert result["finish_reason"] == "tool_calls"


def test_gemini_plain_chunks_are_not_reserialised() -> None:
    """A chunk already in OpenAI's shape (as Gemini sends it: id, object, created) keeps its bytes."""
    data = ('{"id": "x", "object": "chat.completion.chunk", "created": 1, "choices": [{"index": 0, '
            '"delta": {"content": "stop it"}, "finish_reason": "stop"}], "model": "g"}')
    tr = GEMINI.stream_translator(route("gemini", "gemini"), {}, include_usage=False, created=0)
    assert run_translator(tr, encode_data(data))[0] == encode_data(data)


def test_gemini_non_stream_tool_calls_finish_reason_fixed() -> None:
    raw = json.dumps({"model": "gemini-2.5-flash", "choices": [{"index": 0, "finish_reason": "stop", "message": {
        "role": "assistant", "tool_calls": [{"id": "x", "type": "function",
                                             "function": {"name": "f", "arguments": "{}"}}]}}]}).encode()
    parsed = GEMINI.parse_response(route("gemini", "gemini"), raw, created=0)
    assert json.loads(parsed.body)["choices"][0]["finish_reason"] == "tool_calls"


def history() -> list[dict]:
    return [{"role": "user", "content": "w?"},
            {"role": "assistant", "tool_calls": [{"id": "c1", "type": "function",
                                                  "function": {"name": "f", "arguments": "{}"}}]},
            {"role": "tool", "tool_call_id": "c1", "content": "ok"}]


def test_gemini_3_gets_placeholder_thought_signature_only_when_missing() -> None:
    g3 = route("gemini", "gemini", model="gemini-3-flash-preview")
    body = json.loads(GEMINI.build_request(g3, {"messages": history()}, stream=False).body)
    assert body["messages"][1]["tool_calls"][0]["extra_content"] == {"google": {"thought_signature": SKIP_SIGNATURE}}
    signed = history()
    signed[1]["tool_calls"][0]["extra_content"] = {"google": {"thought_signature": "real"}}
    body = json.loads(GEMINI.build_request(g3, {"messages": signed}, stream=False).body)
    assert body["messages"][1]["tool_calls"][0]["extra_content"]["google"]["thought_signature"] == "real"
    g25 = route("gemini", "gemini", model="gemini-2.5-flash")
    body = json.loads(GEMINI.build_request(g25, {"messages": history()}, stream=False).body)
    assert "extra_content" not in body["messages"][1]["tool_calls"][0]


def test_gemini_errors_are_lists_and_bad_key_is_auth() -> None:
    raw = json.dumps([{"error": {"code": 400, "message": "API key not valid. Please pass a valid API key.",
                                 "status": "INVALID_ARGUMENT", "details": [{"reason": "API_KEY_INVALID"}]}}]).encode()
    failure = GEMINI.read_error(400, raw)
    assert failure.category == "auth" and failure.message.startswith("API key not valid")
    raw = json.dumps([{"error": {"code": 400, "message": 'Unknown name "x"', "status": "INVALID_ARGUMENT"}}]).encode()
    assert GEMINI.read_error(400, raw).category == "bad_request"


def test_gemini_model_list_strips_prefix() -> None:
    raw = b'{"object": "list", "data": [{"id": "models/gemini-2.5-flash", "object": "model"}]}'
    assert GEMINI.parse_models(raw) == ["gemini-2.5-flash"]


def test_gemini_policy_then_request() -> None:
    r = route("gemini", "gemini", base_url="https://generativelanguage.googleapis.com/v1beta/openai")
    prepared = prepare(r, {"messages": MSGS, "user": "u", "seed": 2}, GEMINI)
    req = GEMINI.build_request(r, prepared.body, stream=False)
    assert req.url == "https://generativelanguage.googleapis.com/v1beta/openai/chat/completions"
    assert req.headers["Authorization"] == "Bearer sk-secret"
    assert json.loads(req.body) == {"messages": MSGS, "seed": 2, "model": "the-model"}


# ------------------------------------------------------------------ Azure


def test_azure_url_header_and_body() -> None:
    r = route("azure-openai", "azure", base_url="https://res.openai.azure.com/openai/", model="my deploy",
              options={"api_version": "2025-01-01-preview"})
    req = AZURE.build_request(r, {"messages": MSGS, "model": "x"}, stream=True)
    assert req.url == ("https://res.openai.azure.com/openai/deployments/my%20deploy/chat/completions"
                       "?api-version=2025-01-01-preview")
    assert req.headers["api-key"] == "sk-secret" and "Authorization" not in req.headers
    body = json.loads(req.body)
    assert "model" not in body and body["stream_options"] == {"include_usage": True}


def test_azure_default_api_version_and_models_request() -> None:
    r = route("azure-openai", "azure", base_url="https://res.openai.azure.com", model="d")
    assert AZURE.build_request(r, {"messages": MSGS}, stream=False).url.endswith("?api-version=2024-10-21")
    models = AZURE.models_request(r)
    assert models.url == "https://res.openai.azure.com/openai/models?api-version=2024-10-21"
    assert models.headers == {"api-key": "sk-secret"}
