"""Short, readable renderings of times, sizes and user-supplied text for tables."""

from __future__ import annotations

import time

from rich.text import Text


def cell(value: object, style: str = "") -> Text:
    """A table cell that never interprets markup in user data (names, emails, URIs)."""
    return Text("" if value is None else str(value), style=style, no_wrap=True, overflow="ellipsis")


def clip(value: str, width: int) -> str:
    """`value` cut to `width` characters, its last one an ellipsis when cut."""
    return value if len(value) <= width else value[: max(width - 1, 0)] + "…"


def ago(ts: float | None, *, now: float | None = None, never: str = "never") -> str:
    if ts is None:
        return never
    return duration((time.time() if now is None else now) - ts) + " ago"


def duration(seconds: float) -> str:
    s = max(0, int(seconds))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m"
    if s < 86400:
        return f"{s // 3600}h{(s % 3600) // 60:02d}m"
    return f"{s // 86400}d{(s % 86400) // 3600}h"


def stamp(ts: float | None) -> str:
    if ts is None:
        return "-"
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(ts))


def size(n: int) -> str:
    value = float(n)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if value < 1024 or unit == "TB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{n} B"
