"""/dev/apps (register, view, edit, rotate, delete) and /dev/docs, over real HTTP."""

from __future__ import annotations

import re
import time

import pytest

from infer0app.store.models import OAuthApp, UsageEvent
from tests.support.oauth import REDIRECT, World


@pytest.fixture
async def world(server):
    w = World(await server())
    yield w
    await w.close()


async def register(browser, **fields):
    data = {"name": "My App", "homepage_url": "https://my.example", "redirect_uris": REDIRECT,
            "type": "confidential"}
    data.update(fields)
    return await browser.submit("/dev/apps", "/dev/apps", data)


def secret_in(html: str) -> str | None:
    m = re.search(r'id="client_secret" class="secret-once">([^<]+)<', html)
    return m.group(1) if m else None


def client_id_in(html: str) -> str:
    return re.search(r"<code>(i0_ci_[^<]+)</code>", html).group(1)


async def test_dev_pages_require_sign_in(world):
    anon = world.browser()
    resp, _ = await anon.get("/dev/apps", allow_redirects=False)
    assert resp.status == 303 and resp.headers["Location"].startswith("/login?next=")


async def test_register_confidential_app_shows_the_secret_once(world):
    dev = await world.user("dev@example.com")
    resp, html = await register(dev)
    assert resp.status == 200 and resp.history[0].status == 303  # post/redirect/get
    secret, client_id = secret_in(html), client_id_in(html)
    assert secret.startswith("i0_cs_") and client_id.startswith("i0_ci_")
    assert "shown only this once" in html
    row = await world.store.run(lambda s: OAuthApp.get())
    assert row.client_secret_hash and secret not in repr(row.__data__)
    _, page = await dev.get(f"/dev/apps/{client_id}")
    assert secret not in page and client_id in page and REDIRECT in page
    _, listing = await dev.get("/dev/apps")
    assert secret not in listing and "My App" in listing
    # and the secret works
    code = await world.code(await world.user("u@example.com"), client_id)
    resp, _ = await world.exchange(code, client_id, secret)
    assert resp.status == 200


async def test_register_public_app_has_no_secret(world):
    dev = await world.user("dev@example.com")
    resp, html = await register(dev, type="public", redirect_uris="http://127.0.0.1/callback\nhttps://x.example/cb")
    assert resp.status == 200 and secret_in(html) is None and "PKCE" in html
    row = await world.store.run(lambda s: OAuthApp.get())
    assert row.is_public and row.client_secret_hash is None
    assert "http://127.0.0.1/callback" in row.redirect_uris and "https://x.example/cb" in row.redirect_uris


@pytest.mark.parametrize("uri, message", [
    ("http://app.example/cb", "loopback"),
    ("https://app.example/cb#x", "fragments"),
    ("https://*.example.com/cb", "wildcards"),
    ("https://app.example/*", "wildcards"),
    ("javascript:alert(1)", "javascript"),
    ("data:text/html,hi", "data"),
    ("file:///etc/passwd", "file"),
    ("ftp://app.example/cb", "https"),
    ("https://user@app.example/cb", "user information"),
    ("https://app.example/a/../cb", "path segments"),
    ("https://app.example/a/%2E%2E/cb", "path segments"),
    ("https:///cb", "https"),
    ("app.example/cb", "https"),
    ("", "at least one"),
])
async def test_bad_redirect_uris_are_refused_at_registration(world, uri, message):
    dev = await world.user("dev@example.com")
    resp, html = await register(dev, redirect_uris=uri)
    assert resp.status == 400 and message in html.replace("&#39;", "'")
    assert await world.store.run(lambda s: OAuthApp.select().count()) == 0


@pytest.mark.parametrize("homepage", [
    "https://\u202eelpmaxe.com",  # a bidi control: the consent page showed a look-alike host
    "https://my\u200b.example",  # a zero-width space
    "https://" + "a" * 64 + ".example.com",  # a label no DNS name has
    "https://%00/",
])
async def test_a_homepage_shown_to_users_follows_the_client_uri_rules(world, homepage):
    """Found by probing: the homepage (shown on the consent and Connected apps pages) was checked
    more loosely than RFC 7591's client_uri, which refuses each of these."""
    dev = await world.user("dev@example.com")
    resp, html = await register(dev, homepage_url=homepage)
    assert resp.status == 400 and "homepage" in html.lower()
    assert await world.store.run(lambda s: OAuthApp.select().count()) == 0


