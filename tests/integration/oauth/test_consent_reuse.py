"""Consent that is not asked twice, prompt=consent and prompt=none (issue 16 §4; OpenID Connect
Core §3.1.2.1), and the consent page's account of the app."""

from __future__ import annotations

import re

from infer0app.services import apps
from tests.support.oauth import REDIRECT, query_of

OTHER = "https://app.example/other"


async def approve_once(world, browser, client_id, **params):
    resp = await world.consent(browser, world.authorize_path(client_id, **params))
    assert resp.status == 303, resp.status
    return resp


async def test_a_second_request_is_answered_at_once_and_keeps_the_grant(world):
    browser = await world.user("u@example.com")
    await world.connection("u@example.com", kind="sandbox", name="Second sandbox", model="sandbox-b")
    client_id, secret = await world.app(redirect_uris=(REDIRECT, OTHER))
    _, html = await browser.get(world.authorize_path(client_id))
    second = re.search(r'name="provider" value="(\d+)"[^>]*>\s*<span><strong>Second sandbox', html).group(1)
    await world.consent(browser, world.authorize_path(client_id), provider=second, model="sandbox-b",
                        allow_model_choice=True)

    resp, _ = await browser.get(world.authorize_path(client_id, state="s2"), allow_redirects=False)
    assert resp.status == 303
    query = query_of(resp.headers["Location"])
    assert resp.headers["Location"].startswith(REDIRECT) and query["state"] == "s2" and query["iss"] == world.issuer
    _, token = await world.exchange(query["code"], client_id, secret)
    _, me = await world.me(token["access_token"])
    assert me["model"] == "sandbox-b" and me["provider"]["id"] == int(second)  # the grant as the user left it

    # Another registered redirect URI than the one approved: the page again.
    resp, html = await browser.get(world.authorize_path(client_id, OTHER), allow_redirects=False)
    assert resp.status == 200 and "Approve" in html
    # prompt=consent: always the page.
    resp, html = await browser.get(world.authorize_path(client_id, prompt="consent"), allow_redirects=False)
    assert resp.status == 200 and "Approve" in html


async def test_changed_redirect_uris_or_a_revoked_grant_ask_again(world):
    browser = await world.user("u@example.com")
    client_id, _ = await world.app()
    await approve_once(world, browser, client_id)
    dev = await world.store.run(lambda s: apps.get_app(s, client_id))
    await world.store.run(lambda s: apps.update_app(s, dev.owner_id, client_id, name=dev.name,
                                                    homepage_url=dev.homepage_url,
                                                    redirect_uris=[REDIRECT, OTHER], actor="cli:test"))
    resp, html = await browser.get(world.authorize_path(client_id), allow_redirects=False)
    assert resp.status == 200 and "Approve" in html
    await approve_once(world, browser, client_id)
    resp, _ = await browser.get(world.authorize_path(client_id), allow_redirects=False)
    assert resp.status == 303  # approved again under the new list: remembered again

    _, html = await browser.get("/connections")
    grant_id = re.search(r'action="/connections/(\d+)/revoke"', html).group(1)
    await browser.submit("/connections", f"/connections/{grant_id}/revoke", {"confirm": "yes"})
    resp, html = await browser.get(world.authorize_path(client_id), allow_redirects=False)
    assert resp.status == 200 and "Approve" in html


async def test_prompt_none_answers_login_required_and_consent_required(world):
    browser = await world.user("u@example.com")
    client_id, secret = await world.app()
    anon = world.browser()
    resp, _ = await anon.get(world.authorize_path(client_id, prompt="none", state="a"), allow_redirects=False)
    query = query_of(resp.headers["Location"])
    assert resp.status == 303 and resp.headers["Location"].startswith(REDIRECT)
    assert (query["error"], query["state"], query["iss"]) == ("login_required", "a", world.issuer)

    resp, _ = await browser.get(world.authorize_path(client_id, prompt="none", state="b"), allow_redirects=False)
    query = query_of(resp.headers["Location"])
    assert resp.status == 303 and (query["error"], query["state"]) == ("consent_required", "b")

    await approve_once(world, browser, client_id)
    resp, _ = await browser.get(world.authorize_path(client_id, prompt="none", state="c"), allow_redirects=False)
    query = query_of(resp.headers["Location"])
    assert resp.status == 303 and "error" not in query and query["state"] == "c"
    assert (await world.exchange(query["code"], client_id, secret))[0].status == 200


async def test_sign_in_names_the_app_and_the_consent_page_describes_it(world):
    await world.user("u@example.com")
    client_id, _ = await world.app(name="Acme Notes")
    anon = world.browser()
    resp, html = await anon.get(world.authorize_path(client_id))
    assert str(resp.url).split("?")[0].endswith("/login")
    assert "Sign in to continue to <strong>Acme Notes</strong>" in html
    resp, html = await anon.get("/login?next=/providers")
    assert "Sign in to continue" not in html

    browser = await world.user("v@example.com")
    resp, html = await browser.get(world.authorize_path(client_id))
    assert "dev@example.com" in html and "Exists since" in html
    assert 'class="app-logo app-initials"' in html and ">AN<" in html  # no logo registered: initials
    assert "Unverified" in html  # not marked verified by the operator
    assert "img-src 'self' data: https:" in resp.headers["Content-Security-Policy"]
    resp, _ = await browser.get("/providers")
    assert "img-src 'self' data:;" in resp.headers["Content-Security-Policy"]  # other pages load no remote images
