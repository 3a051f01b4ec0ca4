"""Audit with a time range and export (issue 17): `t` steps through the usual windows, From/Until
take dates or times (UTC), `x` writes the matching events to a new JSON or CSV file. 80×24."""

from __future__ import annotations

import csv
import json
import os
import time

from textual.widgets import Input, Select

from admin_tui.screens import AuditScreen
from admin_tui.screens.audit_range import AuditExportScreen
from infer0app.store.models import AuditEvent
from tests.tui.conftest import call, goto, screen_text, settle


def actions(app) -> list[str]:
    return [e.action for e in app.screen.table.records.values()]


def add_old_event(app, hours: float) -> None:
    call(app, lambda s: AuditEvent.create(actor="cli:old", action="app.delete", target="i0_ci_old",
                                          created_at=time.time() - hours * 3600))


async def test_time_range_by_key_and_by_typed_dates(seeded, admin_app):
    app = admin_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await goto(pilot, "6")
        add_old_event(app, 2)
        await pilot.press("r")
        await settle(pilot)
        everything = actions(app)
        assert everything[-1] == "app.delete"  # the oldest, two hours ago
        await pilot.press("t")  # the last hour
        await settle(pilot)
        assert "Showing last hour." in screen_text(app) and actions(app) == everything[:-1]
        since = app.screen.query_one("#audit-since", Input)
        assert since.value and since.value.startswith(time.strftime("%Y-%m-%d", time.gmtime()))
        await pilot.press("t")  # the last 24 hours: the old one is back
        await settle(pilot)
        assert actions(app) == everything
        until = app.screen.query_one("#audit-until", Input)
        until.value = time.strftime("%Y-%m-%dT%H:%M", time.gmtime(time.time() - 3600))  # up to an hour ago
        await settle(pilot)
        assert actions(app) == ["app.delete"]
        until.value = "last tuesday"
        await settle(pilot)
        assert "Until must be a date like 2025-01-31" in screen_text(app) and actions(app) == everything
        until.value = "2020-01-01"
        await settle(pilot)
        assert actions(app) == [] and "No matching events." in screen_text(app)


async def test_export_the_shown_range_to_csv_and_json(seeded, admin_app, tmp_path):
    app = admin_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await goto(pilot, "6")
        add_old_event(app, 2)
        await pilot.press("t", "r")  # the last hour
        await settle(pilot)
        shown = list(app.screen.table.records.values())
        assert "app.delete" not in [e.action for e in shown]
        await pilot.press("x")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, AuditExportScreen) and f"{len(shown)} event(s) shown" in screen_text(app)
        path = form.query_one("#export-path", Input)
        assert path.has_focus and path.value.endswith(".csv")
        target = tmp_path / "audit.csv"
        path.value = str(target)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, AuditScreen)
        assert f"Exported {len(shown)} event(s) to" in screen_text(app)  # the full path in a toast
        rows = list(csv.DictReader(target.open()))
        assert [int(r["id"]) for r in rows] == sorted(e.id for e in shown)  # oldest first, the same events
        assert os.stat(target).st_mode & 0o777 == 0o600

        await pilot.press("x")
        await settle(pilot)
        form = app.screen
        form.query_one("#export-path", Input).value = str(target)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is form and "already exists" in screen_text(app)  # never overwritten
        form.query_one("#export-format", Select).value = "json"
        form.query_one("#export-path", Input).value = str(tmp_path / "audit.csv2")
        await settle(pilot)
        form.query_one("#export-path", Input).value = str(tmp_path / "audit.csv")
        form.query_one("#export-format", Select).value = "csv"
        await settle(pilot)
        form.query_one("#export-format", Select).value = "json"  # the file name follows the format
        await settle(pilot)
        assert form.query_one("#export-path", Input).value == str(tmp_path / "audit.json")
        await pilot.press("ctrl+s")
        await settle(pilot)
        exported = json.loads((tmp_path / "audit.json").read_text())
        assert [e["id"] for e in exported] == [int(r["id"]) for r in rows]
        assert exported[0]["action"] == "user.create" and isinstance(exported[0]["detail"], dict)


async def test_export_can_be_cancelled(seeded, admin_app, tmp_path):
    app = admin_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await goto(pilot, "6")
        await pilot.press("x")
        await settle(pilot)
        app.screen.query_one("#export-path", Input).value = str(tmp_path / "never.csv")
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, AuditScreen) and not (tmp_path / "never.csv").exists()
