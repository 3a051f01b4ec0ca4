"""Keyboard-first and mouse: sections by number or click, bindings in the footer, readable at 80×24,
and a clear screen (or CLI line) when the data dir is missing or from a newer infer0."""

from __future__ import annotations

import re

from textual.widgets import DataTable, Footer

from admin_tui.screens import (AppsScreen, AuditScreen, GrantsScreen, KeysScreen, OverviewScreen, ProblemScreen,
                               UsersScreen)
from infer0app.store.models import SchemaMigration
from tests.support.processes import run_cli
from tests.tui.conftest import goto, opened_store, screen_text, settle

SECTIONS = [("1", OverviewScreen), ("2", UsersScreen), ("3", AppsScreen), ("4", GrantsScreen), ("5", KeysScreen),
            ("6", AuditScreen)]


async def test_number_keys_switch_sections_and_fit_80x24(seeded, admin_app):
    app = admin_app()
    async with app.run_test(size=(80, 24)) as pilot:
        for key, screen_type in SECTIONS[1:] + SECTIONS[:1]:
            await goto(pilot, key)
            screen = app.screen
            assert isinstance(screen, screen_type)
            assert screen.query_one(f"#nav-{screen.MODE}").has_class("-current")
            # every visible widget lies inside the 80×24 terminal
            for widget in screen.query("*"):
                if widget.display and widget.region.area:
                    r = widget.region
                    assert r.x >= 0 and r.y >= 0 and r.right <= 80 and r.bottom <= 24, (widget, r)
            # tables fit the width: no sideways scrolling needed to read a row
            for table in screen.query(DataTable):
                assert table.virtual_size.width <= table.scrollable_content_region.width, (screen, table)


async def test_footer_shows_each_sections_bindings(seeded, admin_app):
    app = admin_app()
    async with app.run_test(size=(80, 24)) as pilot:
        expected = {"2": ["Disable", "Revoke", "New", "Delete", "Pw link", "2FA off", "Quit"],
                    "3": ["New", "Edit", "Secret", "Disable", "Delete", "Verify", "Revoke", "Quit"],
                    "4": ["Revoke", "Revoke user's", "Revoke app's"],
                    "5": ["Rotate KEK"], "6": ["Filter", "Kind", "Time range", "Export", "Quit"],
                    "1": ["Recent errors"]}
        for key, labels in expected.items():
            await goto(pilot, key)
            assert app.screen.query(Footer)
            footer = screen_text(app).splitlines()[-1]
            for label in labels:
                assert label in footer, (key, label, footer)


async def test_clicking_the_nav_bar_switches_sections(seeded, admin_app):
    app = admin_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await goto(pilot, "1")
        await pilot.click("#nav-keys")
        await settle(pilot)
        assert isinstance(app.screen, KeysScreen)
        await pilot.click("#nav-users")
        await settle(pilot)
        assert isinstance(app.screen, UsersScreen)
        await pilot.click("#users-table", offset=(4, 2))  # header, alice, then bob
        await settle(pilot)
        assert app.screen.table.selected.email == "bob@example.com"
        assert "bob@example.com active" in screen_text(app)


async def test_q_quits(seeded, admin_app):
    app = admin_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await goto(pilot, "3")
        await pilot.press("q")
        await pilot.pause()
    assert app.return_code == 0


async def test_missing_data_dir_shows_a_clear_message(tmp_path, admin_app, make_settings):
    from admin_tui.app import make_admin_app
    app = make_admin_app(make_settings(data_dir=tmp_path / "nowhere"))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, ProblemScreen)
        text = screen_text(app)
        assert "cannot open the data directory" in text and "No infer0 database in" in text
        assert "--data-dir" in text
        await pilot.press("q")
    assert not (tmp_path / "nowhere").exists()  # nothing is created on the operator's behalf


async def test_database_from_a_newer_infer0_shows_a_clear_message(seeded, admin_app, data_dir):
    with opened_store(data_dir):
        SchemaMigration.create(number=9999, name="m9999_from_the_future")
    app = admin_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, ProblemScreen)
        # The message follows the database's path, so where it wraps depends on the temp dir.
        assert "written by a newer infer0" in re.sub(r"[\s█]+", " ", screen_text(app))


def test_admin_command_refuses_a_missing_data_dir_with_one_line(tmp_path):
    proc = run_cli("admin", data_dir=tmp_path / "nowhere")
    assert proc.returncode == 1
    assert proc.stderr.startswith("infer0: error: No infer0 database in") and proc.stderr.count("\n") == 1
    assert proc.stdout == ""


def test_admin_command_runs_the_tui_in_a_real_terminal(seeded, data_dir):
    """`infer0 admin` in a pseudo-terminal: the overview draws, q quits cleanly."""
    import os
    import pty
    import select
    import sys
    import time

    from tests.support.processes import ROOT, cli_env

    pid, fd = pty.fork()
    if pid == 0:  # the child: become `infer0 admin`
        os.chdir(ROOT)
        env = cli_env({"TERM": "xterm-256color", "COLUMNS": "80", "LINES": "24"})
        os.execve(sys.executable, [sys.executable, "-m", "infer0app", "admin", "--data-dir", str(data_dir)], env)
    out, quit_sent = b"", False
    deadline = time.monotonic() + 20
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([fd], [], [], 0.1)
            if ready:
                try:
                    out += os.read(fd, 65536)
                except OSError:  # the child closed the terminal: it exited
                    break
            if not quit_sent and b"Active grants" in out:
                os.write(fd, b"q")
                quit_sent = True
    finally:
        if not quit_sent:
            os.kill(pid, 9)
        _, status = os.waitpid(pid, 0)
        os.close(fd)
    assert quit_sent, out[-2000:]
    assert os.waitstatus_to_exitcode(status) == 0
