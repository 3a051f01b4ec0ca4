"""The whole product the way people meet it, in Chromium, against `infer0 serve` (the built
binary when it is fresh, else the source; see conftest.py):

1. a developer signs up and registers an app at /dev/apps, copying its client id and secret;
2. an end user signs up and connects two providers, an OpenAI-compatible fake on loopback and
   the Sandbox, testing each (the server runs with `--upstream-allow 127.0.0.1:<fake's port>`,
   as an operator allows a local Ollama: loopback is refused otherwise);
3. a small client web app (client_app.py, on loopback) sends the user to /oauth/authorize; the
   user signs in, picks a provider connection and a model on the consent page and approves;
   the app exchanges the code and calls /v1/chat/completions with the openai SDK, plain and
   streaming;
4. the user sees the app with its usage and limits on /connections (set on the consent page),
   raises its rate limit, reads the Usage page (server-drawn SVG charts), switches the app to
   the Sandbox, then revokes it; the app's next call gets 401 and its refresh token is refused.

Every page is saved as a screenshot at desktop and phone widths under tests/artifacts/; any
console error, page error, failed request or unexpected HTTP error fails the test.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from urllib.parse import urlsplit

import aiohttp
import pytest
from playwright.async_api import Page, expect

from tests.e2e.client_app import ClientApp
from tests.fakes import run_fake
from tests.support.processes import ServerProcess, free_port

pytestmark = pytest.mark.e2e

DEV_EMAIL = "dev@acme.test"
USER_EMAIL = "ada@example.com"
PASSWORD = "correct horse battery staple"


@contextlib.asynccontextmanager
async def navigation(page: Page):
    """Wait for the navigation an action (form submit, link) starts, and for the page to load."""
    async with page.expect_navigation(wait_until="load"):
        yield


async def sign_up(page: Page, base: str, email: str) -> None:
    await page.goto(base + "/signup")
    await page.fill("#email", email)
    await page.fill("#password", PASSWORD)
    await page.fill("#password_confirm", PASSWORD)
    async with navigation(page):
        await page.click("main button[type=submit]")
    await expect(page.locator(".topbar .who")).to_have_text(email)


async def test_developer_user_and_client_app_journey(tmp_path, data_dir, infer0_command, browser_session, artifacts):
    shots = browser_session.snap
    async with run_fake("openai") as fake:
        allow = f"127.0.0.1:{urlsplit(fake.root_url).port}"  # this one port only, as an operator would
        server = await asyncio.to_thread(ServerProcess, data_dir, "--upstream-allow", allow,
                                         command=infer0_command)
        client = ClientApp(infer0_url=server.url)
        await client.start(free_port())
        try:
            await journey(server.url, fake, client, browser_session, shots)
        finally:
            await client.close()
            code = await asyncio.to_thread(server.stop)
            (artifacts / "server.log").write_text(server.logs())
            (artifacts / "server-command.txt").write_text(" ".join(infer0_command) + "\n")
    assert code == 0, server.logs()
    assert "Traceback" not in server.logs(), server.logs()
    browser_session.assert_clean()


async def journey(base: str, fake, client: ClientApp, session, shot) -> None:
    # ---- 1. A developer signs up and registers an app -------------------------------------
    dev = await session.new_page("developer")
    await dev.goto(base + "/signup")
    await shot(dev, "signup")
    await sign_up(dev, base, DEV_EMAIL)
    await shot(dev, "developer-dashboard")

    await dev.goto(base + "/dev/apps")
    await expect(dev.locator("h1")).to_have_text("Developer apps")
    await shot(dev, "dev-apps-empty")
    await dev.fill("#name", "Acme Notes")
    await dev.fill("#homepage_url", client.url)
    await dev.fill("#redirect_uris", client.redirect_uri)
    await expect(dev.locator("input[name=type][value=confidential]")).to_be_checked()
    async with navigation(dev):
        await dev.click("#register button[type=submit]")
    await expect(dev.locator("h1")).to_contain_text("Acme Notes is registered")
    await shot(dev, "dev-app-registered")
    client.client_id = (await dev.locator("dl.facts dd code").first.inner_text()).strip()
    client.client_secret = (await dev.locator("#client_secret").inner_text()).strip()
    assert client.client_id and client.client_secret.startswith("i0_cs_")
    await dev.reload(wait_until="load")  # post/redirect/get: a reload registers nothing, shows no secret
    await expect(dev.locator("h1")).to_have_text("Acme Notes")
    await expect(dev.locator("#client_secret")).to_have_count(0)

    await dev.goto(base + "/dev/apps")
    await expect(dev.locator("table")).to_contain_text(client.client_id)
    await shot(dev, "dev-apps-list")
    await dev.goto(f"{base}/dev/apps/{client.client_id}")
    await expect(dev.locator("main")).to_contain_text(client.redirect_uri)
    await shot(dev, "dev-app")
    await dev.goto(base + "/dev/docs")
    await shot(dev, "dev-docs")

    # ---- 2. An end user signs up and connects two providers -------------------------------
    user = await session.new_page("end user")
    await sign_up(user, base, USER_EMAIL)
    await user.goto(base + "/providers")
    await shot(user, "providers-empty")

    await user.select_option("#kind", "openai-compatible")
    await user.fill("#name", "Local fake")
    await user.fill("#api_key", fake.key)
    await user.fill("#base_url", fake.base_url)
    await user.fill("#model", "gpt-4o-mini")
    async with navigation(user):
        await user.click("#add button[type=submit]")
    fake_card = user.locator("li.conn", has=user.locator("h2", has_text="Local fake"))
    await expect(fake_card).to_be_visible()
    async with navigation(user):
        await fake_card.locator("button", has_text="Test connection").click()
    fake_card = user.locator("li.conn", has=user.locator("h2", has_text="Local fake"))
    await expect(fake_card.locator(".alert")).to_contain_text("Connected. Found 2 models.")
    await shot(user, "provider-fake-tested")

    await user.select_option("#kind", "sandbox")
    await user.fill("#name", "Sandbox")
    async with navigation(user):
        await user.click("#add button[type=submit]")
    sandbox_card = user.locator("li.conn", has=user.locator("h2", has_text="Sandbox"))
    async with navigation(user):
        await sandbox_card.locator("button", has_text="Test connection").click()
    sandbox_card = user.locator("li.conn", has=user.locator("h2", has_text="Sandbox"))
    await expect(sandbox_card.locator(".alert")).to_contain_text("Connected")
    await expect(user.locator("li.conn .ok", has_text="working")).to_have_count(2)
    await shot(user, "providers-both-tested")
    assert [r.path for r in fake.requests] == ["/v1/models"]
    assert fake.requests[0].headers["authorization"] == f"Bearer {fake.key}"

    async with navigation(user):
        await user.click(".topbar .signout button")
    await expect(user.locator(".topbar")).to_contain_text("Sign in")

    # ---- 3. The client app sends the user through OAuth ----------------------------------
    await user.goto(client.url)
    await shot(user, "client-app-home")
    async with navigation(user):
        await user.click("#connect")
    assert user.url.startswith(base + "/login?next="), user.url
    await shot(user, "oauth-sign-in")
    await user.fill("#email", USER_EMAIL)
    await user.fill("#password", PASSWORD)
    async with navigation(user):
        await user.click("main button[type=submit]")
    assert user.url.startswith(base + "/oauth/authorize?"), user.url
    await expect(user.locator("h1")).to_contain_text("Acme Notes")
    await expect(user.locator(".consent")).to_contain_text(DEV_EMAIL)
    await user.locator("label.choice", has_text="Local fake").locator("input[type=radio]").check()
    await user.select_option("#model", "gpt-4o")
    # limits for this app (issue 13): the user caps spend and rate before approving
    await expect(user.locator("#limits legend")).to_have_text("Limits for this app")
    await expect(user.locator("#limits .enforce")).to_contain_text("Local fake")
    await user.fill("#consent-spend_per_month_usd", "5")
    await user.fill("#consent-requests_per_minute", "30")
    await shot(user, "oauth-consent")
    async with navigation(user):
        await user.click("button[name=decision][value=approve]")
    assert user.url == client.url + "/", user.url
    await expect(user.locator("#connected")).to_be_visible()
    await shot(user, "client-app-connected")
    tokens = client.token_response
    assert tokens["token_type"].lower() == "bearer" and tokens["expires_in"] == 3600
    assert tokens["access_token"].startswith("i0_at_") and tokens["refresh_token"].startswith("i0_rt_")

    async with navigation(user):
        await user.click("#ask-plain")
    async with navigation(user):
        await user.click("#ask-stream")
    await expect(user.locator(".call[data-ok=true]")).to_have_count(2)
    await shot(user, "client-app-answers")
    plain, streamed = client.calls
    # the upstream answers with its dated model name, as OpenAI does
    assert plain.ok and plain.text == "Hello! You said: Hello from Acme (plain)" and plain.model.startswith("gpt-4o-")
    assert streamed.ok and streamed.text == "Hello! You said: Hello from Acme (stream)"
    assert streamed.chunks > 2 and streamed.model.startswith("gpt-4o-")
    upstream_calls = fake.chat_requests()
    assert [r.json["model"] for r in upstream_calls] == ["gpt-4o", "gpt-4o"]
    assert all(r.headers["authorization"] == f"Bearer {fake.key}" for r in upstream_calls)
    assert [bool(r.json.get("stream")) for r in upstream_calls] == [False, True]

    # ---- 4. The user sees the app and its usage, switches provider, revokes ------------------
    await user.goto(base + "/connections")
    grant = user.locator("li.conn", has=user.locator("h2", has_text="Acme Notes"))
    await expect(grant).to_contain_text("Local fake")
    await expect(grant).to_contain_text("gpt-4o")
    await reload_until(user, grant.locator(".requests"), "2")  # usage is written in batches
    assert int(await grant.locator(".tokens").inner_text()) > 0
    await expect(grant.locator(".cap-figures")).to_contain_text("requests per minute")
    await expect(grant.locator(".cap-figures")).to_contain_text("of $5.00")
    await shot(user, "connections")

    # limits: raise the rate cap on Connected apps
    await grant.locator("summary", has_text="Change limits").click()
    grant_id = (await grant.get_attribute("id")).removeprefix("grant-")
    await expect(user.locator(f"#grant-{grant_id}-requests_per_minute")).to_have_value("30")
    await user.fill(f"#grant-{grant_id}-requests_per_minute", "100")
    await shot(user, "connections-limits")
    async with navigation(user):
        await grant.get_by_role("button", name="Save limits").click()
    await expect(user.locator(".alert.ok")).to_contain_text("Limits saved")
    grant = user.locator("li.conn", has=user.locator("h2", has_text="Acme Notes"))
    await expect(grant.locator(".cap-figures")).to_contain_text("of 100")

    # the Usage page: figures by app and by model, charts drawn on the server (SVG, no script)
    async with navigation(user):
        await user.click(".topbar nav a:has-text('Usage')")
    await expect(user.locator("h1")).to_have_text("Usage")
    await expect(user.locator("#usage-requests")).to_contain_text("2")
    await expect(user.locator("#by-app")).to_contain_text("Acme Notes")
    await expect(user.locator("#by-model")).to_contain_text("gpt-4o")
    await expect(user.locator("figure.chart svg")).to_have_count(3)
    assert await user.locator("script").count() == 0
    await shot(user, "usage")
    await user.goto(base + "/connections")
    grant = user.locator("li.conn", has=user.locator("h2", has_text="Acme Notes"))

    await grant.locator("summary", has_text="Change provider or model").click()
    sandbox_id = await user.locator(f"#provider-{grant_id} option", has_text="Sandbox").get_attribute("value")
    await user.select_option(f"#provider-{grant_id}", sandbox_id)
    await user.select_option(f"#model-{grant_id}", "")
    await shot(user, "connections-change-provider")
    async with navigation(user):
        await grant.get_by_role("button", name="Save", exact=True).click()
    await expect(user.locator(".alert.ok")).to_contain_text("Saved")
    await user.goto(client.url)
    async with navigation(user):
        await user.click("#ask-plain")
    assert client.calls[-1].ok, client.calls[-1]
    assert client.calls[-1].text == 'Sandbox reply: you said "Hello from Acme (plain)".'
    assert len(fake.chat_requests()) == 2  # the fake was not called again

    await user.goto(base + "/connections")
    grant = user.locator("li.conn", has=user.locator("h2", has_text="Acme Notes"))
    async with navigation(user):
        await grant.locator("button", has_text="Revoke access").click()
    await expect(user.locator("h1")).to_have_text("Revoke Acme Notes's access?")  # one click does not act
    await shot(user, "connections-revoke-confirm")
    async with navigation(user):
        await user.locator("main button", has_text="Revoke access").click()
    await expect(user.locator(".alert.ok")).to_contain_text("Access revoked")
    await expect(user.locator("li.conn", has=user.locator("h2", has_text="Acme Notes"))).to_have_count(0)
    await shot(user, "connections-revoked")

    await user.goto(client.url)
    async with navigation(user):
        await user.click("#ask-stream")
    await expect(user.locator(".call[data-ok=false]")).to_have_count(1)
    await shot(user, "client-app-revoked")
    revoked = client.calls[-1]
    assert not revoked.ok and revoked.status == 401, revoked
    async with aiohttp.ClientSession() as http:
        async with http.post(base + "/v1/oauth/refresh", data={
                "grant_type": "refresh_token", "refresh_token": client.refresh_token,
                "client_id": client.client_id, "client_secret": client.client_secret}) as resp:
            assert resp.status == 400 and (await resp.json())["error"] == "invalid_grant"
    assert len(fake.chat_requests()) == 2


async def reload_until(page: Page, locator, text: str, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if (await locator.inner_text()).strip() == text:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"{locator} still shows {await locator.inner_text()!r}, not {text!r}")
        await asyncio.sleep(0.3)
        await page.reload(wait_until="load")

