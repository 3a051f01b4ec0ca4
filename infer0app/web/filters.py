"""Jinja filters for the pages."""

from __future__ import annotations

import datetime as dt


def timestamp(value: float | None) -> str:
    """Epoch seconds as 'YYYY-MM-DD HH:MM UTC' ('' for None)."""
    if value is None:
        return ""
    return dt.datetime.fromtimestamp(float(value), dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


FILTERS = {"timestamp": timestamp}
