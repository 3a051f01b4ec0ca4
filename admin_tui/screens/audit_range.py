"""The Audit section's time range (From / Until boxes, `t` for the usual windows) and its export
(`x`: the events matching the filters and range, to a new JSON or CSV file, as `infer0 audit export`)."""

from __future__ import annotations

import time
from pathlib import Path

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Input, Select, Static

from infer0app.services import audit_export

from .service_modal import ServiceModal

# `t` cycles these: (label, seconds back from now; None: no lower bound).
PRESETS = [("all time", None), ("last hour", 3600), ("last 24 hours", 86400), ("last 7 days", 7 * 86400),
           ("last 30 days", 30 * 86400)]


def preset_since(seconds: float | None, now: float | None = None) -> str:
    """The From box's text for a window reaching `seconds` back (UTC, to the minute)."""
    if seconds is None:
        return ""
    return time.strftime("%Y-%m-%dT%H:%M", time.gmtime((time.time() if now is None else now) - seconds))


def range_row() -> ComposeResult:
    with Horizontal(id="audit-range"):
        yield Static("From", classes="range-label")
        yield Input(placeholder="YYYY-MM-DD[THH:MM] UTC", id="audit-since", compact=True)
        yield Static("Until", classes="range-label")
        yield Input(placeholder="(now)", id="audit-until", compact=True)
        yield Static("t: window", id="range-hint")


def default_file(fmt: str, now: float | None = None) -> str:
    return time.strftime("infer0-audit-%Y%m%d-%H%M%S", time.gmtime(now)) + f".{fmt}"


class AuditExportScreen(ServiceModal):
    """Export to a file; dismisses with (path, events written), or None when cancelled."""

    def __init__(self, filters: dict, description: str):
        super().__init__()
        self.filters = filters  # since, until, text, action: as the Audit section shows them
        self.description = description

    def compose(self) -> ComposeResult:
        with Vertical(classes="form-box", id="export-form"):
            yield Static("Export the audit log", classes="form-title")
            yield Static(self.description, classes="form-hint")
            with Horizontal(classes="form-row"):
                yield Static("Format", classes="form-label")
                yield Select([("CSV", "csv"), ("JSON", "json")], value="csv", allow_blank=False, id="export-format",
                             compact=True)
            with Horizontal(classes="form-row"):
                yield Static("File", classes="form-label")
                yield Input(default_file("csv"), id="export-path", compact=True)
            yield Static(f"A new file (never overwritten), readable by you only; a relative name is in "
                         f"{Path.cwd()}.", classes="form-hint")
            yield from self.buttons("Export")

    def on_mount(self) -> None:
        self.query_one("#export-path", Input).focus()

    def on_select_changed(self, event: Select.Changed) -> None:
        box = self.query_one("#export-path", Input)
        stem, dot, ext = box.value.rpartition(".")
        if dot and ext in audit_export.FORMATS and isinstance(event.value, str):
            box.value = f"{stem}.{event.value}"

    def action_submit(self) -> None:
        fmt = self.query_one("#export-format", Select).value
        path = self.query_one("#export-path", Input).value
        self.submit_service(_export, path, fmt, **self.filters)


def _export(store, path: str, fmt: str, **filters) -> tuple[str, int]:
    return path.strip(), audit_export.export_file(store, path, fmt, **filters)
