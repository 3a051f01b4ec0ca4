"""Recent errors (issue 17): from the Overview's "N errors" (`e`), the failed calls with time,
app, user, provider, status and error code; never content. 80×24, keyboard only."""

from __future__ import annotations

import time

from admin_tui.screens import OverviewScreen, UsersScreen
from admin_tui.screens.errors import ErrorsScreen
from infer0app.services.datadir import open_data_dir
from infer0app.services.usage_log import UsageRecord, insert_batch
from tests.tui.conftest import call, goto, screen_text, settle

CANARY = "CANARY-prompt-text-never-shown"


async def test_errors_view_from_the_overview(seeded, admin_app):
    app = admin_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await goto(pilot, "1")
        assert "6 errors" in screen_text(app) and "e: errors" in screen_text(app)
        await pilot.press("e")
        await settle(pilot)
        assert isinstance(app.screen, ErrorsScreen)
        rows = list(app.screen.table.records.values())
        assert len(rows) == 6 and {(r.status, r.error_code) for r in rows} == {(502, "provider_error")}
        assert [r.created_at for r in rows] == sorted((r.created_at for r in rows), reverse=True)
        text = screen_text(app)
        assert "Failed API calls, last hour: 6" in text and "by status: 502: 6" in text
        for visible in ("Chat App", "alice@example.com", "openai", "502", "provider_error"):
            assert visible in text, visible
        assert "gpt-4o-mini" in text  # the detail line: provider kind and model
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, OverviewScreen)


async def test_errors_window_and_a_new_failure_appear(seeded, admin_app):
    app = admin_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await goto(pilot, "1")
        alice, bob = seeded.users["alice@example.com"], seeded.users["bob@example.com"]
        chat = seeded.apps["Chat App"]
        now = time.time()
        call(app, insert_batch, [
            UsageRecord(bob, chat.id, seeded.grants[("bob@example.com", "Chat App")], "anthropic", "claude", 429,
                        5.0, False, created_at=now - 1, error_code="rate_limit_exceeded"),
            UsageRecord(alice, chat.id, None, "openai", CANARY, 200, 5.0, False, created_at=now - 2),
            UsageRecord(bob, chat.id, None, "anthropic", "claude", 504, 5.0, True, created_at=now - 3 * 3600,
                        error_code="provider_timeout"),
        ])
        await pilot.press("e")
        await settle(pilot)
        first = app.screen.table.selected
        assert (first.status, first.error_code, first.user_email, first.provider_kind) == (
            429, "rate_limit_exceeded", "bob@example.com", "anthropic")
        assert len(app.screen.table.records) == 7 and CANARY not in screen_text(app)  # successes are not errors
        await pilot.press("t")  # the last 24 hours: the timeout three hours ago too
        await settle(pilot)
        assert len(app.screen.table.records) == 8 and "last 24 hours" in screen_text(app)
        await pilot.press(*["down"] * 7)  # the oldest
        await settle(pilot)
        assert "provider_timeout" in screen_text(app) and "(stream)" in screen_text(app)
        await pilot.press("2")  # a section key leaves the errors view for that section
        await settle(pilot)
        assert isinstance(app.screen, UsersScreen)
        await pilot.press("1")
        await settle(pilot)
        assert isinstance(app.screen, OverviewScreen)


async def test_no_errors_says_so(data_dir, admin_app):
    store, _vault = open_data_dir(data_dir)  # a fresh appliance: no calls yet
    store.close()
    app = admin_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await goto(pilot, "1")
        await pilot.press("e")
        await settle(pilot)
        assert isinstance(app.screen, ErrorsScreen) and "No failed calls in the last hour." in screen_text(app)
