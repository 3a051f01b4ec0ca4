"""/v1/responses and /v1/messages of a real infer0, called by the official `openai` and `anthropic`
SDKs, routed to faithful fakes of OpenAI-compatible, Anthropic and Gemini providers. OpenAI
connections pass /v1/responses through, Anthropic connections pass /v1/messages through; the
others are translated through chat. Usage is recorded and the grant's limits counted once."""

from __future__ import annotations

import asyncio

import anthropic
import pytest

from infer0app import keys
from infer0app.services.grant_limits import GrantLimits, set_grant_limits
from infer0app.store.models import UsageEvent
from tests.support.limits import counter

KINDS = ["openai", "anthropic", "gemini"]
FN_WEATHER = {"type": "function", "name": "get_weather", "description": "Weather for a city",
              "parameters": {"type": "object", "properties": {"location": {"type": "string"}},
                             "required": ["location"]}}
TOOL_WEATHER = {"name": "get_weather", "description": "Weather in a city",
                "input_schema": {"type": "object", "properties": {"location": {"type": "string"}},
                                 "required": ["location"]}}
PATH_OF = {"openai": "/v1/chat/completions", "anthropic": "/v1/messages", "gemini": "/v1beta/openai/chat/completions"}


def claude(api, *, bearer: bool = False, token: str | None = None) -> anthropic.AsyncAnthropic:
    token = token or api.seeded.access_token
    auth = {"auth_token": token, "api_key": None} if bearer else {"api_key": token}
    return anthropic.AsyncAnthropic(base_url=api.url, max_retries=0, **auth)


def limit(api, **caps) -> None:
    set_grant_limits(api.app[keys.STORE], api.seeded.grant_id, GrantLimits(**caps), actor="cli:test")


async def usage_rows(api, n: int) -> list[dict]:
    rows: list[dict] = []
    for _ in range(50):  # written in batches by the background recorder
        rows = await api.app[keys.STORE].run(lambda s: list(UsageEvent.select().order_by(UsageEvent.id).dicts()))
        if len(rows) >= n:
            break
        await asyncio.sleep(0.1)
    return rows


# -- /v1/responses ------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", KINDS)
async def test_responses_create_answers_text_records_usage_and_counts_one_request(api_for, kind):
    api = await api_for(kind)
    limit(api, requests_per_minute=100, tokens_per_day=1_000_000)
    client = api.client()
    raw = await client.responses.with_raw_response.create(model="ignored", input="Hello there",
                                                          instructions="Be brief.", store=True)
    resp = raw.parse()
    assert resp.output_text == "Hello! You said: Hello there" and resp.status == "completed"
    assert resp.usage.input_tokens > 0 and resp.usage.output_tokens > 0
    assert raw.headers["x-infer0-provider"] == kind and raw.headers["x-ratelimit-remaining-requests"] == "99"
    sent = api.fake.chat_requests()[-1]
    if kind == "openai":  # passed through to OpenAI's own Responses API, stateless
        assert sent.path == "/v1/responses" and sent.json["store"] is False
        assert sent.json["model"] == "gpt-4o-mini" and sent.json["instructions"] == "Be brief."
    else:
        assert sent.path == PATH_OF[kind] and "instructions" not in sent.json
    rows = await usage_rows(api, 1)
    assert [(r["status"], r["provider_kind"], r["streamed"]) for r in rows] == [(200, kind, False)]
    assert (rows[0]["prompt_tokens"], rows[0]["completion_tokens"]) == (resp.usage.input_tokens,
                                                                        resp.usage.output_tokens)
    await api.app[keys.LIMITS].flush()
    assert counter(api.app[keys.STORE], "requests") == 1
    assert counter(api.app[keys.STORE], "tokens") == resp.usage.input_tokens + resp.usage.output_tokens


