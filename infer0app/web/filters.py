"""Jinja filters for the pages."""

from __future__ import annotations

import datetime as dt

from ..gateway.providers.kinds import connection_label, kind_label, names_kind


def timestamp(value: float | None) -> str:
    """Epoch seconds as 'YYYY-MM-DD HH:MM UTC' ('' for None)."""
    if value is None:
        return ""
    return dt.datetime.fromtimestamp(float(value), dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def usd(micro: int | None) -> str:
    """Integer micro-dollars as '$1,234.50' (cents), or '$0.0042' below a cent; None -> 'unknown'."""
    if micro is None:
        return "unknown"
    dollars = micro / 1_000_000
    return f"${dollars:,.2f}" if micro == 0 or micro >= 10_000 else f"${dollars:.4f}"


FILTERS = {"timestamp": timestamp, "usd": usd}
# Provider labels, composed in one place (gateway/providers/kinds.py): `conn_label(name, kind)`,
# `kind_label(kind)`, `names_kind(name, kind)`.
GLOBALS = {"conn_label": connection_label, "kind_label": kind_label, "names_kind": names_kind}
