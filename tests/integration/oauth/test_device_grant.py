"""RFC 8628 device authorization grant: the endpoint, the /device pages and every polling answer."""

from __future__ import annotations

import html as htmlmod
import re

from infer0app.services.secrets_util import sha256_hex
from tests.support.browser import csrf_from

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"


async def start(world, client_id, secret=None, **extra):
    data = {"client_id": client_id, **extra}
    if secret:
        data["client_secret"] = secret
    resp, body = await world.post("/v1/oauth/device_authorization", data)
    assert resp.status == 200, body
    return body


async def poll(world, client_id, device_code, secret=None):
    data = {"grant_type": DEVICE_GRANT, "device_code": device_code, "client_id": client_id}
    if secret:
        data["client_secret"] = secret
    return await world.post("/v1/oauth/token", data)


async def age_last_poll(world, device_code, seconds=60):
    """Pretend the previous poll was `seconds` ago (no sleeping in tests)."""
    await world.store.run(lambda s: s.db.execute_sql(
        'UPDATE "device_authorization" SET last_poll_at = last_poll_at - ? WHERE device_code_hash = ?',
        (seconds, sha256_hex(device_code))))


async def enter_code(browser, user_code):
    """Type the code at /device; returns (response, html) of the page that follows."""
    _, page = await browser.get("/device")
    return await browser.post("/device", {"csrf_token": csrf_from(page), "user_code": user_code})


async def decide(browser, consent_html, decision="approve"):
    action = htmlmod.unescape(re.search(r'<form method="post" action="(/device/consent[^"]*)"', consent_html).group(1))
    provider = re.search(r'name="provider" value="(\d+)"[^>]*checked', consent_html)
    data = {"csrf_token": csrf_from(consent_html), "decision": decision, "model": "",
            "provider": provider.group(1) if provider else ""}
    return await browser.post(action, data)


async def test_device_authorization_response_and_metadata(world):
    client_id, _ = await world.app(public=True)
    body = await start(world, client_id)
    assert set(body) == {"device_code", "user_code", "verification_uri", "verification_uri_complete",
                         "expires_in", "interval"}
    assert body["device_code"].startswith("i0_dc_")
    assert re.fullmatch(r"[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}", body["user_code"])
    assert body["verification_uri"] == world.issuer + "/device"
    assert body["verification_uri_complete"] == f"{world.issuer}/device?user_code={body['user_code']}"
    assert body["expires_in"] == 900 and body["interval"] == 5
    # Only hashes are stored.
    rows = await world.store.run(lambda s: s.db.execute_sql(
        'SELECT device_code_hash, user_code_hash FROM "device_authorization"').fetchall())
    assert rows == [(sha256_hex(body["device_code"]), sha256_hex(body["user_code"].replace("-", "")))]
    async with world.http.get(world.base + "/.well-known/oauth-authorization-server") as r:
        meta = await r.json()
    assert meta["device_authorization_endpoint"] == world.issuer + "/v1/oauth/device_authorization"
    assert DEVICE_GRANT in meta["grant_types_supported"]


async def test_client_rules_at_the_device_endpoint(world):
    conf_id, secret = await world.app(name="Confidential")
    resp, body = await world.post("/v1/oauth/device_authorization", {"client_id": conf_id})
    assert (resp.status, body["error"]) == (400, "invalid_client")  # a confidential client must authenticate
    resp, body = await world.post("/v1/oauth/device_authorization", {"client_id": conf_id, "client_secret": "wrong"})
    assert body["error"] == "invalid_client"
    assert (await start(world, conf_id, secret))["user_code"]
    resp, body = await world.post("/v1/oauth/device_authorization", {"client_id": "i0_ci_nobody"})
    assert body["error"] == "invalid_client"
    pub_id, _ = await world.app(public=True, name="Public")
    resp, body = await world.post("/v1/oauth/device_authorization", {"client_id": pub_id, "scope": "admin"})
    assert (resp.status, body["error"]) == (400, "invalid_scope")
    resp, body = await world.post("/v1/oauth/device_authorization?device_code=x", {"client_id": pub_id})
    assert body["error"] == "invalid_request"