@pytest.mark.parametrize("streamed", [False, True], ids=["create", "stream"])
@pytest.mark.parametrize("kind", KINDS)
async def test_responses_function_call_round_trip(api_for, kind, streamed):
    api = await api_for(kind)
    client = api.client()
    history: list = [{"role": "user", "content": "What's the weather in Paris?"}]

    async def ask():
        if not streamed:
            return await client.responses.create(model="x", input=history, tools=[FN_WEATHER])
        kinds = []
        async with client.responses.stream(model="x", input=history, tools=[FN_WEATHER]) as stream:
            async for event in stream:
                kinds.append(event.type)
            final = await stream.get_final_response()
        assert kinds[0] == "response.created" and kinds[-1] == "response.completed"
        return final

    first = await ask()
    calls = [item for item in first.output if item.type == "function_call"]
    assert [(c.name, c.arguments.replace(" ", "")) for c in calls] == [("get_weather", '{"location":"Paris"}')]
    history += [item.model_dump(exclude_none=True) for item in first.output]
    history.append({"type": "function_call_output", "call_id": calls[0].call_id, "output": "Sunny, 24 C"})
    second = await ask()
    assert second.output_text == "The tool said: Sunny, 24 C."
    assert len(api.fake.chat_requests()) == 2


async def test_responses_stateful_features_are_a_clear_400_also_on_a_pass_through(api_for):
    import openai
    api = await api_for("openai")
    with pytest.raises(openai.BadRequestError) as caught:
        await api.client().responses.create(model="x", input="hi", previous_response_id="resp_123")
    assert caught.value.code == "unsupported_parameter" and caught.value.param == "previous_response_id"
    assert api.fake.chat_requests() == []


# -- /v1/messages -------------------------------------------------------------------------------
@pytest.mark.parametrize("bearer", [False, True], ids=["x-api-key", "bearer"])
@pytest.mark.parametrize("kind", KINDS)
async def test_messages_create_with_either_token_header(api_for, kind, bearer):
    api = await api_for(kind)
    raw = await claude(api, bearer=bearer).messages.with_raw_response.create(
        model="claude-anything", max_tokens=200, system="Be brief.",
        messages=[{"role": "user", "content": "hi there"}], extra_headers={"anthropic-version": "2099-01-01"})
    msg = await raw.parse()
    assert msg.content[0].text == "Hello! You said: hi there" and msg.stop_reason == "end_turn"
    assert msg.usage.input_tokens > 0 and msg.usage.output_tokens > 0
    assert raw.headers["x-infer0-provider"] == kind
    sent = api.fake.chat_requests()[-1]
    assert sent.path == PATH_OF[kind]
    if kind == "anthropic":  # passed through as sent, with the grant's model and the user's key
        assert sent.json == {"model": "claude-sonnet-4-5", "max_tokens": 200, "system": "Be brief.",
                             "messages": [{"role": "user", "content": "hi there"}]}
        assert sent.headers["x-api-key"] == api.fake.key
    rows = await usage_rows(api, 1)
    assert [(r["status"], r["prompt_tokens"] > 0, r["completion_tokens"]) for r in rows] == [
        (200, True, msg.usage.output_tokens)]


@pytest.mark.parametrize("streamed", [False, True], ids=["create", "stream"])
@pytest.mark.parametrize("kind", KINDS)
async def test_messages_tool_round_trip(api_for, kind, streamed):
    api = await api_for(kind)
    client = claude(api)
    history: list = [{"role": "user", "content": "What's the weather in Paris?"}]

    async def ask():
        if not streamed:
            return await client.messages.create(model="c", max_tokens=300, messages=history, tools=[TOOL_WEATHER])
        async with client.messages.stream(model="c", max_tokens=300, messages=history, tools=[TOOL_WEATHER]) as s:
            async for _ in s:
                pass
            return await s.get_final_message()

    first = await ask()
    uses = [b for b in first.content if b.type == "tool_use"]
    assert first.stop_reason == "tool_use" and [(u.name, u.input) for u in uses] == [
        ("get_weather", {"location": "Paris"})]
    history.append({"role": "assistant", "content": [b.model_dump(exclude_none=True) for b in first.content]})
    history.append({"role": "user", "content": [{"type": "tool_result", "tool_use_id": uses[0].id,
                                                 "content": "Sunny, 24 C"}]})
    second = await ask()
    assert second.content[-1].text == "The tool said: Sunny, 24 C." and second.stop_reason == "end_turn"
    if streamed:
        rows = await usage_rows(api, 2)
        assert [(r["streamed"], r["status"]) for r in rows] == [(True, 200), (True, 200)]
        assert rows[1]["completion_tokens"] == second.usage.output_tokens > 0


