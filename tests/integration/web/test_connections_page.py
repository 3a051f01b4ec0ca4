"""/connections: the apps a user has authorized; change provider and model; revoke."""

from __future__ import annotations

import re
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


async def test_lists_authorized_apps_with_provider_model_dates_and_usage(world):
    client_id, _, tok, browser = await world.tokens("u@example.com")
    grant = (await world.store.run(grant_views.list_grants))[0]
    now = time.time()

    def usage(s):
        UsageEvent.create(user_id=grant.user_id, app_id=grant.app_id, grant_id=grant.id, provider_kind="sandbox",
                          prompt_tokens=100, completion_tokens=20, created_at=now - 3600)
        UsageEvent.create(user_id=grant.user_id, app_id=grant.app_id, grant_id=grant.id, provider_kind="sandbox",
                          prompt_tokens=1, completion_tokens=1, created_at=now - 31 * 86400)
    await world.store.run(usage)
    resp, html = await browser.get("/connections")
    assert resp.status == 200
    assert "Test App" in html and "dev@example.com" in html and "Sandbox" in html and "sandbox-echo-1" in html
    assert re.search(r'class="requests">1<', html) and re.search(r'class="tokens">120<', html)
    assert "UTC" in html  # authorized at, last used


async def test_empty_state(world):
    browser = await world.user("u@example.com")
    _, html = await browser.get("/connections")
    assert "You have not authorized any app yet" in html


async def test_revoke_kills_the_apps_tokens_at_once(world):
    client_id, secret, tok, browser = await world.tokens("u@example.com")
    assert (await world.me(tok["access_token"]))[0].status == 200  # cached now
    grant = (await world.store.run(grant_views.list_grants))[0]
    resp, html = await browser.submit("/connections", f"/connections/{grant.id}/revoke", {"confirm": "yes"})
    assert resp.status == 200 and "Access revoked" in html and "Test App" not in html
    assert (await world.me(tok["access_token"]))[0].status == 401
    resp, body = await world.post("/v1/oauth/refresh", {"client_id": client_id, "client_secret": secret,
                                                        "refresh_token": tok["refresh_token"]})
    assert resp.status == 400 and body["error"] == "invalid_grant"


async def test_change_provider_and_model_applies_to_existing_tokens_at_once(world):
    client_id, _, tok, browser = await world.tokens("u@example.com")
    assert (await world.me(tok["access_token"]))[0].status == 200  # cached
    work = await world.connection("u@example.com", kind="openai", name="Work", model="gpt-4o-mini")
    grant = (await world.store.run(grant_views.list_grants))[0]
    resp, html = await browser.submit("/connections", f"/connections/{grant.id}",
                                      {"provider": str(work.id), "model": "gpt-4.1"})
    assert resp.status == 200 and "Saved" in html and "gpt-4.1" in html
    _, me = await world.me(tok["access_token"])
    assert me["provider"]["kind"] == "openai" and me["model"] == "gpt-4.1"


async def test_cannot_touch_someone_elses_grant_or_pick_their_connection(world):
    _, _, tok, _ = await world.tokens("u@example.com")
    grant = (await world.store.run(grant_views.list_grants))[0]
    mallory = await world.user("mallory@example.com")
    token = await mallory.token_for("/connections")
    resp, _ = await mallory.post(f"/connections/{grant.id}/revoke", {"csrf_token": token})
    assert resp.status == 404
    resp, _ = await mallory.post(f"/connections/{grant.id}", {"csrf_token": token, "provider": "1", "model": ""})
    assert resp.status == 404
    assert (await world.me(tok["access_token"]))[0].status == 200
    # the owner cannot point the grant at Mallory's connection either
    theirs = await world.connection("mallory@example.com", kind="openai", name="Mallory's")
    owner = world._browsers[0]
    resp, html = await owner.submit("/connections", f"/connections/{grant.id}", {"provider": str(theirs.id)})
    assert resp.status == 400 and "Choose one of your provider connections" in html


async def test_revoke_needs_csrf(world):
    _, _, tok, browser = await world.tokens("u@example.com")
    grant = (await world.store.run(grant_views.list_grants))[0]
    resp, _ = await browser.post(f"/connections/{grant.id}/revoke", {"confirm": "yes"})
    assert resp.status == 403
    assert (await world.me(tok["access_token"]))[0].status == 200
