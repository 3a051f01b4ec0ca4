"""The official openai SDK against a real infer0, routed to each provider kind's faithful fake."""

from __future__ import annotations

import base64
import json

import openai
import pytest

from tests.support.waits import caches_caught_up

KINDS = ["openai", "anthropic", "gemini", "azure-openai", "sandbox"]
WEATHER = {"type": "function", "function": {
    "name": "get_weather", "description": "Weather for a city",
    "parameters": {"type": "object", "properties": {"location": {"type": "string"}}, "required": ["location"]}}}
PIXEL = base64.b64encode(bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082")).decode()


@pytest.mark.parametrize("kind", KINDS)
async def test_plain_chat(api_for, kind):
    api = await api_for(kind)
    raw = await api.client().chat.completions.with_raw_response.create(
        model="ignored-by-infer0", messages=[{"role": "user", "content": "Hello there"}])
    chat = raw.parse()
    assert chat.choices[0].message.content and chat.choices[0].finish_reason == "stop"
    assert chat.model != "ignored-by-infer0"
    assert raw.headers["x-infer0-provider"] == kind and raw.headers["x-infer0-model"] == chat.model
    assert chat.usage.prompt_tokens > 0 and chat.usage.completion_tokens > 0


@pytest.mark.parametrize("kind", KINDS)
async def test_streaming_with_usage(api_for, kind):
    api = await api_for(kind)
    stream = await api.client().chat.completions.create(
        model="x", messages=[{"role": "user", "content": "Tell me a short story"}], stream=True,
        stream_options={"include_usage": True})
    text, finishes, usage = "", [], None
    async for chunk in stream:
        if chunk.usage:
            usage = chunk.usage
        for choice in chunk.choices:
            text += choice.delta.content or ""
            if choice.finish_reason:
                finishes.append(choice.finish_reason)
    assert text and finishes == ["stop"]
    assert usage is not None and usage.completion_tokens > 0


@pytest.mark.parametrize("streamed", [False, True], ids=["complete", "stream"])
@pytest.mark.parametrize("kind", KINDS)
async def test_two_step_tool_call_round_trip(api_for, kind, streamed):
    api = await api_for(kind)
    client = api.client()
    messages = [{"role": "user", "content": "What's the weather in Paris?"}]
    if streamed:
        calls: dict[int, dict] = {}
        finish = None
        async for chunk in await client.chat.completions.create(model="x", messages=messages, tools=[WEATHER],
                                                                stream=True):
            for choice in chunk.choices:
                for tc in choice.delta.tool_calls or []:
                    slot = calls.setdefault(tc.index, {"id": None, "name": "", "arguments": ""})
                    slot["id"] = tc.id or slot["id"]
                    if tc.function:
                        slot["name"] += tc.function.name or ""
                        slot["arguments"] += tc.function.arguments or ""
                finish = choice.finish_reason or finish
        call = calls[0]
    else:
        chat = await client.chat.completions.create(model="x", messages=messages, tools=[WEATHER])
        finish = chat.choices[0].finish_reason
        tc = chat.choices[0].message.tool_calls[0]
        call = {"id": tc.id, "name": tc.function.name, "arguments": tc.function.arguments}
    assert finish == "tool_calls" and call["name"] == "get_weather" and call["id"]
    assert isinstance(json.loads(call["arguments"]), dict)
    messages += [
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": call["id"], "type": "function",
             "function": {"name": call["name"], "arguments": call["arguments"]}}]},
        {"role": "tool", "tool_call_id": call["id"], "content": "sunny, 24C"},
    ]
    chat = await client.chat.completions.create(model="x", messages=messages, tools=[WEATHER])
    assert "sunny, 24C" in chat.choices[0].message.content and chat.choices[0].finish_reason == "stop"


