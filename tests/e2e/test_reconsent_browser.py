"""Approving an app a second time with another connection, touching nothing else, gives that
connection's default model, never the old one's (issue 14 §2), in Chromium against `infer0 serve`."""

from __future__ import annotations

import asyncio
from urllib.parse import urlsplit

import pytest
from playwright.async_api import Page, expect

from tests.e2e.client_app import ClientApp
from tests.e2e.test_browser_journey import PASSWORD, navigation, sign_up
from tests.fakes import run_fake
from tests.support.processes import ServerProcess, free_port, run_cli_json

pytestmark = pytest.mark.e2e
USER_EMAIL = "grace@example.com"


async def add_connection(page: Page, base: str, kind: str, name: str, fake=None) -> None:
    await page.goto(base + "/providers")
    await page.select_option("#kind", kind)
    await page.fill("#name", name)
    if fake is not None:
        await page.fill("#api_key", fake.key)
        await page.fill("#base_url", fake.base_url)
        await page.fill("#model", "gpt-4o-mini")
    async with navigation(page):
        await page.click("#add button[type=submit]")
    card = page.locator("li.conn", has=page.locator("h2", has_text=name))
    async with navigation(page):
        await card.locator("button", has_text="Test connection").click()


async def consent(page: Page, client: ClientApp, connection: str, *, sign_in: bool) -> None:
    async with navigation(page):
        await page.goto(client.url + "/connect")
    if sign_in:
        await page.fill("#email", USER_EMAIL)
        await page.fill("#password", PASSWORD)
        async with navigation(page):
            await page.click("main button[type=submit]")
    await expect(page.locator("h1")).to_contain_text("Acme Notes")
    await page.locator("label.choice", has_text=connection).locator("input[type=radio]").check()
    async with navigation(page):
        await page.click("button[name=decision][value=approve]")
    await expect(page.locator("#connected")).to_be_visible()


async def test_reconsent_with_another_connection_uses_its_default_model(data_dir, infer0_command, browser_session,
                                                                       artifacts):
    async with run_fake("openai") as fake:
        allow = f"127.0.0.1:{urlsplit(fake.root_url).port}"  # the fake provider's port, as an operator allows it
        server = await asyncio.to_thread(ServerProcess, data_dir, "--upstream-allow", allow, command=infer0_command)
        client = ClientApp(infer0_url=server.url)
        client.prompt = "consent"  # the second authorization must show the page again (issue 16 skips it)
        await client.start(free_port())
        try:
            run_cli_json("users", "create", "--email", "dev@acme.test", data_dir=data_dir)
            creds = run_cli_json("apps", "create", "--owner", "dev@acme.test", "--name", "Acme Notes",
                                 "--redirect-uri", client.redirect_uri, data_dir=data_dir)
            client.client_id, client.client_secret = creds["client_id"], creds["client_secret"]
            page = await browser_session.new_page("end user")
            await sign_up(page, server.url, USER_EMAIL)
            await add_connection(page, server.url, "sandbox", "Sandbox")
            await add_connection(page, server.url, "openai-compatible", "Local fake", fake)

            await consent(page, client, "Sandbox", sign_in=False)  # no model chosen
            async with navigation(page):
                await page.click("#ask-plain")
            assert client.calls[-1].model == "sandbox-echo-1"

            await consent(page, client, "Local fake", sign_in=False)  # the second time: only the connection
            await browser_session.snap(page, "reconsent-connected")
            async with navigation(page):
                await page.click("#ask-plain")
            assert client.calls[-1].ok, client.calls[-1]
            assert [r.json["model"] for r in fake.chat_requests()] == ["gpt-4o-mini"]
        finally:
            await client.close()
            code = await asyncio.to_thread(server.stop)
            (artifacts / "server.log").write_text(server.logs())
    assert code == 0, server.logs()
    browser_session.assert_clean()
