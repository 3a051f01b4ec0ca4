"""Shown instead of the sections when the data dir cannot be opened: says why and what to do."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Footer, Static


class ProblemScreen(Screen):
    BINDINGS = [Binding("q,escape", "app.quit", "Quit")]

    def __init__(self, message: str):
        super().__init__()
        self.message = message

    def compose(self) -> ComposeResult:
        with Vertical(id="problem-box"):
            yield Static(Text("infer0 admin cannot open the data directory", style="bold"), id="problem-title")
            yield Static(Text(self.message), id="problem-message")
            yield Static(Text("Pass --data-dir DIR (or set INFER0_DATA_DIR) to the directory that holds "
                              "infer0.sqlite3 and keyring.json. Press q to quit.", style="dim"))
        yield Footer()
