"""The consent page tells the user who the app is (issue 16 §4): an app registered dynamically
(RFC 7591) with a logo, homepage, privacy policy and terms is shown with its logo (loaded by the
browser from the https URL the app registered, never fetched by infer0), its links, and an
"Unverified" mark until an operator verifies it; the sign-in page says "Sign in to continue to
<App>". Screenshots at desktop and phone widths land in tests/artifacts/.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import secrets
from urllib.parse import urlencode

import aiohttp
import pytest
from playwright.async_api import Route, expect

from tests.support.processes import ServerProcess, run_cli_json

pytestmark = pytest.mark.e2e

EMAIL = "ada@example.com"
PASSWORD = "correct horse battery staple"
LOGO = "https://logo.acme.example/notes.png"
# A 1x1 PNG: what the app's own server would answer for its logo.
PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==")


async def test_consent_shows_a_dynamic_apps_logo_and_that_it_is_unverified(data_dir, infer0_command,
                                                                          browser_session, artifacts):
    server = await asyncio.to_thread(ServerProcess, data_dir, command=infer0_command)
    try:
        run_cli_json("users", "create", "--email", EMAIL, "--password-stdin", data_dir=data_dir, input=PASSWORD)
        run_cli_json("providers", "add", "--user", EMAIL, "--kind", "sandbox", data_dir=data_dir)
        async with aiohttp.ClientSession() as http:
            async with http.post(server.url + "/v1/oauth/register", json={
                    "client_name": "Acme Notes", "redirect_uris": ["com.acme.notes:/oauth2redirect"],
                    "token_endpoint_auth_method": "none", "logo_uri": LOGO,
                    "client_uri": "https://acme.example", "policy_uri": "https://acme.example/privacy",
                    "tos_uri": "https://acme.example/terms"}) as resp:
                assert resp.status == 201
                client_id = (await resp.json())["client_id"]
        page = await browser_session.new_page("user")
        fetched: list[str] = []

        async def serve_logo(route: Route) -> None:  # the app's server, as the user's browser reaches it
            fetched.append(route.request.url)
            await route.fulfill(status=200, content_type="image/png", body=PNG)

        await page.route("https://logo.acme.example/**", serve_logo)
        verifier = secrets.token_urlsafe(48)
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        await page.goto(server.url + "/oauth/authorize?" + urlencode({
            "client_id": client_id, "redirect_uri": "com.acme.notes:/oauth2redirect", "response_type": "code",
            "code_challenge": challenge, "code_challenge_method": "S256", "state": "s"}))
        await expect(page.locator("main")).to_contain_text("Sign in to continue to Acme Notes")
        await page.fill("#email", EMAIL)
        await page.fill("#password", PASSWORD)
        async with page.expect_navigation(wait_until="load"):
            await page.click("main button[type=submit]")
        consent = page.locator("section.consent")
        await expect(consent).to_contain_text("Acme Notes")
        await expect(consent.locator("img.app-logo")).to_have_attribute("src", LOGO)
        await expect(consent.locator(".badge.unverified")).to_be_visible()
        for link in ("https://acme.example/privacy", "https://acme.example/terms"):
            await expect(consent.locator(f'a[href="{link}"]')).to_have_count(1)
        await browser_session.snap(page, "consent-dynamic-app-with-logo")
        assert fetched == [LOGO]  # the browser loaded it; the server never did (its log has no such call)
    finally:
        code = await asyncio.to_thread(server.stop)
        (artifacts / "server.log").write_text(server.logs())
    assert code == 0 and "logo.acme.example" not in server.logs()
    browser_session.assert_clean()
