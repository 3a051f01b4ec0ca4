"""A small bordered card: a title, a big value, a line of detail."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static


class StatCard(Static):
    DEFAULT_CSS = """
    StatCard {
        width: 1fr;
        height: 4;
        border: round $primary-darken-1;
        padding: 0 1;
    }
    """

    def __init__(self, title: str, *, id: str | None = None):
        super().__init__(id=id)
        self.border_title = title
        self.value = ""
        self.detail = ""

    def set(self, value: str, detail: str = "") -> None:
        self.value, self.detail = value, detail
        self.update(Text.assemble((value, "bold"), "\n", (detail, "dim")))
