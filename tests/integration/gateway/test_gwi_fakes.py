"""The fakes reject what the real APIs reject, in the real error shapes - so a green
integration run means infer0 sent something the provider would accept."""

from __future__ import annotations

import pytest

from tests.fakes import run_fake

ANTHROPIC_OK = {"model": "claude-sonnet-4-5", "max_tokens": 10, "messages": [{"role": "user", "content": "hi"}]}
TOOL_USE = {"role": "assistant", "content": [{"type": "tool_use", "id": "toolu_1", "name": "f", "input": {}}]}
TOOL_RESULT = {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "content": "ok"}]}
TOOLS = [{"name": "f", "input_schema": {"type": "object"}}]


async def post(http, fake, path: str, body, headers=None):
    async with http.post(fake.root_url + path, json=body, headers=headers) as resp:
        return resp.status, await resp.json()


def anthropic_headers(fake, **over):
    return {"x-api-key": fake.key, "anthropic-version": "2023-06-01", **over}


@pytest.mark.parametrize(
    "change, status, kind, words",
    [
        ({}, 200, None, None),
        ({"max_tokens": None}, 400, "invalid_request_error", "max_tokens: Field required"),
        ({"frequency_penalty": 0.1}, 400, "invalid_request_error", "Extra inputs are not permitted"),
        ({"temperature": 1.5}, 400, "invalid_request_error", "temperature"),
        ({"messages": [{"role": "user", "content": [{"type": "text", "text": ""}]}]}, 400, "invalid_request_error",
         "text content blocks must be non-empty"),
        ({"messages": [{"role": "user", "content": "a"}, {"role": "user", "content": "b"}]}, 400,
         "invalid_request_error", "roles must alternate"),
        ({"messages": [{"role": "system", "content": "a"}, {"role": "user", "content": "b"}]}, 400,
         "invalid_request_error", 'Unexpected role "system"'),
        ({"messages": [{"role": "user", "content": "a"}, TOOL_USE, {"role": "user", "content": "b"}], "tools": TOOLS},
         400, "invalid_request_error", "`tool_use` ids were found without `tool_result` blocks immediately after"),
        ({"messages": [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}, TOOL_RESULT],
          "tools": TOOLS}, 400, "invalid_request_error", "unexpected `tool_use_id`"),
        ({"messages": [{"role": "user", "content": "a"}, TOOL_USE, TOOL_RESULT]}, 400, "invalid_request_error",
         "must define tools"),
        ({"messages": [{"role": "user", "content": [{"type": "image", "source": {
            "type": "base64", "media_type": "image/bmp", "data": "AA"}}]}]}, 400, "invalid_request_error", "media_type"),
    ],
)
async def test_anthropic_fake_validates(http, change, status, kind, words) -> None:
    body = {k: v for k, v in {**ANTHROPIC_OK, **change}.items() if v is not None}
    async with run_fake("anthropic") as fake:
        got_status, got = await post(http, fake, "/v1/messages", body, anthropic_headers(fake))
    assert got_status == status
    if kind:
        assert got["type"] == "error" and got["error"]["type"] == kind and words in got["error"]["message"]


async def test_anthropic_fake_auth_and_version_headers(http) -> None:
    async with run_fake("anthropic") as fake:
        status, body = await post(http, fake, "/v1/messages", ANTHROPIC_OK, anthropic_headers(fake, **{"x-api-key": "nope"}))
        assert (status, body["error"]) == (401, {"type": "authentication_error", "message": "invalid x-api-key"})
        status, body = await post(http, fake, "/v1/messages", ANTHROPIC_OK, {"x-api-key": fake.key})
        assert status == 400 and "anthropic-version" in body["error"]["message"]


async def test_openai_fake_validates_tool_messages_and_json_mode(http) -> None:
    async with run_fake("openai") as fake:
        auth = {"Authorization": f"Bearer {fake.key}"}
        orphan = {"model": "m", "messages": [{"role": "user", "content": "a"},
                                             {"role": "tool", "tool_call_id": "x", "content": "r"}]}
        status, body = await post(http, fake, "/v1/chat/completions", orphan, auth)
        assert status == 400 and "must be a response to a preceeding message" in body["error"]["message"]
        unanswered = {"model": "m", "messages": [
            {"role": "user", "content": "a"},
            {"role": "assistant", "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}]},
            {"role": "user", "content": "b"}]}
        status, body = await post(http, fake, "/v1/chat/completions", unanswered, auth)
        assert status == 400 and "did not have response messages: c1" in body["error"]["message"]
        no_json_word = {"model": "m", "messages": [{"role": "user", "content": "a"}], "response_format": {"type": "json_object"}}
        status, body = await post(http, fake, "/v1/chat/completions", no_json_word, auth)
        assert status == 400 and "must contain the word 'json'" in body["error"]["message"]
        status, body = await post(http, fake, "/v1/chat/completions", {"model": "m", "messages": []}, auth)
        assert status == 400 and body["error"]["code"] == "empty_array"
        status, body = await post(http, fake, "/v1/chat/completions", {"model": "m", "messages": [{"role": "user", "content": "a"}]},
                                  {"Authorization": "Bearer sk-wrong-123456789"})
        assert status == 401 and body["error"]["code"] == "invalid_api_key"


async def test_gemini_fake_quirks(http) -> None:
    async with run_fake("gemini") as fake:
        auth = {"Authorization": f"Bearer {fake.key}"}
        status, body = await post(http, fake, "/v1beta/openai/chat/completions",
                                  {"model": "gemini-2.5-flash", "messages": [{"role": "user", "content": "a"}], "user": "u"}, auth)
        assert status == 400 and isinstance(body, list) and 'Unknown name "user"' in body[0]["error"]["message"]
        status, body = await post(http, fake, "/v1beta/openai/chat/completions",
                                  {"model": "gemini-2.5-flash", "messages": [{"role": "user", "content": "a"}]},
                                  {"Authorization": "Bearer bad"})
        assert status == 400 and body[0]["error"]["details"][0]["reason"] == "API_KEY_INVALID"


async def test_azure_fake_needs_api_version_and_key(http) -> None:
    async with run_fake("azure") as fake:
        path = "/openai/deployments/chat-deploy/chat/completions"
        body = {"messages": [{"role": "user", "content": "a"}]}
        status, _ = await post(http, fake, path, body, {"api-key": fake.key})
        assert status == 404
        status, got = await post(http, fake, path + "?api-version=2024-10-21", body, {"api-key": "bad"})
        assert status == 401 and got["error"]["code"] == "401"
        status, _ = await post(http, fake, path + "?api-version=2024-10-21", body, {"api-key": fake.key})
        assert status == 200