async def test_messages_bad_token_is_an_anthropic_401(api_for):
    api = await api_for("anthropic")
    for client in (claude(api, token="i0_at_not-a-real-token"), claude(api, bearer=True, token="nope")):
        with pytest.raises(anthropic.AuthenticationError) as caught:
            await client.messages.create(model="c", max_tokens=10, messages=[{"role": "user", "content": "hi"}])
        assert caught.value.status_code == 401
        assert caught.value.body["type"] == "error" and caught.value.body["error"]["type"] == "authentication_error"
        assert "Bearer" in caught.value.response.headers["www-authenticate"]
    assert api.fake.chat_requests() == []


async def test_messages_limits_refusal_is_an_anthropic_429(api_for):
    api = await api_for("gemini")
    limit(api, requests_per_minute=1)
    client = claude(api)
    await client.messages.create(model="c", max_tokens=10, messages=[{"role": "user", "content": "hi"}])
    with pytest.raises(anthropic.RateLimitError) as caught:
        await client.messages.create(model="c", max_tokens=10, messages=[{"role": "user", "content": "hi"}])
    body = caught.value.body
    assert body["type"] == "error" and body["error"]["type"] == "rate_limit_error"
    assert "1 requests per minute" in body["error"]["message"] or "per minute" in body["error"]["message"]
    assert int(caught.value.response.headers["retry-after"]) >= 1
    assert len(api.fake.chat_requests()) == 1


@pytest.mark.parametrize("kind", ["anthropic", "openai"])
async def test_messages_provider_failures_are_anthropic_shaped(api_for, kind):
    api = await api_for(kind, fail_status=503)
    with pytest.raises(anthropic.InternalServerError) as caught:
        await claude(api).messages.create(model="c", max_tokens=10, messages=[{"role": "user", "content": "hi"}])
    assert caught.value.status_code == 502 and caught.value.body["error"]["type"] == "api_error"
    api.fake.state.key = "sk-rotated"  # the user's provider key no longer works: the user's problem, not a 401
    api.fake.knobs.fail_status = None
    with pytest.raises(anthropic.APIStatusError) as caught:
        await claude(api).messages.create(model="c", max_tokens=10, messages=[{"role": "user", "content": "hi"}])
    assert caught.value.status_code == 424 and caught.value.body["error"]["type"] == "permission_error"


async def test_messages_unrouted_and_malformed_answers_are_anthropic_shaped(api_for):
    api = await api_for("anthropic")
    client = claude(api)
    http = client._client
    got = await http.get(api.url + "/v1/messages")
    assert got.status_code == 405 and got.json()["type"] == "error"
    got = await http.post(api.url + "/v1/messages", content=b"{not json",
                          headers={"x-api-key": api.seeded.access_token, "content-type": "application/json"})
    assert got.status_code == 400 and got.json()["error"]["type"] == "invalid_request_error"
    assert got.headers["access-control-allow-origin"] == "*" and got.headers["x-request-id"]


async def test_messages_endpoints_infer0_does_not_serve_answer_in_anthropic_shape(api_for):
    """Found by probing: the anthropic SDK's count_tokens and batches got OpenAI's error object."""
    api = await api_for("sandbox")
    client = claude(api)
    with pytest.raises(anthropic.NotFoundError) as caught:
        await client.messages.count_tokens(model="x", messages=[{"role": "user", "content": "hi"}])
    assert caught.value.body["type"] == "error" and caught.value.body["error"]["type"] == "not_found_error"
    with pytest.raises(anthropic.NotFoundError) as caught:
        await client.messages.batches.list()
    assert caught.value.body["error"]["type"] == "not_found_error"
