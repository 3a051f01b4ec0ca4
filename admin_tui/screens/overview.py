"""Overview: counts, traffic in the last hour and day, requests per minute, database and KEK;
`e` opens the recent errors behind the "N errors" counts."""

from __future__ import annotations

import time

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Vertical
from textual.widgets import Sparkline, Static

from infer0app.services import admin_queries

from ..format import duration, size, stamp
from ..widgets import StatCard
from .base import AdminScreen
from .errors import ErrorsScreen


class OverviewScreen(AdminScreen):
    MODE = "overview"
    REFRESH_EVERY = 2.0
    BINDINGS = [Binding("e", "errors", "Recent errors")]

    def compose_body(self) -> ComposeResult:
        with Grid(id="overview-cards"):
            yield StatCard("Users", id="card-users")
            yield StatCard("Apps", id="card-apps")
            yield StatCard("Active grants", id="card-grants")
            yield StatCard("Provider keys", id="card-secrets")
            yield StatCard("Requests 1h", id="card-hour")
            yield StatCard("Requests 24h", id="card-day")
            yield StatCard("Database", id="card-db")
            yield StatCard("Servers", id="card-servers")
        yield Static("", id="kek-line")
        with Vertical(id="overview-traffic"):
            yield Static("Requests per minute, last hour", id="rpm-label")
            yield Sparkline([0] * 60, id="rpm")

    def fetch(self) -> admin_queries.Overview:
        return self.ctx.call(admin_queries.overview, self.ctx.keyring_file)

    def show(self, o: admin_queries.Overview) -> None:
        def card(card_id: str, value: str, detail: str = "") -> None:
            self.query_one(f"#{card_id}", StatCard).set(value, detail)

        card("card-users", str(o.users), f"{o.users_disabled} disabled")
        card("card-apps", str(o.apps), f"{o.apps_disabled} disabled")
        card("card-grants", str(o.active_grants), "users × apps")
        card("card-servers", str(o.servers), "running" if o.servers else "none running")
        card("card-hour", str(o.requests_hour), f"{o.errors_hour} errors")
        self.query_one("#card-hour", StatCard).border_subtitle = "e: errors" if o.errors_hour else ""
        card("card-day", str(o.requests_day), f"{o.errors_day} errors")
        card("card-secrets", str(o.secrets), "sealed (envelope)")
        card("card-db", size(o.db_bytes), "with WAL")
        kek = Text.assemble(("Current KEK ", "bold"), o.kek_id)
        if o.kek_created:
            kek.append(f"  created {stamp(o.kek_created)}, {duration(time.time() - o.kek_created)} old", style="dim")
        self.query_one("#kek-line", Static).update(kek)
        self.query_one("#rpm", Sparkline).data = list(o.per_minute)
        peak = max(o.per_minute) if o.per_minute else 0
        self.query_one("#rpm-label", Static).update(
            Text.assemble("Requests per minute, last hour ", (f"(peak {peak}/min, now {o.per_minute[-1]}/min)",
                                                              "dim")))

    def action_errors(self) -> None:
        self.app.push_screen(ErrorsScreen())
