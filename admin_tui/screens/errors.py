"""Recent errors: the failed API calls behind the Overview's "N errors" (press `e` there): time,
app, user, provider, HTTP status and error code; `t` widens the window (hour, day, week).
Only what the usage log holds: never prompt or answer content. Same rows as `infer0 errors`."""

from __future__ import annotations

import time
from collections import Counter

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Static

from infer0app.services import recent_errors

from ..format import cell, stamp
from ..widgets import RecordTable
from ..widgets.nav import SECTIONS
from .base import AdminScreen

WINDOWS = [("last hour", 3600.0), ("last 24 hours", 86400.0), ("last 7 days", 7 * 86400.0)]


class ErrorsScreen(AdminScreen):
    MODE = "overview"  # reached from the Overview; the nav bar keeps showing where it lives
    REFRESH_EVERY = 5.0
    BINDINGS = [Binding("escape", "back", "Back"), Binding("t", "widen", "Time window")] + [
        Binding(key, f"leave('{mode}')", show=False) for mode, key, _label in SECTIONS]
    window = 0

    def compose_body(self) -> ComposeResult:
        yield Static("", id="errors-summary", classes="detail short")
        yield RecordTable([("Time", 8), ("App", 12), ("User", 16), ("Provider", 9), ("St.", 3), ("Error code", 15)],
                          id="errors-table")
        yield Static("", id="errors-detail", classes="detail short")

    @property
    def table(self) -> RecordTable:
        return self.query_one("#errors-table", RecordTable)

    def fetch_params(self) -> dict:
        return {"seconds": WINDOWS[self.window][1]}

    def fetch(self, seconds: float) -> list[recent_errors.ErrorRow]:
        return self.ctx.call(recent_errors.recent_errors, since=time.time() - seconds)

    def show(self, rows: list[recent_errors.ErrorRow]) -> None:
        label = WINDOWS[self.window][0]
        by_status = ", ".join(f"{status}: {n}" for status, n in sorted(Counter(e.status for e in rows).items()))
        more = f" (the newest {len(rows)})" if len(rows) >= recent_errors.DEFAULT_LIMIT else ""
        self.query_one("#errors-summary", Static).update(Text.assemble(
            (f"Failed API calls, {label}: {len(rows)}{more}", "bold"),
            f"  by status: {by_status}" if rows else "", "\n",
            ("t: hour / day / week · esc: back · never any prompt or answer content", "dim")))
        self.table.set_records(
            (str(e.id), e, [cell(time.strftime("%H:%M:%S", time.localtime(e.created_at))),
                            cell(e.app_name or "(deleted)"), cell(e.user_email or "(deleted)"), cell(e.provider_kind),
                            cell(e.status, "bold red" if e.status >= 500 else "yellow"), cell(e.error_code or "-")])
            for e in rows)
        self.show_detail(self.table.selected)

    def show_detail(self, e: recent_errors.ErrorRow | None) -> None:
        box = self.query_one("#errors-detail", Static)
        if e is None:
            box.update(Text(f"No failed calls in the {WINDOWS[self.window][0]}.", style="dim"))
            return
        box.update(Text.assemble((f"{stamp(e.created_at)}  {e.status} {e.error_code or '(no code recorded)'}", "bold"),
                                 f"  after {e.latency_ms:,.0f} ms" + (" (stream)" if e.streamed else ""), "\n",
                                 f"app {e.app_name or '(deleted)'} {e.client_id}\n",
                                 f"user {e.user_email or '(deleted)'}  provider {e.provider_kind} {e.model}"))

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self.show_detail(self.table.selected)

    def action_widen(self) -> None:
        self.window = (self.window + 1) % len(WINDOWS)
        self.reload()

    def action_back(self) -> None:
        self.dismiss()

    def action_leave(self, mode: str) -> None:
        """A section key: close this screen (it sits on the Overview's stack), then go there."""
        self.dismiss()
        if mode != "overview":
            self.app.call_later(self.app.action_section, mode)
