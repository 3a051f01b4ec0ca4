"""Shared types: errors render as OpenAI's error object, keys never show."""

from __future__ import annotations

import json

import pytest

from infer0app.gateway.errors import timeout_error, upstream_error
from infer0app.gateway.providers.base import GatewayError, Route, UpstreamFailure, UpstreamRequest, Usage, redact

KEY = "sk-proj-abcdefghijklmnopqrstuvwxyz123456"
ROUTE = Route(kind="groq", wire="openai", base_url="https://api.groq.com/openai/v1", api_key=KEY, model="llama")


def test_gateway_error_renders_openai_error_object_and_sse_chunk() -> None:
    err = GatewayError(400, "bad n", code="unsupported_parameter", param="n", headers={"retry-after": "1"})
    assert json.loads(err.to_json()) == {"error": {"message": "bad n", "type": "invalid_request_error",
                                                   "code": "unsupported_parameter", "param": "n"}}
    assert err.to_sse() == b"data: " + json.dumps(err.to_dict(), separators=(",", ":")).encode() + b"\n\n"
    assert err.headers == {"retry-after": "1"} and str(err) == "bad n"


def test_keys_do_not_show_in_reprs() -> None:
    req = UpstreamRequest("POST", "https://x.test", {"Authorization": f"Bearer {KEY}"}, b'{"k": 1}')
    assert KEY not in repr(ROUTE) and KEY not in repr(req)
    assert hash(Route(kind="k", wire="openai", base_url="", options={"a": 1}))  # options do not break hashing


@pytest.mark.parametrize(
    "text, expected",
    [
        (f"Incorrect API key provided: {KEY}.", "Incorrect API key provided: [redacted]."),
        ("key ending ...yz123456 was rejected", "key ending ...[redacted] was rejected"),
        ("nothing secret", "nothing secret"),
    ],
)
def test_redact(text: str, expected: str) -> None:
    assert redact(text, KEY) == expected
    assert redact(text, None) == text


def test_usage_shapes() -> None:
    u = Usage(prompt_tokens=10, completion_tokens=5, cached_tokens=4)
    assert u.total == u.total_tokens == 15
    assert u.to_openai() == {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15,
                             "prompt_tokens_details": {"cached_tokens": 4}}
    assert Usage(1, 2).to_openai() == {"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3}
    assert Usage.from_openai(None) is None
    assert Usage.from_openai({"prompt_tokens": "x", "completion_tokens": 2}) == Usage(0, 2)


@pytest.mark.parametrize(
    "category, status, code",
    [("auth", 424, "provider_auth_failed"), ("payment", 424, "provider_quota_exceeded"),
     ("not_found", 424, "provider_model_not_found"), ("rate_limit", 429, "provider_rate_limited"),
     ("server", 502, "provider_unavailable"), ("bad_request", 400, "provider_rejected_request")],
)
def test_upstream_error_mapping_names_the_provider_and_hides_the_key(category: str, status: int, code: str) -> None:
    err = upstream_error(ROUTE, 418, UpstreamFailure(category, f"provider says {KEY}"), {"Retry-After": "3"})
    assert (err.status, err.code) == (status, code)
    assert "Groq" in err.message and KEY not in err.message and "provider says [redacted]" in err.message
    if status == 424:
        assert "dashboard" in err.message
    assert err.headers == ({"retry-after": "3"} if status == 429 else {})
    assert timeout_error(ROUTE).status == 504
