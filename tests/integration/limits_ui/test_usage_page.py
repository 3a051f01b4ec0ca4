"""/usage: the user's own usage by day, app and model with a spend estimate, SVG charts without
JavaScript, CSV/JSON export; the developer page's tokens, errors by code and active users."""

from __future__ import annotations

import csv
import io
import json
import time

import pytest

from infer0app.services import grant_views
from infer0app.store.models import UsageEvent
from tests.support.oauth import World


@pytest.fixture
async def world(server):
    w = World(await server())
    yield w
    await w.close()


async def seed(world, email: str, *, kind="openai", model="gpt-4o-mini", prompt=1_000_000, status=200,
               client_id=None, error_code=""):
    if client_id is None:
        _, _, _, browser = await world.tokens(email)
    else:  # another user of the same app
        browser = await world.user(email)
        await world.code(browser, client_id)
    grant = next(g for g in await world.store.run(grant_views.list_grants) if g.user_email == email)
    now = time.time()

    def add(s):
        UsageEvent.create(user_id=grant.user_id, app_id=grant.app_id, grant_id=grant.id, provider_kind=kind,
                          model=model, prompt_tokens=prompt, completion_tokens=500_000, created_at=now - 60)
        UsageEvent.create(user_id=grant.user_id, app_id=grant.app_id, grant_id=grant.id, provider_kind=kind,
                          model=model, status=status, error_code=error_code, created_at=now - 2 * 86400)
    await world.store.run(add)
    return browser, grant


async def test_usage_page_shows_totals_tables_and_svg_charts_without_scripts(world):
    browser, _ = await seed(world, "u@example.com", status=429, error_code="grant_rate_limited")
    await seed(world, "other@example.com", model="gpt-4o", prompt=9_999)
    resp, html = await browser.get("/usage")
    assert resp.status == 200
    # 1M input at $0.15 + 0.5M output at $0.60 per million (gpt-4o-mini) = $0.45
    assert '<dd id="usage-spend">$0.45' in html
    assert "1,500,000" in html and "gpt-4o-mini" in html and "Test App" in html
    assert "1 refused" in html
    assert html.count("<svg") == 3 and "<rect" in html and "<script" not in html
    assert "gpt-4o<" not in html and "9,999" not in html  # another user's usage is not shown
    assert 'aria-current="page">Usage' in html


async def test_usage_page_rejects_a_bad_date_with_a_message(world):
    browser = await world.user("u@example.com")
    resp, html = await browser.get("/usage?since=yesterday")
    assert resp.status == 400 and "since must be a date" in html


async def test_usage_dates_at_the_calendars_edges_are_refused_not_a_server_error(world):
    # The range reaches a day past `until` and 30 days before it: at 9999-12-31 / 0001-01-01
    # Python's dates overflow, which used to be a 500 page.
    browser = await world.user("u@example.com")
    for query in ("until=9999-12-31", "until=0001-01-01", "since=0001-01-01&until=0001-01-02"):
        resp, html = await browser.get("/usage?" + query)
        assert resp.status == 400 and "must be a date from 1970-01-01 to 9998-12-31" in html, query
        resp, html = await browser.get("/usage/export?format=json&" + query)
        assert resp.status == 400 and "must be a date from 1970-01-01" in html, query


async def test_export_csv_and_json_hold_only_the_users_rows(world):
    browser, grant = await seed(world, "u@example.com")
    await seed(world, "other@example.com", model="gpt-4o")
    resp, body = await browser.get("/usage/export?format=csv")
    assert resp.status == 200 and resp.headers["Content-Type"].startswith("text/csv")
    assert "attachment" in resp.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(body)))
    assert {r["model"] for r in rows} == {"gpt-4o-mini"}
    ok = max(rows, key=lambda r: int(r["prompt_tokens"]))
    assert ok["prompt_tokens"] == "1000000" and ok["spend_usd"] == "0.450000" and ok["app_name"] == "Test App"
    resp, body = await browser.get("/usage/export?format=json")
    data = json.loads(body)["data"]
    assert sum(r["requests"] for r in data) == 2 and all("user" not in r for r in data)
    resp, html = await browser.get("/usage/export?format=xml")
    assert resp.status == 400 and "format=csv" in html


async def test_developer_page_shows_tokens_errors_by_code_and_active_users(world):
    dev = await world.user("dev@example.com")  # signed up first: the apps below are theirs
    client_id, _ = await world.app()
    await seed(world, "u@example.com", status=502, client_id=client_id)
    await seed(world, "v@example.com", status=429, client_id=client_id)
    resp, html = await dev.get(f"/dev/apps/{client_id}")
    assert resp.status == 200
    assert '<dd id="app-tokens-14d">3,000,000</dd>' in html
    assert '<dd id="app-users-14d">2</dd>' in html
    assert "429: 1" in html and "502: 1" in html
    assert html.count("<svg") == 3
