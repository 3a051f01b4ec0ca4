"""The audit log over a time range, exported as JSON or CSV (`infer0 audit export`, the TUI's
audit screen). Only reads; the rows hold no secrets (services/audit.py never records one).

Instants are given as an ISO 8601 date (`2025-01-31`: that UTC day, from its start as `since`,
through its end as `until`) or date-time (`2025-01-31T12:00:00`, UTC unless it names an offset,
`…+02:00`); ranges are [since, until).
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
from pathlib import Path
from typing import Iterable, TextIO

from . import admin_queries
from .errors import ValidationError

FORMATS = ("json", "csv")
#: CSV columns, and the keys of each JSON object (`detail` is an object in JSON, its JSON text in CSV).
EXPORT_FIELDS = ("id", "created_at", "actor", "action", "target", "ip", "detail")


def parse_instant(value: str | None, name: str, *, end: bool = False) -> float | None:
    """'YYYY-MM-DD' or an ISO 8601 date-time -> epoch seconds; None/'' -> None.

    A bare date means its UTC midnight, or with `end=True` the next midnight (so `--until
    2025-01-31` includes that whole day). A date-time without an offset is UTC.
    ValidationError naming `name` for anything else."""
    if not value or not value.strip():
        return None
    text = value.strip()
    try:
        if len(text) == 10:
            day = dt.date.fromisoformat(text)
            start = dt.datetime.combine(day, dt.time(), dt.timezone.utc)
            return (start + dt.timedelta(days=1) if end else start).timestamp()
        moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=dt.timezone.utc)
        return moment.timestamp()
    except ValueError:
        raise ValidationError(f"{name} must be a date like 2025-01-31 or a time like 2025-01-31T12:00:00Z.",
                              name) from None
    except OverflowError:  # the day after 9999-12-31, or an offset that moves 0001-01-01 before it
        raise ValidationError(f"{name} is outside the dates infer0 can count (years 1 to 9999).", name) from None


def parse_range(since: str | None, until: str | None) -> tuple[float | None, float | None]:
    """(since, until) epoch seconds from the two texts (see parse_instant); ValidationError if
    since is not before until."""
    start = parse_instant(since, "--since")
    stop = parse_instant(until, "--until", end=True)
    if start is not None and stop is not None and start >= stop:
        raise ValidationError("--since must be before --until.", "since")
    return start, stop


def iso_utc(ts: float) -> str:
    return dt.datetime.fromtimestamp(ts, dt.timezone.utc).isoformat(timespec="seconds")


def events(store, *, since: float | None = None, until: float | None = None, text: str = "",
           action: str = "") -> list[admin_queries.AuditRow]:
    """Every matching event, oldest first (the filters of admin_queries.audit_log, no row limit)."""
    return admin_queries.audit_log(store, text=text, action=action, since=since, until=until, limit=None,
                                   oldest_first=True)


def export_dict(e: admin_queries.AuditRow) -> dict:
    """One event as {EXPORT_FIELDS}: created_at as ISO 8601 UTC, detail as an object."""
    try:
        detail = json.loads(e.detail or "{}")
    except ValueError:
        detail = e.detail
    return {"id": e.id, "created_at": iso_utc(e.created_at), "actor": e.actor, "action": e.action,
            "target": e.target, "ip": e.ip, "detail": detail}


def write(rows: Iterable[admin_queries.AuditRow], fmt: str, out: TextIO) -> int:
    """Write the events to `out` as `fmt` ("json": one array of objects; "csv": a header line
    and one line per event). Returns the number of events written; ValidationError for another format."""
    if fmt not in FORMATS:
        raise ValidationError(f"The format must be one of {', '.join(FORMATS)}.", "format")
    items = [export_dict(e) for e in rows]
    if fmt == "json":
        out.write(json.dumps(items, indent=2) + "\n")
    else:
        writer = csv.DictWriter(out, fieldnames=EXPORT_FIELDS, lineterminator="\n")
        writer.writeheader()
        writer.writerows({**item, "detail": json.dumps(item["detail"])} for item in items)
    return len(items)


def export_file(store, path: str, fmt: str, *, since: float | None = None, until: float | None = None,
                text: str = "", action: str = "") -> int:
    """Write the matching events (see `events`) to a new file at `path` as `fmt`, readable by its
    owner only (0600: the log names people and addresses). Returns how many were written.
    ValidationError if the path is empty, the file exists (never overwritten) or cannot be written."""
    if not path or not path.strip():
        raise ValidationError("Give a file name to export to.", "path")
    if fmt not in FORMATS:
        raise ValidationError(f"The format must be one of {', '.join(FORMATS)}.", "format")
    target = Path(path.strip()).expanduser()
    rows = events(store, since=since, until=until, text=text, action=action)
    try:
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise ValidationError(f"{target} already exists; choose another name.", "path") from None
    except OSError as exc:
        raise ValidationError(f"Cannot write {target}: {exc.strerror}.", "path") from None
    with os.fdopen(fd, "w", encoding="utf-8", newline="") as out:
        return write(rows, fmt, out)
