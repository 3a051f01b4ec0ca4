"""Issue 17 §3 at 80×24: the Grants header shows "Tokens" whole, the Users detail keeps its
columns apart, a filter that matches nothing says so on every screen with a filter, and an
action's result goes to the status line instead of a toast over the detail pane."""

from __future__ import annotations

import re

import pytest
from rich.text import Text
from textual.widgets import Static

from admin_tui.screens import GrantsScreen
from tests.tui.conftest import goto, settle
from tests.tui.seed import seed


def plain(widget: Static) -> str:
    content = widget.content
    return content.plain if isinstance(content, Text) else str(content)


async def test_the_grants_table_fits_80_columns_with_its_tokens_header_whole(seeded, admin_app):
    app = admin_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await goto(pilot, "4")
        assert isinstance(app.screen, GrantsScreen)
        table = app.screen.table
        assert [str(c.label) for c in table.columns.values()][-1] == "Tokens"
        last = list(table.columns.values())[-1]
        assert last.width >= len("Tokens")  # the header is not cut to "Tok…"
        # every column is visible without scrolling sideways
        assert table.virtual_size.width <= table.scrollable_content_region.width
        assert table.max_scroll_x == 0


async def test_the_users_detail_keeps_its_columns_apart(data_dir, admin_app):
    seed(data_dir, base_url="http://127.0.0.1:9/v1")  # alice has an "openai-compatible" connection
    app = admin_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await goto(pilot, "2")
        box = app.screen.query_one("#user-detail", Static)
        lines = plain(box).splitlines()
        assert any(re.fullmatch(r"  openai-compatible {2,}Alice fake {2,}key sk-…cdef  default", ln) for ln in lines), lines
        assert any(re.fullmatch(r"  sandbox {2,}Alice sandbox {2,}key \(none\)", ln) for ln in lines), lines
        # the kind column has one width, so the names line up
        starts = {ln.index("Alice") for ln in lines if "Alice " in ln}
        assert len(starts) == 1
        apps = [ln for ln in lines if " used " in ln]
        assert len(apps) == 2 and all(re.fullmatch(r"  .+? {2,}i0_ci_[\w-]{22}  used .+", ln) for ln in apps), apps
        assert all(len(ln) <= box.content_region.width for ln in lines)  # no row wraps at 80 columns


@pytest.mark.parametrize("key", ["2", "3", "4", "6"], ids=["users", "apps", "grants", "audit"])
async def test_a_filter_without_matches_says_so(seeded, admin_app, key):
    app = admin_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await goto(pilot, key)
        note = app.screen.query_one("#no-match", Static)
        assert not note.display and app.screen.table.row_count > 0
        await pilot.press("slash", *"zz-no-such-thing")
        await settle(pilot)
        assert app.screen.table.row_count == 0
        assert note.display and note.region.height >= 1
        assert "Nothing matches “zz-no-such-thing”" in plain(note)
        await pilot.press("ctrl+u")
        await settle(pilot)
        assert app.screen.table.row_count > 0 and not note.display


async def test_an_action_result_shows_in_the_status_line_not_over_the_detail_pane(seeded, admin_app):
    app = admin_app()
    async with app.run_test(size=(80, 24), notifications=True) as pilot:  # toasts on, as in a terminal
        await goto(pilot, "4")
        await pilot.press("x")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        status = app.screen.query_one("#status", Static)
        assert re.fullmatch(r"Grant \d+ revoked\.", plain(status))
        detail = app.screen.query_one("#grant-detail", Static).region
        await pilot.pause()
        toasts = [t for t in app.screen.query("Toast") if t.region.overlaps(detail)]
        assert toasts == []