async def test_loopback_http_uris_are_accepted(world):
    dev = await world.user("dev@example.com")
    resp, html = await register(dev, redirect_uris="http://127.0.0.1:8080/cb\nhttp://[::1]/cb\nhttp://localhost:3000/cb")
    assert resp.status == 200 and "is registered" in html


async def test_rotate_secret_old_one_stops_working_at_once(world):
    dev = await world.user("dev@example.com")
    _, html = await register(dev)
    client_id, old = client_id_in(html), secret_in(html)
    resp, html = await dev.submit(f"/dev/apps/{client_id}", f"/dev/apps/{client_id}/rotate", {"confirm": "yes"})
    new = secret_in(html)
    assert resp.status == 200 and new and new != old and "stopped working" in html
    user = await world.user("u@example.com")
    code = await world.code(user, client_id)
    resp, body = await world.exchange(code, client_id, old)
    assert resp.status == 400 and body["error"] == "invalid_client"
    resp, _ = await world.exchange(code, client_id, new)
    assert resp.status == 200


async def test_delete_app_kills_its_tokens(world):
    dev = await world.user("dev@example.com")
    _, html = await register(dev)
    client_id, secret = client_id_in(html), secret_in(html)
    user = await world.user("u@example.com")
    code = await world.code(user, client_id)
    _, tok = await world.exchange(code, client_id, secret)
    assert (await world.me(tok["access_token"]))[0].status == 200
    resp, html = await dev.submit(f"/dev/apps/{client_id}", f"/dev/apps/{client_id}/delete", {"confirm": "yes"})
    assert resp.status == 200 and "App deleted" in html
    assert (await world.me(tok["access_token"]))[0].status == 401
    resp, body = await world.post("/v1/oauth/refresh", {"client_id": client_id, "client_secret": secret,
                                                        "refresh_token": tok["refresh_token"]})
    assert resp.status == 400 and body["error"] == "invalid_client"


async def test_app_page_shows_connected_users_and_recent_volume(world):
    dev = await world.user("dev@example.com")
    _, html = await register(dev)
    client_id, secret = client_id_in(html), secret_in(html)
    for email in ("a@example.com", "b@example.com"):
        code = await world.code(await world.user(email), client_id)
        await world.exchange(code, client_id, secret)
    app = await world.store.run(lambda s: OAuthApp.get())
    now = time.time()

    def usage(s):
        for i in range(3):
            UsageEvent.create(user_id=1, app_id=app.id, grant_id=1, provider_kind="sandbox", prompt_tokens=10,
                              completion_tokens=5, created_at=now - i * 60)
        UsageEvent.create(user_id=1, app_id=app.id, grant_id=1, provider_kind="sandbox", prompt_tokens=999,
                          created_at=now - 40 * 86400)  # outside the window
    await world.store.run(usage)
    _, page = await dev.get(f"/dev/apps/{client_id}")
    assert re.search(r'id="connected-users">2<', page)
    assert re.search(r'id="requests-30d">3<', page) and re.search(r'id="tokens-30d">45<', page)
    assert "confidential" in page and "<meter" in page


async def test_other_developers_cannot_see_or_change_my_app(world):
    dev = await world.user("dev@example.com")
    _, html = await register(dev)
    client_id = client_id_in(html)
    other = await world.user("other@example.com")
    resp, _ = await other.get(f"/dev/apps/{client_id}")
    assert resp.status == 404
    token = await other.token_for("/dev/apps")
    for action in ("", "/rotate", "/delete"):
        resp, _ = await other.post(f"/dev/apps/{client_id}{action}", {"csrf_token": token, "name": "pwned",
                                                                     "redirect_uris": "https://evil.example/cb"})
        assert resp.status == 404
    assert await world.store.run(lambda s: OAuthApp.get().name) == "My App"


async def test_edit_app_redirect_uris(world):
    dev = await world.user("dev@example.com")
    _, html = await register(dev)
    client_id = client_id_in(html)
    resp, html = await dev.submit(f"/dev/apps/{client_id}", f"/dev/apps/{client_id}",
                                  {"name": "Renamed", "homepage_url": "", "redirect_uris": "https://new.example/cb"})
    assert resp.status == 200 and "Saved." in html and "Renamed" in html and "https://new.example/cb" in html
    resp, html = await dev.submit(f"/dev/apps/{client_id}", f"/dev/apps/{client_id}",
                                  {"name": "Renamed", "redirect_uris": "http://evil.example/cb"})
    assert resp.status == 400 and "loopback" in html


