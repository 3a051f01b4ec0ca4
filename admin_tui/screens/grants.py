"""Grants & tokens: active grants by user and app with last use; revoke one, all of a user's,
or all of an app's. The running server stops accepting the tokens within a second."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Input, Static

from infer0app.services import admin_queries, grants

from ..format import ago, cell, stamp
from ..widgets import RecordTable
from .base import SearchableScreen


class GrantsScreen(SearchableScreen):
    MODE = "grants"
    BINDINGS = [
        Binding("slash", "focus_search", "Filter"),
        Binding("x", "revoke_one", "Revoke"),
        Binding("u", "revoke_user", "Revoke user's"),
        Binding("a", "revoke_app", "Revoke app's"),
    ]

    def compose_body(self) -> ComposeResult:
        yield Input(placeholder="Filter by user email, app name or client id  (/)", id="search",
                    classes="search", compact=True)
        # widths + 2 padding a column fit 78 cells with the scrollbar (80x24): the last header shows whole
        yield RecordTable([("#", 4), ("User", 20), ("App", 14), ("Model", 12), ("Last use", 8), ("Tokens", 6)],
                          id="grants-table")
        yield Static("", id="grant-detail", classes="detail short")

    @property
    def table(self) -> RecordTable:
        return self.query_one("#grants-table", RecordTable)

    def fetch_params(self) -> dict:
        return {"search": self.query_one("#search", Input).value}

    def fetch(self, search: str) -> list[admin_queries.GrantRow]:
        return self.ctx.call(admin_queries.list_active_grants, search=search)

    def show(self, rows: list[admin_queries.GrantRow]) -> None:
        self.table.set_records(
            (str(g.id), g, [cell(g.id), cell(g.user_email), cell(g.app_name), cell(g.model),
                            cell(ago(g.last_used_at)), cell(g.active_tokens)])
            for g in rows)
        self.show_detail(self.table.selected)

    def show_detail(self, g: admin_queries.GrantRow | None) -> None:
        box = self.query_one("#grant-detail", Static)
        if g is None:
            box.update(Text("No active grants." if not self.table.row_count else "", style="dim"))
            return
        box.update(Text.assemble((f"Grant {g.id}: ", "bold"), f"{g.user_email} → {g.app_name} ({g.client_id})\n",
                                 f"provider {g.provider or '(deleted)'}  model {g.model or '-'}  scope {g.scope}  "
                                 f"created {stamp(g.created_at)}  last use {ago(g.last_used_at)}  "
                                 f"live tokens {g.active_tokens}"))

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self.show_detail(self.table.selected)

    def action_revoke_one(self) -> None:
        g = self.table.selected
        if g is None:
            return
        self.confirm_then(f"Revoke grant {g.id} ({g.user_email} → {g.app_name})?",
                          "Its tokens stop working within a second; the user must authorize the app again.",
                          grants.revoke_grant, g.id, actor=self.ctx.actor,
                          success=f"Grant {g.id} revoked.", yes_label="Revoke")

    def action_revoke_user(self) -> None:
        g = self.table.selected
        if g is None:
            return
        self.confirm_then(f"Revoke every grant of {g.user_email}?", "Every app they authorized loses its tokens.",
                          grants.revoke_user_grants, g.user_id, actor=self.ctx.actor,
                          success=lambda n: f"Revoked {n} grant(s) of {g.user_email}.", yes_label="Revoke")

    def action_revoke_app(self) -> None:
        g = self.table.selected
        if g is None:
            return
        self.confirm_then(f"Revoke every grant of the app {g.app_name}?", "Every user of the app loses its tokens.",
                          grants.revoke_app_grants, g.app_id, actor=self.ctx.actor,
                          success=lambda n: f"Revoked {n} grant(s) of {g.app_name}.", yes_label="Revoke")
