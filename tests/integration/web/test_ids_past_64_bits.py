"""Ids a person types (a URL's /providers/<id>, a form's `provider`) longer than a database id
can be: "not found" or "choose one of yours", never a 500. Both databases hold ids as signed 64-bit
integers; SQLite's driver raised OverflowError for 99999999999999999999, PostgreSQL refuses it."""

from __future__ import annotations

from infer0app.services import grant_views
from tests.support.browser import csrf_from

BIG = "9" * 26
PAST_INT64 = str(2**63)  # 19 digits, one past the largest id


async def test_route_ids_past_64_bits_are_not_found(world):
    client_id, _, _, browser = await world.tokens("u@example.com")
    token = await browser.token_for("/providers")
    for ident in (BIG, PAST_INT64):
        for path in (f"/providers/{ident}", f"/providers/{ident}/limits", f"/providers/{ident}/delete",
                     f"/providers/{ident}/prices", f"/connections/{ident}", f"/connections/{ident}/revoke",
                     f"/connections/{ident}/limits", f"/connections/{ident}/fallbacks"):
            resp, _ = await browser.post(path, {"csrf_token": token, "confirm": "yes"}, allow_redirects=False)
            assert resp.status == 404, (path, resp.status)
            resp, _ = await browser.get(path, allow_redirects=False)
            assert resp.status in (303, 404), (path, resp.status)


async def test_form_ids_past_64_bits_are_refused_with_the_form(world):
    client_id, _, _, browser = await world.tokens("u@example.com")
    grant = (await world.store.run(grant_views.list_grants))[0]
    token = await browser.token_for("/connections")
    for ident in (BIG, PAST_INT64):
        resp, html = await browser.post(f"/connections/{grant.id}", {"csrf_token": token, "provider": ident})
        assert resp.status == 400 and "Choose one of your provider connections" in html
        path = world.authorize_path(client_id, prompt="consent")
        _, page = await browser.get(path)
        resp, html = await browser.post(path, {"csrf_token": csrf_from(page), "decision": "approve",
                                               "provider": ident})
        assert resp.status == 400 and "Choose one of your provider connections" in html
    assert (await world.store.run(grant_views.list_grants))[0].provider_id == grant.provider_id
