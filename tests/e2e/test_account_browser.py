"""Accounts a person can trust (issue 17 §2) in Chromium against `infer0 serve`: the Account
page (password change signs the other browser out, the session list), two-factor enrolment
from the page's QR key, sign-in with a TOTP code and with a recovery code, the data export as a
download without keys, and deletion, after which the sealed key is in neither the database
file nor its WAL. Screenshots land in tests/artifacts/."""

from __future__ import annotations

import asyncio
import json
import sqlite3

import pytest
from playwright.async_api import Page, expect

from tests.e2e.test_browser_journey import PASSWORD, navigation, sign_up
from tests.support.account import totp_now
from tests.support.processes import ServerProcess, run_cli_json

pytestmark = pytest.mark.e2e
EMAIL = "grace@example.com"
KEY = "sk-grace-e2e-secret-key-0123456789"
NEW_PASSWORD = "an even better passphrase"


async def sign_in(page: Page, base: str, password: str) -> None:
    await page.goto(base + "/login")
    await page.fill("#email", EMAIL)
    await page.fill("#password", password)
    async with navigation(page):
        await page.click("main button[type=submit]")


async def sign_out(page: Page) -> None:
    async with navigation(page):
        await page.click(".signout button")


def sealed_key(db) -> list[bytes]:
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        row = con.execute("SELECT key_ciphertext, wrapped_dek FROM provider_connection WHERE name = 'Grace key'").fetchone()
    finally:
        con.close()
    return [bytes(row[0]), bytes(row[1])]


def file_bytes(db) -> bytes:
    wal = db.with_name(db.name + "-wal")
    return db.read_bytes() + (wal.read_bytes() if wal.exists() else b"")


async def test_account_two_factor_export_and_deletion(data_dir, infer0_command, browser_session, artifacts):
    server = await asyncio.to_thread(ServerProcess, data_dir, command=infer0_command)
    shot = browser_session.snap
    try:
        base = server.url
        page = await browser_session.new_page("grace")
        await sign_up(page, base, EMAIL)
        run_cli_json("providers", "add", "--user", EMAIL, "--kind", "openai", "--name", "Grace key",
                     "--api-key-stdin", data_dir=data_dir, input=KEY + "\n")
        other = await browser_session.new_page("grace's phone")
        await sign_in(other, base, PASSWORD)

        # ---- the Account page: two sessions, change the password, the phone is signed out ----
        async with navigation(page):
            await page.click(".topbar a.who")
        await expect(page.locator("h1")).to_have_text("Your account")
        await expect(page.locator("tr.session")).to_have_count(2)
        await expect(page.locator("tr.session").first).to_contain_text("this browser")
        await expect(page.locator("tr.session").first).to_contain_text("127.0.0.1")
        await shot(page, "account")
        await page.fill("#current_password", PASSWORD)
        await page.fill("#new_password", NEW_PASSWORD)
        await page.fill("#new_password_confirm", NEW_PASSWORD)
        async with navigation(page):
            await page.click("#password button[type=submit]")
        await expect(page.locator("#notice")).to_contain_text("Password changed")
        await expect(page.locator("tr.session")).to_have_count(1)
        await other.reload()
        await expect(other.locator("h1")).to_have_text("Sign in")

        # ---- two-factor enrolment: the QR code is an inline SVG, the key types in too ----
        async with navigation(page):
            await page.click("#setup-2fa")
        await expect(page.locator("#qr svg")).to_be_visible()
        await shot(page, "two-factor-setup")
        secret = (await page.locator("#totp-secret").inner_text()).replace(" ", "")
        await page.fill("#code", totp_now(secret))
        async with navigation(page):
            await page.click("main button[type=submit]")
        codes = [c.strip() for c in await page.locator("#recovery-codes code").all_inner_texts()]
        assert len(codes) == 10
        await shot(page, "recovery-codes")
        async with navigation(page):
            await page.click("#codes-saved")
        await expect(page.locator("#two-factor")).to_contain_text("10 recovery codes left")

        # ---- sign in with a code from the app ----
        await sign_out(page)
        await sign_in(page, base, NEW_PASSWORD)
        await expect(page.locator("h1")).to_have_text("Enter your code")
        await shot(page, "sign-in-code")
        await page.fill("#code", "000000")
        browser_session.allow_status(r"/login/code$", 400)
        async with navigation(page):
            await page.click("main button[type=submit]")
        await expect(page.locator(".alert.error")).to_contain_text("That code did not work")
        await page.fill("#code", totp_now(secret, +1))
        async with navigation(page):
            await page.click("main button[type=submit]")
        await expect(page.locator("h1")).to_have_text("Welcome")

        # ---- and with a recovery code, once ----
        await sign_out(page)
        await sign_in(page, base, NEW_PASSWORD)
        await page.fill("#code", codes[0])
        async with navigation(page):
            await page.click("main button[type=submit]")
        await expect(page.locator("#notice")).to_contain_text("recovery code")
        await expect(page.locator("#two-factor")).to_contain_text("9 recovery codes left")

        # ---- export my data: one JSON download, never the key ----
        async with page.expect_download() as info:
            await page.click("#export")
        download = await info.value
        path = artifacts / "export.json"
        await download.save_as(path)
        raw = path.read_text()
        doc = json.loads(raw)
        assert doc["account"]["email"] == EMAIL and doc["account"]["two_factor"] is True
        assert [c["name"] for c in doc["connections"]] == ["Grace key"] and doc["connections"][0]["has_key"]
        assert KEY not in raw and KEY[-4:] not in raw

        # ---- delete my account: the key's bytes leave the database file and the WAL ----
        db = data_dir / "infer0.sqlite3"
        sealed = sealed_key(db)
        assert all(part in file_bytes(db) for part in sealed)
        async with navigation(page):
            await page.click("#delete-account")
        await expect(page.locator("h1")).to_have_text("Delete my account")
        await shot(page, "delete-account")
        await page.fill("#password", NEW_PASSWORD)
        async with navigation(page):
            await page.click("button.danger")
        await expect(page.locator("#deleted")).to_be_visible()
        await expect(page.locator(".topbar .who")).to_have_count(0)
        await shot(page, "account-deleted")
        after = file_bytes(db)
        assert not any(part in after for part in sealed)
        assert EMAIL.encode() not in after

        browser_session.allow_status(r"/login$", 400)
        await sign_in(page, base, NEW_PASSWORD)
        await expect(page.locator(".alert.error")).to_contain_text("did not work")
    finally:
        code = await asyncio.to_thread(server.stop)
        (artifacts / "server.log").write_text(server.logs())
    assert code == 0, server.logs()
    assert "Traceback" not in server.logs()
    browser_session.assert_clean()
