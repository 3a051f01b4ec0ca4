"""The one-line section bar: number keys or a click switch sections."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Static

SECTIONS = [
    ("overview", "1", "Overview"),
    ("users", "2", "Users"),
    ("apps", "3", "Apps"),
    ("grants", "4", "Grants"),
    ("keys", "5", "Keys"),
    ("audit", "6", "Audit"),
    ("usage", "7", "Usage"),
]


class NavItem(Static):
    DEFAULT_CSS = """
    NavItem {
        width: auto;
        padding: 0 1;
        color: $text-muted;
    }
    NavItem:hover {
        background: $boost;
        color: $text;
    }
    NavItem.-current {
        background: $accent;
        color: $text;
        text-style: bold;
    }
    """

    def __init__(self, mode: str, key: str, label: str, current: bool):
        super().__init__(f"{key} {label}", id=f"nav-{mode}", classes="-current" if current else "")
        self.mode = mode

    def on_click(self) -> None:
        self.app.switch_mode(self.mode)


class NavBar(Horizontal):
    DEFAULT_CSS = """
    NavBar {
        height: 1;
        background: $panel;
    }
    NavBar .title {
        width: auto;
        padding: 0 1;
        text-style: bold;
        color: $accent;
    }
    """

    def __init__(self, current: str):
        super().__init__()
        self.current = current

    def compose(self) -> ComposeResult:
        yield Static("infer0", classes="title")
        for mode, key, label in SECTIONS:
            yield NavItem(mode, key, label, mode == self.current)
