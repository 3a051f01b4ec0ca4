"""Audit log: sign-ins, consents, revocations, app and secret changes, key rotations and admin
actions — who, what, when — filterable by text, by kind of action and by time range, and
exported (`x`) as JSON or CSV."""

from __future__ import annotations

import json
from pathlib import Path

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import DataTable, Input, Select, Static

from infer0app.services import admin_queries, audit_export
from infer0app.services.errors import ValidationError

from ..format import cell, stamp
from ..widgets import RecordTable
from .audit_range import PRESETS, AuditExportScreen, preset_since, range_row
from .base import SearchableScreen

# Kinds of action, as prefixes of the action names the services record.
CATEGORIES = [
    ("Sign-ins & users", "user."),
    ("Consents & grants", "grant."),
    ("Tokens", "token."),
    ("Apps", "app."),
    ("Provider keys", "provider."),
    ("Key rotations", "kek."),
]


class AuditScreen(SearchableScreen):
    MODE = "audit"
    BINDINGS = [
        Binding("slash", "focus_search", "Filter"),
        Binding("f", "focus_kind", "Kind"),
        Binding("t", "next_window", "Time range"),
        Binding("x", "export", "Export"),
    ]
    window = 0  # index into PRESETS, advanced by `t`

    def compose_body(self) -> ComposeResult:
        with Horizontal(id="audit-filters"):
            yield Input(placeholder="Filter: actor, action, target…  (/)", id="search", classes="search",
                        compact=True)
            yield Select(CATEGORIES, prompt="All actions", allow_blank=True, id="kind", compact=True)
        yield from range_row()
        yield RecordTable([("When", 16), ("Actor", 18), ("Action", 16), ("Target", 16)], id="audit-table")
        yield Static("", id="audit-detail", classes="detail short")

    @property
    def table(self) -> RecordTable:
        return self.query_one("#audit-table", RecordTable)

    def fetch_params(self) -> dict:
        """The filters as services take them; a malformed From/Until is named on the status line
        and left out (the rest of the filters still apply)."""
        kind = self.query_one("#kind", Select).value
        since = until = None
        try:
            since = audit_export.parse_instant(self.query_one("#audit-since", Input).value, "From")
            until = audit_export.parse_instant(self.query_one("#audit-until", Input).value, "Until", end=True)
        except ValidationError as exc:
            self.set_status(exc.message, error=True)
        return {"text": self.query_one("#search", Input).value,
                "action": kind if isinstance(kind, str) else "", "since": since, "until": until}

    def fetch(self, text: str, action: str, since: float | None, until: float | None) -> list[admin_queries.AuditRow]:
        return self.ctx.call(admin_queries.audit_log, text=text, action=action, since=since, until=until)

    def show(self, rows: list[admin_queries.AuditRow]) -> None:
        self.table.set_records(
            (str(e.id), e, [cell(stamp(e.created_at)), cell(e.actor), cell(e.action), cell(e.target)])
            for e in rows)
        self.show_detail(self.table.selected)

    def show_detail(self, e: admin_queries.AuditRow | None) -> None:
        box = self.query_one("#audit-detail", Static)
        if e is None:
            box.update(Text("No matching events." if not self.table.row_count else "", style="dim"))
            return
        try:
            detail = json.loads(e.detail or "{}")
            details = ", ".join(f"{k}={v}" for k, v in detail.items()) if isinstance(detail, dict) else e.detail
        except ValueError:
            details = e.detail
        box.update(Text.assemble((f"{stamp(e.created_at)} {e.action}", "bold"), f" by {e.actor} on {e.target}",
                                 f" from {e.ip}" if e.ip else "", "\n", details or "(no details)"))

    def on_select_changed(self, event: Select.Changed) -> None:
        self.reload()

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self.show_detail(self.table.selected)

    def action_focus_kind(self) -> None:
        self.query_one("#kind", Select).focus()

    def action_next_window(self) -> None:
        self.window = (self.window + 1) % len(PRESETS)
        label, seconds = PRESETS[self.window]
        self.query_one("#audit-since", Input).value = preset_since(seconds)  # Input.Changed reloads
        self.query_one("#audit-until", Input).value = ""
        self.set_status(f"Showing {label}.")

    def action_export(self) -> None:
        params = self.fetch_params()
        shown = [f"{len(self.table.records)} event(s) shown" + (" (the newest 500)" if len(self.table.records) >= 500
                                                               else "")]
        for key, label in (("text", "matching"), ("action", "action")):
            if params[key]:
                shown.append(f"{label} {params[key]!r}")
        for key, label in (("since", "from"), ("until", "until")):
            if params[key] is not None:
                shown.append(f"{label} {audit_export.iso_utc(params[key])}")
        filters = {"since": params["since"], "until": params["until"], "text": params["text"],
                   "action": params["action"]}

        def done(result) -> None:
            if result is not None:
                path, count = result
                self.set_status(f"Exported {count} event(s) to {path}.")
                self.notify(f"Exported {count} event(s) to {Path(path).expanduser().resolve()}.", timeout=8)

        self.app.push_screen(AuditExportScreen(filters, "Exports every event matching the filters: "
                                               + ", ".join(shown) + "."), done)