async def test_register_needs_csrf(world):
    dev = await world.user("dev@example.com")
    resp, _ = await dev.post("/dev/apps", {"name": "x", "redirect_uris": REDIRECT})
    assert resp.status == 403
    assert await world.store.run(lambda s: OAuthApp.select().count()) == 0


async def test_docs_page_has_this_servers_real_urls_and_snippets(world):
    resp, html = await world.browser().get("/dev/docs")
    assert resp.status == 200
    base = world.issuer
    for url in (f"{base}/oauth/authorize", f"{base}/v1/oauth/token", f"{base}/v1/oauth/refresh",
                f"{base}/v1/chat/completions", f"{base}/v1"):
        assert url in html, url
    for snippet in ("curl", "from openai import OpenAI", 'import OpenAI from "openai"', "code_challenge_method=S256",
                    "invalid_grant", "invalid_client", "access_denied", "slow_down", "invalid_token"):
        assert snippet in html.replace("&#34;", '"').replace("&quot;", '"'), snippet
    assert "infer0.cgcoss.workers.dev" not in html


async def introspects(world: World, client_id: str, secret: str) -> int:
    """The status of an introspection authenticated with this secret (200: it authenticates)."""
    resp, _ = await world.post("/v1/oauth/introspect", {"token": "i0_at_unknown"}, auth=(client_id, secret))
    return resp.status


async def test_rotate_secret_with_overlap_keeps_the_old_one_until_it_ends(world):
    dev = await world.user("dev@example.com")
    _, html = await register(dev)
    client_id, old = client_id_in(html), secret_in(html)
    # The app page's button leads to the confirmation page, which carries the overlap along.
    resp, html = await dev.submit(f"/dev/apps/{client_id}", f"/dev/apps/{client_id}/rotate", {"overlap_hours": "24"})
    assert resp.status == 200 and 'name="overlap_hours" value="24"' in html
    assert await introspects(world, client_id, old) == 200
    resp, html = await dev.submit(f"/dev/apps/{client_id}", f"/dev/apps/{client_id}/rotate",
                                  {"overlap_hours": "24", "confirm": "yes"})
    new = secret_in(html)
    assert resp.status == 200 and new != old
    assert await introspects(world, client_id, old) == 200 and await introspects(world, client_id, new) == 200
    _, page = await dev.get(f"/dev/apps/{client_id}")
    assert 'id="previous-secret"' in page and "still works until" in page
    row = await world.store.run(lambda s: OAuthApp.get(OAuthApp.client_id == client_id))
    assert 24 * 3600 - 60 < row.previous_secret_expires_at - time.time() <= 24 * 3600

    # The overlap ends (the row aged instead of sleeping): only the new secret works.
    await world.store.run(lambda s: OAuthApp.update(previous_secret_expires_at=time.time() - 1).where(
        OAuthApp.client_id == client_id).execute())
    assert await introspects(world, client_id, old) == 401 and await introspects(world, client_id, new) == 200
    _, page = await dev.get(f"/dev/apps/{client_id}")
    assert 'id="previous-secret"' not in page

    # A second rotation without overlap ends every older secret at once.
    _, html = await dev.submit(f"/dev/apps/{client_id}", f"/dev/apps/{client_id}/rotate",
                               {"overlap_hours": "0", "confirm": "yes"})
    newest = secret_in(html)
    assert await introspects(world, client_id, new) == 401 and await introspects(world, client_id, newest) == 200


@pytest.mark.parametrize("hours", ["169", "-1", "abc"])
async def test_rotate_overlap_beyond_seven_days_is_refused(world, hours):
    dev = await world.user("dev@example.com")
    _, html = await register(dev)
    client_id, old = client_id_in(html), secret_in(html)
    resp, html = await dev.submit(f"/dev/apps/{client_id}", f"/dev/apps/{client_id}/rotate",
                                  {"overlap_hours": hours, "confirm": "yes"})
    assert resp.status == 400 and "7 days" in html
    assert await introspects(world, client_id, old) == 200  # nothing rotated


async def test_private_use_redirects_only_for_public_apps(world):
    dev = await world.user("dev@example.com")
    resp, html = await register(dev, redirect_uris="com.example.notes:/oauth2redirect", type="confidential")
    assert resp.status == 400 and "public (native) apps only" in html
    resp, html = await register(dev, redirect_uris="notes:/oauth2redirect", type="public")
    assert resp.status == 400 and "com.example.app:/callback" in html
    resp, html = await register(dev, redirect_uris="com.example.notes:/oauth2redirect", type="public")
    assert resp.status == 200  # redirected after the POST to the app page (PRG)
