"""The device authorization grant (RFC 8628) end to end: a CLI-like client starts a device
authorization and polls the token endpoint, while a person in Chromium opens the verification
URI, signs in, mistypes the code once, types it, reads the consent page (an unverified app,
shown with its initials) and approves; the client then gets tokens and calls
/v1/chat/completions with the openai SDK. Screenshots land in tests/artifacts/.
"""

from __future__ import annotations

import asyncio
import contextlib

import aiohttp
import openai
import pytest
from playwright.async_api import Page, expect

from tests.support.processes import ServerProcess, run_cli_json

pytestmark = pytest.mark.e2e

EMAIL = "grace@example.com"
PASSWORD = "correct horse battery staple"
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"


@contextlib.asynccontextmanager
async def navigation(page: Page):
    async with page.expect_navigation(wait_until="load"):
        yield


class DeviceClient:
    """What a CLI does (RFC 8628 §3.1-3.5): start, show the code, poll; records every answer."""

    def __init__(self, base: str, client_id: str):
        self.base, self.client_id = base, client_id
        self.http = aiohttp.ClientSession()
        self.answers: list[str] = []

    async def start(self) -> dict:
        async with self.http.post(self.base + "/v1/oauth/device_authorization",
                                  data={"client_id": self.client_id}) as resp:
            assert resp.status == 200
            return await resp.json()

    async def poll_once(self, device_code: str) -> dict:
        async with self.http.post(self.base + "/v1/oauth/token", data={
                "grant_type": DEVICE_GRANT, "device_code": device_code, "client_id": self.client_id}) as resp:
            body = await resp.json()
            self.answers.append(body.get("error", "tokens"))
            return body

    async def poll(self, device_code: str, interval: int) -> dict:
        """Until tokens or a final error, waiting `interval` seconds (+5 after each slow_down)."""
        while True:
            body = await self.poll_once(device_code)
            if body.get("error") == "slow_down":
                interval += 5
            elif body.get("error") != "authorization_pending":
                return body
            await asyncio.sleep(interval)


async def test_device_flow_in_the_browser(data_dir, infer0_command, browser_session, artifacts):
    server = await asyncio.to_thread(ServerProcess, data_dir, command=infer0_command)
    try:
        for email in (EMAIL, "maker@example.com"):
            run_cli_json("users", "create", "--email", email, "--password-stdin", data_dir=data_dir, input=PASSWORD)
        run_cli_json("providers", "add", "--user", EMAIL, "--kind", "sandbox", data_dir=data_dir)
        client_id = run_cli_json("apps", "create", "--owner", "maker@example.com", "--name", "Acme Terminal",
                                 "--public", "--redirect-uri", "http://127.0.0.1/cb", data_dir=data_dir)["client_id"]
        client = DeviceClient(server.url, client_id)
        try:
            await run_flow(server.url, client, browser_session)
        finally:
            await client.http.close()
    finally:
        code = await asyncio.to_thread(server.stop)
        (artifacts / "server.log").write_text(server.logs())
    assert code == 0 and "Traceback" not in server.logs(), server.logs()
    browser_session.assert_clean()


async def run_flow(base: str, client: DeviceClient, session) -> None:
    shot = session.snap
    start = await client.start()
    # The CLI polls at once, and again straight away: pending, then slow_down.
    assert (await client.poll_once(start["device_code"]))["error"] == "authorization_pending"
    assert (await client.poll_once(start["device_code"]))["error"] == "slow_down"
    polling = asyncio.create_task(client.poll(start["device_code"], start["interval"] + 5))

    page = await session.new_page("user")
    await page.goto(start["verification_uri_complete"])
    await expect(page.locator("main")).to_contain_text("Sign in to connect your device")
    await shot(page, "device-sign-in")
    await page.fill("#email", EMAIL)
    await page.fill("#password", PASSWORD)
    async with navigation(page):
        await page.click("main button[type=submit]")
    await expect(page.locator("#user_code")).to_have_value(start["user_code"])

    session.allow_status(r"/device$", 400)  # the mistyped code below
    await page.fill("#user_code", "BCDF-BCDF" if start["user_code"] != "BCDF-BCDF" else "ZZZZ-ZZZZ")
    async with navigation(page):
        await page.click("main button[type=submit]")
    await expect(page.locator(".alert.error")).to_contain_text("That code is not valid")
    await shot(page, "device-wrong-code")

    await page.fill("#user_code", start["user_code"].lower().replace("-", ""))
    async with navigation(page):
        await page.click("main button[type=submit]")
    consent = page.locator("section.consent")
    await expect(consent).to_contain_text("Acme Terminal")
    await expect(consent.locator(".badge.unverified")).to_be_visible()
    await expect(consent.locator(".app-initials")).to_have_text("AT")
    await expect(consent).to_contain_text("maker@example.com")
    await expect(consent).to_contain_text(start["user_code"])
    await shot(page, "device-consent-unverified-app")
    async with navigation(page):
        await page.click("button[value=approve]")
    await expect(page.locator("h1")).to_have_text("Acme Terminal is connected")
    await shot(page, "device-connected")

    tokens = await asyncio.wait_for(polling, timeout=120)
    assert tokens["access_token"].startswith("i0_at_") and tokens["refresh_token"].startswith("i0_rt_")
    assert client.answers[:2] == ["authorization_pending", "slow_down"] and client.answers[-1] == "tokens"
    sdk = openai.AsyncOpenAI(base_url=base + "/v1", api_key=tokens["access_token"], max_retries=0)
    try:
        reply = await sdk.chat.completions.create(model="any", messages=[{"role": "user", "content": "hello"}])
    finally:
        await sdk.close()
    assert reply.choices[0].message.content
