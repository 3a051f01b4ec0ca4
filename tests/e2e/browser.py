"""Chromium for the end-to-end tests: Debian's /usr/bin/chromium driven by Playwright's async API.

Playwright's own browser download does not work on our machines, so we launch the system
Chromium (build/test.sh installs it) with the flags this sandbox needs: no sandbox as root,
no GPU, and no background traffic to Google that the closed network would refuse.

`BrowserSession` opens contexts that record every console error, uncaught page error,
failed request and HTTP error response; `assert_clean()` fails the test on any of them.
`snap()` saves a full-page screenshot of the current page at desktop and phone widths.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import AsyncIterator
from pathlib import Path

from playwright.async_api import Browser, BrowserContext, ConsoleMessage, Page, Request, Response, async_playwright

CHROMIUM = os.environ.get("INFER0_E2E_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage",
]
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


@contextlib.asynccontextmanager
async def launch_chromium() -> AsyncIterator[Browser]:
    assert Path(CHROMIUM).exists(), f"{CHROMIUM} is missing: build/test.sh installs Debian's chromium package"
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser
        finally:
            await browser.close()


class BrowserSession:
    def __init__(self, browser: Browser, artifacts: Path):
        self.browser = browser
        self.artifacts = artifacts
        self.problems: list[str] = []
        self.allowed: list[tuple[re.Pattern[str], int]] = []  # (url pattern, status) a test expects
        self.contexts: list[BrowserContext] = []
        self.shots: list[Path] = []
        self._count = 0

    async def new_page(self, label: str) -> Page:
        """A fresh context (its own cookies) at desktop size; `label` names it in problem reports."""
        context = await self.browser.new_context(viewport=DESKTOP, locale="en-US", timezone_id="UTC")
        context.set_default_timeout(15_000)
        self.contexts.append(context)

        def on_console(msg: ConsoleMessage) -> None:
            if msg.type == "error":
                where = msg.location.get("url", "") if msg.location else ""
                if self._expected_load_failure(msg.text, where):
                    return
                self.problems.append(f"[{label}] console error: {msg.text} ({where})")

        def on_page_error(error) -> None:
            self.problems.append(f"[{label}] uncaught page error: {error.error}")

        def on_failed(request: Request) -> None:
            self.problems.append(f"[{label}] request failed: {request.method} {request.url}: {request.failure}")

        def on_response(response: Response) -> None:
            if response.status >= 400 and not any(p.search(response.url) and s == response.status
                                                  for p, s in self.allowed):
                self.problems.append(f"[{label}] HTTP {response.status}: {response.request.method} {response.url}")

        context.on("console", on_console)
        context.on("weberror", on_page_error)
        context.on("requestfailed", on_failed)
        context.on("response", on_response)
        return await context.new_page()

    def _expected_load_failure(self, text: str, url: str) -> bool:
        """Chromium's console line for an error status the test declared with allow_status."""
        return text.startswith("Failed to load resource") and any(
            p.search(url) and f"status of {s} " in text for p, s in self.allowed)

    def allow_status(self, url_pattern: str, status: int) -> None:
        """Declare an HTTP error response the test expects (e.g. a deliberate 403)."""
        self.allowed.append((re.compile(url_pattern), status))

    async def snap(self, page: Page, name: str) -> None:
        """Full-page screenshots at desktop and phone widths: NN-name.desktop.png / .phone.png.

        At phone width the page must not scroll sideways (a layout that overflows a phone)."""
        await page.wait_for_load_state("load")
        self._count += 1
        stem = f"{self._count:02d}-{name}"
        desktop = self.artifacts / f"{stem}.desktop.png"
        await page.screenshot(path=str(desktop), full_page=True)
        size = page.viewport_size or DESKTOP
        await page.set_viewport_size(PHONE)
        try:
            phone = self.artifacts / f"{stem}.phone.png"
            await page.screenshot(path=str(phone), full_page=True)
            overflow = await page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            if overflow > 1:
                self.problems.append(f"page {name} ({page.url}) is {overflow}px wider than a "
                                     f"{PHONE['width']}px phone screen")
        finally:
            await page.set_viewport_size(size)
        self.shots += [desktop, phone]

    def assert_clean(self) -> None:
        problems, self.problems = self.problems, []
        assert not problems, "the browser saw problems:\n" + "\n".join(problems)

    async def close(self) -> None:
        for context in self.contexts:
            with contextlib.suppress(Exception):
                await context.close()
        self.assert_clean()