async def test_pending_slow_down_approval_tokens_and_single_use(world):
    browser = await world.user("tv@example.com")
    client_id, _ = await world.app(public=True, name="Living Room TV")
    body = await start(world, client_id)
    code = body["device_code"]

    resp, err = await poll(world, client_id, code)
    assert (resp.status, err["error"]) == (400, "authorization_pending")
    resp, err = await poll(world, client_id, code)  # at once again: faster than the interval
    assert (resp.status, err["error"]) == (400, "slow_down")
    interval = await world.store.run(lambda s: s.db.execute_sql(
        'SELECT interval FROM "device_authorization"').fetchone()[0])
    assert interval == 10  # RFC 8628 §3.5: +5 s
    await age_last_poll(world, code, 9)  # 9 s < the new 10 s interval
    assert (await poll(world, client_id, code))[1]["error"] == "slow_down"
    await age_last_poll(world, code, 60)
    assert (await poll(world, client_id, code))[1]["error"] == "authorization_pending"

    # The user types the code in lower case without its dash, and approves on the consent page.
    resp, page = await enter_code(browser, body["user_code"].replace("-", "").lower())
    assert resp.status == 200, page
    assert "Living Room TV" in page and body["user_code"] in page and "Sandbox" in page
    resp, done = await decide(browser, page)
    assert resp.status == 200 and "is connected" in done

    await age_last_poll(world, code, 60)
    resp, token = await poll(world, client_id, code)
    assert resp.status == 200, token
    assert token["access_token"].startswith("i0_at_") and token["refresh_token"].startswith("i0_rt_")
    assert token["token_type"] == "Bearer" and token["expires_in"] == 3600
    r, me = await world.me(token["access_token"])
    assert r.status == 200 and me["client_id"] == client_id
    # The device code gives tokens once; trying again is invalid_grant and revokes what it gave.
    resp, err = await poll(world, client_id, code)
    assert (resp.status, err["error"]) == (400, "invalid_grant")
    assert (await world.me(token["access_token"]))[0].status == 401
    # The same user code cannot be approved twice.
    resp, page = await enter_code(browser, body["user_code"])
    assert resp.status == 400 and "That code is not valid" in page


async def test_access_denied_expired_and_invalid(world):
    browser = await world.user("cli@example.com")
    client_id, _ = await world.app(public=True, name="Acme CLI")
    other_id, _ = await world.app(public=True, name="Other")
    denied = await start(world, client_id)
    resp, page = await enter_code(browser, denied["user_code"])
    resp, done = await decide(browser, page, "deny")
    assert resp.status == 200 and "You denied" in done
    resp, err = await poll(world, client_id, denied["device_code"])
    assert (resp.status, err["error"]) == (400, "access_denied")

    expired = await start(world, client_id)
    await world.store.run(lambda s: s.db.execute_sql(
        'UPDATE "device_authorization" SET expires_at = expires_at - 901 WHERE device_code_hash = ?',
        (sha256_hex(expired["device_code"]),)))
    resp, err = await poll(world, client_id, expired["device_code"])
    assert (resp.status, err["error"]) == (400, "expired_token")
    resp, page = await enter_code(browser, expired["user_code"])  # and the user can no longer approve it
    assert resp.status == 400 and "That code is not valid" in page

    live = await start(world, client_id)
    resp, err = await poll(world, client_id, "i0_dc_no-such-code")
    assert (resp.status, err["error"]) == (400, "invalid_grant")
    resp, err = await poll(world, other_id, live["device_code"])  # another client's device code
    assert (resp.status, err["error"]) == (400, "invalid_grant")
    resp, err = await world.post("/v1/oauth/token", {"grant_type": DEVICE_GRANT, "client_id": client_id})
    assert (resp.status, err["error"]) == (400, "invalid_request")


async def test_device_page_needs_sign_in_and_comes_back(world):
    client_id, _ = await world.app(public=True, name="Acme CLI")
    body = await start(world, client_id)
    await world.user("later@example.com", sandbox=True)
    anon = world.browser()
    resp, page = await anon.get(f"/device?user_code={body['user_code']}")
    assert "Sign in to connect your device" in page
    resp, page = await anon.submit(f"/login?next=/device?user_code={body['user_code']}", "/login",
                                   {"email": "later@example.com", "password": "correct horse battery",
                                    "next": f"/device?user_code={body['user_code']}"})
    assert resp.status == 200 and str(resp.url).endswith(f"/device?user_code={body['user_code']}")
    assert f'value="{body["user_code"]}"' in page  # filled in from verification_uri_complete


async def test_user_code_guessing_is_throttled(world):
    browser = await world.user("victim@example.com")
    client_id, _ = await world.app(public=True)
    body = await start(world, client_id)
    for guess in ("BCDF-GHJK", "BBBB-BBBB", "not a code", "ZZZZ-ZZZZ", "XXXX-XXXX"):
        resp, page = await enter_code(browser, guess)
        assert resp.status == 400 and "That code is not valid" in page
    # Past five wrong codes in this session, even the right one is not looked up.
    resp, page = await enter_code(browser, body["user_code"])
    assert resp.status == 429 and "Too many wrong codes" in page
    # Another session from the same address still gets its tries (until the per-address cap).
    other = await world.user("other@example.com")
    resp, page = await enter_code(other, body["user_code"])
    assert resp.status == 200 and "Approve" in page
