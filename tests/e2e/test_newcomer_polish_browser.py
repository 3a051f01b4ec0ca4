"""Issue 17 §3 in Chromium against `infer0 serve`: the provider form shows only the fields of the
picked kind (with JavaScript at once, without it through "Show its fields"), starts on the
sandbox, refuses an OpenAI-compatible connection without a model; a sandbox connection is
labelled once; GET /logout offers a sign-out button. Screenshots land in tests/artifacts/."""

from __future__ import annotations

import asyncio

import pytest
from playwright.async_api import Page, expect

from tests.e2e.browser import DESKTOP
from tests.e2e.test_browser_journey import navigation, sign_up
from tests.support.processes import ServerProcess

pytestmark = pytest.mark.e2e
SANDBOX = "Sandbox (free, deterministic)"


async def fields_shown(page: Page) -> dict[str, bool]:
    return {name: await page.locator(f"#{name}").is_visible() for name in ("api_key", "base_url", "model",
                                                                          "api_version")}


async def test_the_provider_form_follows_the_picked_kind_and_sign_out_has_a_page(data_dir, infer0_command,
                                                                                browser_session, artifacts):
    server = await asyncio.to_thread(ServerProcess, data_dir, command=infer0_command)
    try:
        browser_session.allow_status(r"/providers$", 400)  # the refused save, on purpose
        page = await browser_session.new_page("user")
        await sign_up(page, server.url, "newcomer@example.com")
        await page.goto(server.url + "/providers")
        await expect(page.locator("#kind")).to_have_value("sandbox")
        await expect(page.locator("[data-pick-button]")).to_be_hidden()  # JavaScript switches kinds itself
        assert await fields_shown(page) == {"api_key": False, "base_url": False, "model": True, "api_version": False}
        await browser_session.snap(page, "providers-form-sandbox")

        await page.select_option("#kind", "azure-openai")
        assert await fields_shown(page) == {"api_key": True, "base_url": True, "model": True, "api_version": True}
        await page.select_option("#kind", "openai-compatible")
        assert await fields_shown(page) == {"api_key": True, "base_url": True, "model": True, "api_version": False}
        await expect(page.locator("#add-form [data-model-note]")).to_have_text("(required)")
        await page.fill("#base_url", "https://llm.example.com/v1")
        async with navigation(page):
            await page.click("#add button[type=submit]")
        await expect(page.locator("#add .alert.error")).to_contain_text("needs a model name")
        await expect(page.locator("#kind")).to_have_value("openai-compatible")  # the form stays on its kind
        assert (await fields_shown(page))["base_url"]
        await browser_session.snap(page, "providers-form-model-required")

        await page.select_option("#kind", "sandbox")
        async with navigation(page):
            await page.click("#add button[type=submit]")
        card = page.locator("li.conn").first
        await expect(card.locator("h2")).to_contain_text(SANDBOX)
        assert (await card.inner_text()).count(SANDBOX) == 1
        await browser_session.snap(page, "providers-sandbox-saved")

        await page.goto(server.url + "/")
        await expect(page.locator("section", has_text="Apps you have connected")).to_contain_text("No app connected yet")

        await page.goto(server.url + "/logout")
        await expect(page.locator("h1")).to_have_text("Sign out?")
        await browser_session.snap(page, "logout-page")
        async with navigation(page):
            await page.click("main button[type=submit]")
        assert page.url.endswith("/login")
        await expect(page.locator(".topbar .who")).to_have_count(0)
    finally:
        code = await asyncio.to_thread(server.stop)
        (artifacts / "server.log").write_text(server.logs())
    assert code == 0
    browser_session.assert_clean()


async def test_without_javascript_show_its_fields_switches_the_kind(data_dir, infer0_command, browser_session,
                                                                    artifacts):
    server = await asyncio.to_thread(ServerProcess, data_dir, command=infer0_command)
    try:
        context = await browser_session.browser.new_context(viewport=DESKTOP, java_script_enabled=False)
        browser_session.contexts.append(context)
        page = await context.new_page()
        await sign_up(page, server.url, "nojs@example.com")
        await page.goto(server.url + "/providers")
        pick = page.locator("[data-pick-button]")
        await expect(pick).to_be_visible()
        assert await fields_shown(page) == {"api_key": False, "base_url": False, "model": True, "api_version": False}
        await page.select_option("#kind", "azure-openai")
        async with navigation(page):
            await pick.click()
        assert "kind=azure-openai" in page.url
        assert await fields_shown(page) == {"api_key": True, "base_url": True, "model": True, "api_version": True}
        await page.fill("#api_key", "azure-key-0123456789abcdef")
        await page.fill("#base_url", "https://myres.openai.azure.com")
        await page.fill("#model", "gpt4o-deploy")
        async with navigation(page):
            await page.click("#add button[type=submit]")
        card = page.locator("li.conn").first
        await expect(card.locator("h2")).to_contain_text("Azure OpenAI")
        await expect(card).to_contain_text("gpt4o-deploy")
        await browser_session.snap(page, "providers-azure-without-javascript")
    finally:
        code = await asyncio.to_thread(server.stop)
        (artifacts / "server.log").write_text(server.logs())
    assert code == 0
