"""A call that fails over to a fallback connection is held to that connection's own caps: its
spend is reserved and settled against the fallback's connection-wide cap (chat, streams,
embeddings), and a fallback whose cap it does not fit is skipped (never called), the app getting
the provider failure that started the failover. The grant's request cap counts the call once.
Official openai SDK, a real infer0, the grant's provider failing (503) and a second fake."""

from __future__ import annotations

import openai
import pytest

from infer0app import keys
from infer0app.gateway.failover import MOVE_ON
from infer0app.services import grant_fallbacks, limit_ledger
from infer0app.services.grant_limits import GrantLimits, set_grant_limits
from infer0app.services.pricing import Price
from tests.integration.api.test_failover_sdk import two_providers  # noqa: F401 (the fixture)

HELLO = [{"role": "user", "content": "Hello there"}]


@pytest.fixture
async def capped_fallback(two_providers):
    """The grant's provider answers 503; its fallback (the second fake) costs 1 micro-USD a token."""
    api, second = two_providers
    store = api.app[keys.STORE]
    (backup_id,) = (await store.run(grant_fallbacks.list_fallbacks, [api.seeded.grant_id]))[api.seeded.grant_id]
    await store.run(limit_ledger.set_connection_price, backup_id, "", Price(input=1.0, output=1.0))
    return api, second, backup_id


def used(store, scope: str, owner_id: int, metric: str) -> int:
    row = store.raw().execute('SELECT COALESCE(SUM("used"), 0) FROM "limit_counter" WHERE "scope" = ? '
                              'AND "owner_id" = ? AND "metric" = ?', (scope, owner_id, metric)).fetchone()
    return int(row[0])


async def counters(api, backup_id: int) -> tuple[int, int]:
    """(the fallback connection's spend, the grant's requests) as reported to the database."""
    await api.app[keys.LIMITS].flush()
    store = api.app[keys.STORE]
    return (await store.run(used, "connection", backup_id, "spend"),
            await store.run(used, "grant", api.seeded.grant_id, "requests"))


async def test_the_fallback_connections_cap_is_charged_for_chat_streams_and_embeddings(capped_fallback):
    api, second, backup_id = capped_fallback
    store = api.app[keys.STORE]
    await store.run(limit_ledger.set_connection_limits, backup_id, spend_per_month_micro_usd=1_000_000)
    set_grant_limits(store, api.seeded.grant_id, GrantLimits(requests_per_minute=100), actor="cli:test")
    client = api.client(max_retries=0)

    chat = await client.chat.completions.create(model="x", messages=HELLO, max_tokens=50)
    spend, requests = await counters(api, backup_id)
    # 1 micro-USD a token at the fallback's price: exactly what the fallback reported using
    assert spend == chat.usage.prompt_tokens + chat.usage.completion_tokens > 0
    assert requests == 1  # the failed attempt and the fallback's answer are one call

    stream = await client.chat.completions.create(model="x", messages=HELLO, max_tokens=50, stream=True)
    assert "".join([c.choices[0].delta.content or "" async for c in stream if c.choices])
    spend_after_stream, requests = await counters(api, backup_id)
    assert spend_after_stream > spend and requests == 2

    await client.embeddings.create(model="x", input="hello", encoding_format="float")
    spend_after_embeddings, requests = await counters(api, backup_id)
    assert spend_after_embeddings > spend_after_stream and requests == 3
    assert second.requests[-1].path == "/v1/embeddings"


async def test_a_fallback_whose_cap_does_not_fit_is_skipped_with_the_providers_error(capped_fallback):
    api, second, backup_id = capped_fallback
    store = api.app[keys.STORE]
    await store.run(limit_ledger.set_connection_limits, backup_id, spend_per_month_micro_usd=30)
    client = api.client(max_retries=0)
    with pytest.raises(openai.APIStatusError) as caught:
        await client.chat.completions.create(model="x", messages=HELLO, max_tokens=500)
    assert caught.value.status_code != 402 and caught.value.code in MOVE_ON  # the provider's failure
    assert second.chat_requests() == []  # the capped fallback was never called
    with pytest.raises(openai.APIStatusError) as streamed:
        await client.chat.completions.create(model="x", messages=HELLO, max_tokens=500, stream=True)
    assert streamed.value.code in MOVE_ON and second.chat_requests() == []
    spend, _ = await counters(api, backup_id)
    assert spend == 0
    assert api.app[keys.LIMITS].stats.refusals == {}  # a skipped fallback is no refusal in /metrics
    # a call that fits the fallback's cap still fails over
    chat = await client.chat.completions.create(model="x", messages=HELLO, max_tokens=5)
    assert chat.choices[0].message.content and len(second.chat_requests()) == 1
