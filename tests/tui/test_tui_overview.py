"""Overview: counts, traffic, sparkline, database size and KEK — from the real database, refreshed live."""

from __future__ import annotations

import re
import time

from textual.widgets import Sparkline

from admin_tui.screens import OverviewScreen
from admin_tui.widgets import StatCard
from infer0app.services import accounts
from infer0app.services.usage_log import UsageRecord, insert_batch
from infer0app.vault.keyring import Vault
from tests.tui.conftest import call, opened_store, screen_text, settle


def card(app, card_id: str) -> StatCard:
    return app.screen.query_one(f"#{card_id}", StatCard)


async def test_overview_shows_the_appliance_at_a_glance(seeded, admin_app, data_dir):
    app = admin_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, OverviewScreen)
        assert card(app, "card-users").value == "3"
        assert card(app, "card-apps").value == "2"
        assert card(app, "card-grants").value == "3"
        assert card(app, "card-secrets").value == "2"  # alice's and bob's keys; the sandbox has none
        assert (card(app, "card-hour").value, card(app, "card-hour").detail) == ("30", "6 errors")
        assert (card(app, "card-day").value, card(app, "card-day").detail) == ("42", "6 errors")
        assert card(app, "card-db").value.endswith("KB")
        assert card(app, "card-servers").value == "0"
        spark = app.screen.query_one("#rpm", Sparkline)
        assert len(spark.data) == 60 and sum(spark.data) == 30 and max(spark.data) == 1
        primary = Vault.load(data_dir / "keyring.json").primary
        text = screen_text(app)
        # its age, in the card's format (not "0s": a loaded machine may take seconds to get here)
        assert f"Current KEK {primary}" in text and re.search(r", \d+(s|m|h\d\dm|d\d+h) old", text)


async def test_overview_refreshes_live(seeded, admin_app, monkeypatch):
    monkeypatch.setattr(OverviewScreen, "REFRESH_EVERY", 0.2)
    app = admin_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert card(app, "card-users").value == "3"
        # the server (or the CLI) writes while the TUI is open; nothing is pressed
        call(app, accounts.create_user, "erin@example.com", None, actor="cli:test")
        call(app, insert_batch, [UsageRecord(1, None, None, "openai", "m", 500, 1.0, False, created_at=time.time())
                             for _ in range(5)])
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and card(app, "card-users").value != "4":
            await pilot.pause(0.1)
        assert card(app, "card-users").value == "4"
        await settle(pilot)
        assert (card(app, "card-hour").value, card(app, "card-hour").detail) == ("35", "11 errors")
        assert app.screen.query_one("#rpm", Sparkline).data[-1] == 6  # this minute: the seeded call + 5 new


async def test_overview_counts_disabled_users_and_apps(seeded, admin_app, data_dir):
    from infer0app.services import apps
    with opened_store(data_dir) as (store, _):
        accounts.set_disabled(store, "bob@example.com", True, actor="cli:test")
        apps.set_disabled(store, seeded.apps["CLI Tool"].client_id, True, actor="cli:test")
    app = admin_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert card(app, "card-users").detail == "1 disabled"
        assert card(app, "card-apps").detail == "1 disabled"
        assert card(app, "card-grants").value == "1"  # bob's grant and the CLI Tool's no longer count