@pytest.mark.parametrize("kind", KINDS)
async def test_image_message(api_for, kind):
    api = await api_for(kind)
    chat = await api.client().chat.completions.create(model="x", messages=[{"role": "user", "content": [
        {"type": "text", "text": "What is in this image?"},
        {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PIXEL}"}}]}])
    assert chat.choices[0].message.content
    if api.fake is not None:
        sent = api.fake.chat_requests()[-1].json
        assert PIXEL in json.dumps(sent)  # the image reached the provider


@pytest.mark.parametrize("kind", KINDS)
async def test_json_mode(api_for, kind):
    api = await api_for(kind)
    chat = await api.client().chat.completions.create(
        model="x", response_format={"type": "json_object"},
        messages=[{"role": "system", "content": "Answer in JSON."}, {"role": "user", "content": "Give me a city"}])
    assert isinstance(json.loads(chat.choices[0].message.content), dict)


async def test_models_lists_the_grants_model(api_for):
    api = await api_for("anthropic")
    models = await api.client().models.list()
    assert [m.id for m in models.data] == ["claude-sonnet-4-5"]


async def test_advisory_params_dropped_and_named(api_for):
    api = await api_for("anthropic")
    raw = await api.client().chat.completions.with_raw_response.create(
        model="x", messages=[{"role": "user", "content": "hi"}], frequency_penalty=0.5, seed=7)
    assert raw.parse().choices[0].message.content
    dropped = {p.strip() for p in raw.headers["x-infer0-dropped-params"].split(",")}
    assert {"frequency_penalty", "seed"} <= dropped
    sent = api.fake.chat_requests()[-1].json
    assert "frequency_penalty" not in sent and "seed" not in sent


async def test_contract_breaking_param_is_a_400_naming_it_and_the_provider(api_for):
    api = await api_for("anthropic")
    with pytest.raises(openai.BadRequestError) as err:
        await api.client().chat.completions.create(model="x", messages=[{"role": "user", "content": "hi"}], n=2)
    body = err.value.body
    assert body["param"] == "n" and "Anthropic" in body["message"]
    assert api.fake.chat_requests() == []


async def test_app_picks_another_model_only_when_the_user_allowed_it(api_for):
    from infer0app import keys
    from infer0app.services import grants, providers
    api = await api_for("anthropic")
    store = api.app[keys.STORE]
    await store.run(providers.record_test, api.seeded.provider_id, True, ["claude-sonnet-4-5", "claude-haiku-4-5"])
    client = api.client()
    chat = await client.chat.completions.create(model="claude-haiku-4-5", messages=[{"role": "user", "content": "hi"}])
    assert chat.model == "claude-sonnet-4-5"  # not allowed: the user's model answers
    assert [m.id for m in (await client.models.list()).data] == ["claude-sonnet-4-5"]
    await store.run(grants.update_grant_choice, api.seeded.user_id, api.seeded.grant_id,
                    provider_id=api.seeded.provider_id, model="", allow_model_choice=True)
    await caches_caught_up(api.app)
    assert [m.id for m in (await client.models.list()).data] == ["claude-sonnet-4-5", "claude-haiku-4-5"]
    chat = await client.chat.completions.create(model="claude-haiku-4-5", messages=[{"role": "user", "content": "hi"}])
    assert chat.model == "claude-haiku-4-5" and api.fake.chat_requests()[-1].json["model"] == "claude-haiku-4-5"
    chat = await client.chat.completions.create(model="not-of-this-connection",
                                                messages=[{"role": "user", "content": "hi"}])
    assert chat.model == "claude-sonnet-4-5"  # unknown names still fall back to the user's model


async def test_every_v1_answer_carries_cors_and_security_headers(api_for):
    """A browser app reads the answers (CORS) and none may be framed or sniffed: the plain answer,
    the stream (which the handler prepares itself) and an error alike."""
    api = await api_for("openai")
    client = api.client()
    plain = await client.chat.completions.with_raw_response.create(
        model="x", messages=[{"role": "user", "content": "hi"}])
    async with client.chat.completions.with_streaming_response.create(
            model="x", messages=[{"role": "user", "content": "hi"}], stream=True) as streamed:
        assert streamed.headers["content-type"].startswith("text/event-stream")
        [chunk async for chunk in streamed.iter_lines()]
    with pytest.raises(openai.AuthenticationError) as refused_exc:
        await api.client(token="i0at_not-a-real-token").models.list()
    refused = refused_exc.value.response
    for headers in (plain.headers, streamed.headers, refused.headers):
        assert headers["access-control-allow-origin"] == "*"
        assert "x-infer0-model" in headers["access-control-expose-headers"]
        assert headers["x-content-type-options"] == "nosniff"
        assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert refused.status_code == 401 and "www-authenticate" in refused.headers
    assert plain.headers["x-request-id"] and streamed.headers["x-request-id"]


async def test_a_providers_cookies_never_ride_along_on_later_calls(api_for):
    """One ClientSession serves every user's calls: a cookie a provider sets (Cloudflare's
    __cf_bm in front of OpenAI and Anthropic) must not be sent on the next call, whoever's."""
    from infer0app import keys
    from infer0app.store.models import ProviderConnection

    api = await api_for("openai", set_cookie="__cf_bm=affinity-of-user-a; Path=/; HttpOnly")
    # by host name: cookie jars keep no cookies set by a bare IP address
    ProviderConnection.update(base_url=api.fake.base_url.replace("127.0.0.1", "localhost")).where(
        ProviderConnection.id == api.seeded.provider_id).execute()
    await caches_caught_up(api.app)
    for _ in range(2):
        chat = await api.client().chat.completions.create(model="x", messages=[{"role": "user", "content": "hi"}])
        assert chat.choices[0].message.content
    first, second = api.fake.chat_requests()[-2:]
    assert "cookie" not in first.headers and "cookie" not in second.headers
