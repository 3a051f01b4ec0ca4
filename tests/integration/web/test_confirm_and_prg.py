"""Destructive dashboard actions need a second, confirming step that works without JavaScript, and
forms that create things redirect after the POST (issue 12 §6)."""

from __future__ import annotations

import re

import pytest

from infer0app.services import grant_views
from infer0app.store.models import Grant, OAuthApp, ProviderConnection
from tests.support.browser import csrf_from
from tests.support.oauth import REDIRECT, World


@pytest.fixture
async def world(server):
    w = World(await server())
    yield w
    await w.close()


def secret_in(html: str) -> str | None:
    m = re.search(r'id="client_secret" class="secret-once">([^<]+)<', html)
    return m.group(1) if m else None


async def register(browser):
    return await browser.submit("/dev/apps", "/dev/apps", {"name": "My App", "redirect_uris": REDIRECT,
                                                           "type": "confidential"}, allow_redirects=False)


async def _targets(world):
    """One of each destructive action: (browser of its owner, page with the button, action URL,
    a probe of the state the action changes)."""
    dev = await world.user("dev@example.com")
    client_id, _, _, user = await world.tokens("u@example.com")  # dev's app, authorized by u
    grant = (await world.store.run(grant_views.list_grants))[0]
    conn = await world.connection("u@example.com", kind="sandbox", name="Spare")

    def probe(query):
        return lambda: world.store.run(lambda s: query())

    return [
        (user, "/providers", f"/providers/{conn.id}/delete",
         probe(lambda: ProviderConnection.select().where(ProviderConnection.id == conn.id).count())),
        (user, "/connections", f"/connections/{grant.id}/revoke",
         probe(lambda: Grant.get_by_id(grant.id).revoked_at)),
        (dev, f"/dev/apps/{client_id}", f"/dev/apps/{client_id}/rotate",
         probe(lambda: OAuthApp.get(OAuthApp.client_id == client_id).client_secret_hash)),
        (dev, f"/dev/apps/{client_id}", f"/dev/apps/{client_id}/delete",
         probe(lambda: OAuthApp.select().where(OAuthApp.client_id == client_id).count())),
    ]


async def test_each_destructive_button_leads_to_a_confirmation_and_only_that_acts(world):
    for user, page, action, state in await _targets(world):
        before = await state()
        _, html = await user.get(page)
        assert f'action="{action}"' in html, action  # the page's own button posts here ...
        resp, confirm = await user.submit(page, action, {})  # ... which no longer acts on one click
        assert resp.status == 200 and 'name="confirm" value="yes"' in confirm, action
        assert await state() == before, action
        resp, again = await user.get(action)  # a link or a prefetch: the same page, nothing done
        assert resp.status == 200 and 'name="confirm" value="yes"' in again and await state() == before
        assert f'action="{action}"' in again and "Cancel" in again
        resp, _ = await user.post(action, {"confirm": "yes"})  # no CSRF token: refused
        assert resp.status == 403 and await state() == before, action
        resp, _ = await user.post(action, {"confirm": "yes", "csrf_token": csrf_from(again)})
        assert resp.status == 200 and await state() != before, action


async def test_registering_an_app_redirects_and_shows_the_secret_once(world):
    dev = await world.user("dev@example.com")
    resp, _ = await register(dev)
    assert resp.status == 303  # the POST renders nothing a reload could re-send
    location = resp.headers["Location"]
    assert re.fullmatch(r"/dev/apps/i0_ci_[\w-]+", location)
    raw_cookie = resp.headers.get("Set-Cookie", "")
    resp, html = await dev.get(location)
    secret = secret_in(html)
    assert secret and secret.startswith("i0_cs_") and secret not in raw_cookie  # sealed, not carried in clear
    _, reloaded = await dev.get(location)
    assert secret_in(reloaded) is None and secret not in reloaded
    assert await world.store.run(lambda s: OAuthApp.select().count()) == 1


async def test_a_rotated_secret_is_shown_once_after_a_redirect(world):
    dev = await world.user("dev@example.com")
    resp, _ = await register(dev)
    page = resp.headers["Location"]
    _, first = await dev.get(page)
    resp, _ = await dev.submit(page, page + "/rotate", {"confirm": "yes"}, allow_redirects=False)
    assert resp.status == 303 and resp.headers["Location"] == page
    _, html = await dev.get(page)
    new = secret_in(html)
    assert new and new != secret_in(first) and "stopped working" in html
    _, reloaded = await dev.get(page)
    assert new not in reloaded


async def test_the_secret_cookie_is_worth_nothing_to_another_session(world):
    dev = await world.user("dev@example.com")
    resp, _ = await register(dev)
    page, flash = resp.headers["Location"], resp.cookies["i0_flash"].value
    other = await world.user("other@example.com")
    other.http.cookie_jar.update_cookies({"i0_flash": flash}, response_url=__import__("yarl").URL(other.base))
    resp, html = await other.get(page)
    assert resp.status == 404 and secret_in(html) is None
    _, html = await dev.get(page)  # the owner still gets it, once
    assert secret_in(html)
