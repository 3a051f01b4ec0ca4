"""Usage: requests, tokens, spend estimate and errors of the last 30 days, by user or by app
(`b` switches), with the totals on top. The same figures as `infer0 usage`."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Static

from infer0app.services import usage_report
from infer0app.services.pricing import PriceTable

from ..format import cell
from ..widgets import RecordTable
from .base import AdminScreen


def dollars(micro: int) -> str:
    return f"${micro / 1_000_000:,.2f}"


def _report(store, data_dir):
    return usage_report.report(store, PriceTable.load(data_dir))


class UsageScreen(AdminScreen):
    MODE = "usage"
    REFRESH_EVERY = 30.0
    BINDINGS = [Binding("b", "switch_by", "By user/app")]
    by = "user"

    def compose_body(self) -> ComposeResult:
        yield Static("", id="usage-summary", classes="detail short")
        yield RecordTable([("User / app", 24), ("Req", 7), ("Tokens", 11), ("Spend", 9), ("Err", 5), ("Users", 5)],
                          id="usage-table")
        yield Static("", id="usage-detail", classes="detail short")

    @property
    def table(self) -> RecordTable:
        return self.query_one("#usage-table", RecordTable)

    def fetch(self) -> usage_report.UsageReport:
        return self.ctx.call(_report, self.ctx.settings.data_dir)

    def show(self, report: usage_report.UsageReport) -> None:
        self.report = report
        t = report.total
        unknown = f" (+{t.spend_unknown} req. unpriced)" if t.spend_unknown else ""
        self.query_one("#usage-summary", Static).update(Text.assemble(
            (f"{report.since} – {report.until} (UTC), by {self.by}: ", "bold"),
            f"{t.requests:,} requests · {t.tokens:,} tokens · {dollars(t.spend_micro_usd)} est.{unknown} · "
            f"{t.errors:,} errors"))
        rows = report.by_user if self.by == "user" else report.by_app
        self.table.set_records(
            (r.key, r, [cell(r.label), cell(f"{r.requests:,}"), cell(f"{r.tokens:,}"), cell(dollars(r.spend_micro_usd)),
                        cell(r.errors), cell(r.users)]) for r in rows)
        self.show_detail(self.table.selected)

    def show_detail(self, r: usage_report.Totals | None) -> None:
        box = self.query_one("#usage-detail", Static)
        if r is None:
            box.update(Text("No usage in the last 30 days." if not self.table.row_count else "", style="dim"))
            return
        codes = ", ".join(f"{code}: {n}" for code, n in r.errors_by_status) or "none"
        box.update(Text.assemble((r.label, "bold"), f"  errors by code: {codes}",
                                 f"  · {r.spend_unknown} requests with unknown price" if r.spend_unknown else ""))

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self.show_detail(self.table.selected)

    def action_switch_by(self) -> None:
        self.by = "app" if self.by == "user" else "user"
        if getattr(self, "report", None) is not None:
            self.show(self.report)
