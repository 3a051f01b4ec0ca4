"""Failover chosen by the user (issue 14 §3): the grant's connection answers 503, its first
fallback answers; the app (official openai SDK, no retries) sees one 200 naming the fallback,
usage is recorded against it, and the grant's limits count the call once."""

from __future__ import annotations

import pytest

from infer0app import keys
from infer0app.services import grant_fallbacks, providers
from infer0app.services.grant_limits import GrantLimits, set_grant_limits
from tests.fakes import run_fake
from tests.support.waits import usage_rows


@pytest.fixture
async def two_providers(api_for):
    api = await api_for("openai")
    async with run_fake("openai") as second:
        store = api.app[keys.STORE]
        backup = await store.run(providers.add_connection, api.app[keys.VAULT], api.seeded.user_id, kind="mistral",
                                 name="Backup", base_url=second.base_url, api_key=second.key, model="gpt-4o")
        await store.run(grant_fallbacks.set_fallbacks, api.seeded.user_id, api.seeded.grant_id, [str(backup.id)])
        api.fake.knobs.fail_status = 503
        yield api, second


async def test_chat_moves_on_to_the_fallback_and_says_so(two_providers):
    api, second = two_providers
    store = api.app[keys.STORE]
    set_grant_limits(store, api.seeded.grant_id, GrantLimits(requests_per_minute=10), actor="cli:test")
    raw = await api.client(max_retries=0).chat.completions.with_raw_response.create(
        model="x", messages=[{"role": "user", "content": "Hello there"}])
    assert raw.status_code == 200 and raw.parse().choices[0].message.content
    assert raw.headers["x-infer0-provider"] == "mistral" and raw.headers["x-infer0-model"].startswith("gpt-4o")
    assert raw.headers["x-ratelimit-remaining-requests"] == "9"  # the grant's limit counted the call once
    assert len(api.fake.chat_requests()) == 1 and len(second.chat_requests()) == 1
    (row,) = await usage_rows(store, api.seeded.grant_id, 1)
    assert row.provider_kind == "mistral" and row.status == 200 and row.completion_tokens > 0


async def test_streams_and_embeddings_move_on_too(two_providers):
    api, second = two_providers
    client = api.client(max_retries=0)
    raw = await client.chat.completions.with_raw_response.create(
        model="x", messages=[{"role": "user", "content": "Tell me a story"}], stream=True)
    assert raw.headers["x-infer0-provider"] == "mistral"
    text = "".join([c.choices[0].delta.content or "" async for c in raw.parse() if c.choices])
    assert text
    emb = await client.embeddings.with_raw_response.create(model="x", input="hello", encoding_format="float")
    assert emb.headers["x-infer0-provider"] == "mistral" and emb.headers["x-infer0-model"].startswith("mistral-embed")
    assert second.requests[-1].path == "/v1/embeddings"


async def test_a_request_the_provider_rejects_does_not_move_on(two_providers):
    api, second = two_providers
    api.fake.knobs.fail_status = 400
    import openai
    with pytest.raises(openai.BadRequestError):
        await api.client(max_retries=0).chat.completions.create(model="x", messages=[{"role": "user", "content": "hi"}])
    assert second.chat_requests() == []
