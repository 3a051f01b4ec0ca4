"""Connected apps: per-app limits editable (bad input -> the form again), enforced on the next
chat call, per-app figures for this month, and notices when an app or a connection hit a cap;
the provider's limits page caps a whole connection and sets the user's prices."""

from __future__ import annotations

import time

import openai
import pytest

from infer0app.services import grant_views, limit_ledger
from infer0app.services.connection_prices import price_map
from infer0app.services.grant_limits import get_connection_limits, get_grant_limits
from infer0app.store.models import UsageEvent
from tests.support.limits import away_from_minute_edge
from tests.support.oauth import World


@pytest.fixture
async def world(server):
    w = World(await server(max_grant_limits="spend_per_month=100"))
    yield w
    await w.close()


def chat_client(world, token) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(base_url=world.base + "/v1", api_key=token, max_retries=0)


async def ask(client):
    return await client.chat.completions.create(model="x", messages=[{"role": "user", "content": "hi"}])


async def test_rpm_set_on_connected_apps_is_enforced_on_the_next_call(world):
    _, _, tok, browser = await world.tokens("u@example.com")
    grant = (await world.store.run(grant_views.list_grants))[0]
    await away_from_minute_edge()
    resp, html = await browser.submit("/connections", f"/connections/{grant.id}/limits",
                                      {"requests_per_minute": "1", "spend_per_month_usd": "9.5"})
    assert resp.status == 200 and "Limits saved" in html
    saved = await world.store.run(get_grant_limits, grant.id)
    assert saved.requests_per_minute == 1 and str(saved.spend_per_month_usd) == "9.5"
    client = chat_client(world, tok["access_token"])
    try:
        await ask(client)
        with pytest.raises(openai.RateLimitError) as refused:
            await ask(client)
        assert refused.value.status_code == 429 and refused.value.code == "grant_rate_limited"
    finally:
        await client.close()


@pytest.mark.parametrize("fields,message", [
    ({"requests_per_minute": "many"}, "whole number"),
    ({"spend_per_month_usd": "101"}, "at most $100"),
    ({"spend_per_month_usd": "none"}, "at most $100"),  # the operator's maximum rules out "none"
    ({"spend_per_day_usd": "1.1234567", "spend_per_month_usd": "5"}, "6 decimals"),
])
async def test_bad_limits_show_the_page_again_with_a_message(world, fields, message):
    _, _, _, browser = await world.tokens("u@example.com")
    grant = (await world.store.run(grant_views.list_grants))[0]
    before = await world.store.run(get_grant_limits, grant.id)
    resp, html = await browser.submit("/connections", f"/connections/{grant.id}/limits", fields)
    assert resp.status == 400 and message in html and "Connected apps" in html
    assert await world.store.run(get_grant_limits, grant.id) == before


async def test_someone_elses_grant_is_404(world):
    await world.tokens("u@example.com")
    grant = (await world.store.run(grant_views.list_grants))[0]
    mallory = await world.user("mallory@example.com")
    resp, _ = await mallory.submit("/connections", f"/connections/{grant.id}/limits", {"requests_per_minute": "5"})
    assert resp.status == 404


async def test_figures_and_a_notice_when_an_app_hit_its_cap(world):
    _, _, tok, browser = await world.tokens("u@example.com")
    grant = (await world.store.run(grant_views.list_grants))[0]
    await browser.submit("/connections", f"/connections/{grant.id}/limits", {"tokens_per_day": "50", "spend_per_month_usd": "100"})
    now = time.time()

    def scene(s):
        UsageEvent.create(user_id=grant.user_id, app_id=grant.app_id, grant_id=grant.id, provider_kind="openai",
                          model="gpt-4o-mini", prompt_tokens=1_000_000, completion_tokens=0, created_at=now - 60)
        UsageEvent.create(user_id=grant.user_id, app_id=grant.app_id, grant_id=grant.id, provider_kind="sandbox",
                          model="x", status=402, created_at=now - 30)
        rule = next(r for r in limit_ledger.load_config(s, grant.id, grant.provider_id).rules)
        with s.write():
            limit_ledger.sync_leases(s, "test", now, [limit_ledger.SyncItem(rule.key(now), rule.cap, report=60)], 5)
    await world.store.run(scene)
    _, html = await browser.get("/connections")
    assert "$0.15" in html  # 1M input tokens of gpt-4o-mini at $0.15 per million
    assert "1,000,000" in html
    assert "reached its tokens per day limit" in html and "60 of 50" in html


async def test_connection_caps_and_prices_on_the_provider_page(world):
    browser = await world.user("u@example.com", sandbox=False)
    conn = await world.connection("u@example.com", kind="fireworks", name="Local", model="my-model")
    page = f"/providers/{conn.id}/limits"
    resp, html = await browser.get(page)
    assert resp.status == 200 and "unknown" in html  # no price for my-model yet
    resp, html = await browser.submit(page, page, {"spend_per_month_usd": "50"})
    assert resp.status == 200 and "Connection limits saved" in html
    assert str((await world.store.run(get_connection_limits, conn.id)).spend_per_month_usd) == "50"
    resp, html = await browser.submit(page, page, {"spend_per_week_usd": "-1"})
    assert resp.status == 400 and "between $0" in html
    resp, html = await browser.submit(page, f"/providers/{conn.id}/prices", {"model": "", "input": "0", "output": "x"})
    assert resp.status == 400 and "per million tokens" in html
    resp, html = await browser.submit(page, f"/providers/{conn.id}/prices", {"model": "my-model", "input": "0.5",
                                                                             "output": "1.5"})
    assert resp.status == 200 and "Price saved" in html and "$0.5" in html
    assert (await world.store.run(price_map, conn.id))["my-model"].output == 1.5
    other = await world.user("other@example.com")
    resp, _ = await other.get(page)
    assert resp.status == 404
