"""Audit log: sign-ins, consents, revocations, app and secret changes, key rotations and admin
actions — who, what, when — filterable by text and by kind of action."""

from __future__ import annotations

import json

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import DataTable, Input, Select, Static

from infer0app.services import admin_queries

from ..format import cell, stamp
from ..widgets import RecordTable
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
    ]

    def compose_body(self) -> ComposeResult:
        with Horizontal(id="audit-filters"):
            yield Input(placeholder="Filter: actor, action, target…  (/)", id="search", classes="search",
                        compact=True)
            yield Select(CATEGORIES, prompt="All actions", allow_blank=True, id="kind", compact=True)
        yield RecordTable([("When", 16), ("Actor", 18), ("Action", 16), ("Target", 16)], id="audit-table")
        yield Static("", id="audit-detail", classes="detail short")

    @property
    def table(self) -> RecordTable:
        return self.query_one("#audit-table", RecordTable)

    def fetch_params(self) -> dict:
        kind = self.query_one("#kind", Select).value
        return {"text": self.query_one("#search", Input).value,
                "action": kind if isinstance(kind, str) else ""}

    def fetch(self, text: str, action: str) -> list[admin_queries.AuditRow]:
        return self.ctx.call(admin_queries.audit_log, text=text, action=action)

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
