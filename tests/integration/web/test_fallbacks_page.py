"""Connected apps: the user orders fallback connections for an app, with plain forms (issue 14 §3)."""

from __future__ import annotations

import pytest

from infer0app.services import grant_fallbacks, grant_views
from tests.support.oauth import World


@pytest.fixture
async def world(server):
    w = World(await server())
    yield w
    await w.close()


async def test_fallbacks_are_saved_in_order_and_shown(world):
    _, _, _, browser = await world.tokens("u@example.com")
    work = await world.connection("u@example.com", kind="openai", name="Work")
    lab = await world.connection("u@example.com", kind="mistral", name="Lab")
    grant = (await world.store.run(grant_views.list_grants))[0]
    resp, html = await browser.get("/connections")
    assert f'action="/connections/{grant.id}/fallbacks"' in html and "Fallback 1" in html
    token = await browser.token_for("/connections")
    resp, html = await browser.post(f"/connections/{grant.id}/fallbacks",
                                    {"csrf_token": token, "fallback": [str(lab.id), str(work.id), ""]})
    assert resp.status == 200 and "Saved" in html
    assert await world.store.run(grant_fallbacks.list_fallbacks, [grant.id]) == {grant.id: [lab.id, work.id]}
    assert html.count("selected>Lab") == 1 or f'value="{lab.id}" selected' in html


async def test_someone_elses_connection_is_refused(world):
    _, _, _, browser = await world.tokens("u@example.com")
    await world.user("mallory@example.com")
    theirs = await world.connection("mallory@example.com", kind="openai", name="Mallory's")
    grant = (await world.store.run(grant_views.list_grants))[0]
    token = await browser.token_for("/connections")
    resp, html = await browser.post(f"/connections/{grant.id}/fallbacks",
                                    {"csrf_token": token, "fallback": str(theirs.id)})
    assert resp.status == 400 and "among your provider connections" in html
    assert await world.store.run(grant_fallbacks.list_fallbacks, [grant.id]) == {}
