"""The consent page's limits: operator defaults pre-filled, an app's suggestion accepted or
lowered and never above the operator's maximum, bad input shown again, saved with the grant."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from infer0app.services import grant_views
from infer0app.services.grant_limits import GrantLimits, get_grant_limits
from tests.support.browser import csrf_from
from tests.support.oauth import World


def field_value(html: str, name: str) -> str:
    m = re.search(rf'name="{name}" inputmode="decimal" maxlength="20"\s+value="([^"]*)"', html)
    assert m, f"no input {name}"
    return m.group(1)


@pytest.fixture
async def world(server):
    w = World(await server(default_grant_limits="spend_per_month=5,requests_per_minute=60",
                           max_grant_limits="spend_per_month=20,tokens_per_day=100000"))
    yield w
    await w.close()


async def approve(world, browser, path, **limits):
    resp, html = await browser.get(path)
    provider = re.search(r'name="provider" value="(\d+)"', html).group(1)
    data = {"csrf_token": csrf_from(html), "decision": "approve", "provider": provider, "model": "", **limits}
    async with browser.http.post(browser.url(path), data=data, allow_redirects=False) as r:
        return r, await r.text()


async def limits_of_grant(world) -> GrantLimits:
    grant = (await world.store.run(grant_views.list_grants))[0]
    return await world.store.run(get_grant_limits, grant.id)


async def test_operator_defaults_are_prefilled_and_max_applies_to_none(world):
    browser = await world.user("u@example.com")
    client_id, _ = await world.app()
    resp, html = await browser.get(world.authorize_path(client_id))
    assert resp.status == 200 and "Limits for this app" in html
    assert field_value(html, "spend_per_month_usd") == "5"
    assert field_value(html, "requests_per_minute") == "60"
    assert field_value(html, "tokens_per_day") == "100000"  # the maximum: "none" is not offered
    assert field_value(html, "spend_per_day_usd") == ""
    assert "Token and request limits always apply" in html and "enforced" in html  # sandbox costs 0


async def test_suggestion_above_the_maximum_is_clamped_and_lowering_is_saved(world):
    browser = await world.user("u@example.com")
    client_id, _ = await world.app()
    path = world.authorize_path(client_id, limit_spend_per_month="50", limit_requests_per_minute="10",
                                limit_tokens_per_day="lots")
    resp, html = await browser.get(path)
    assert field_value(html, "spend_per_month_usd") == "20"  # clamped to the operator's max
    assert field_value(html, "requests_per_minute") == "10"  # accepted as suggested
    assert "lowered to the maximum" in html and "unusable tokens_per_day" in html
    resp, _ = await approve(world, browser, path, spend_per_month_usd="3.50", requests_per_minute="2",
                            tokens_per_day="5000")
    assert resp.status == 303
    saved = await limits_of_grant(world)
    assert saved == GrantLimits(spend_per_month_usd=Decimal("3.5"), tokens_per_day=5000, requests_per_minute=2)


@pytest.mark.parametrize("limits,message", [
    ({"spend_per_month_usd": "25", "tokens_per_day": "10"}, "at most $20"),
    ({"spend_per_month_usd": "", "tokens_per_day": "10"}, "at most $20"),
    ({"spend_per_month_usd": "lots", "tokens_per_day": "10"}, "Enter an amount in US dollars"),
    ({"spend_per_month_usd": "1", "requests_per_minute": "-3", "tokens_per_day": "10"}, "whole number"),
])
async def test_bad_or_too_high_limits_show_the_form_again(world, limits, message):
    browser = await world.user("u@example.com")
    client_id, _ = await world.app()
    resp, html = await approve(world, browser, world.authorize_path(client_id), **limits)
    assert resp.status == 400 and message in html and "Limits for this app" in html
    for name, value in limits.items():
        assert field_value(html, name) == value.replace("$", "")  # what the user typed, shown again
    assert await world.store.run(grant_views.list_grants) == []  # nothing approved


async def test_reauthorizing_shows_the_grants_current_limits(world):
    browser = await world.user("u@example.com")
    client_id, _ = await world.app()
    path = world.authorize_path(client_id)
    await approve(world, browser, path, spend_per_month_usd="7", tokens_per_day="900", requests_per_minute="none")
    _, html = await browser.get(path)
    assert field_value(html, "spend_per_month_usd") == "7" and field_value(html, "tokens_per_day") == "900"
    assert field_value(html, "requests_per_minute") == ""
