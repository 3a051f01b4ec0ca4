"""Time ranges and export formats of services/audit_export.py (used by `infer0 audit export`,
`infer0 errors` and the TUI's Audit section)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

import pytest

from infer0app.services import audit, audit_export
from infer0app.services.datadir import open_data_dir
from infer0app.services.errors import ValidationError


def utc(*args) -> float:
    return dt.datetime(*args, tzinfo=dt.timezone.utc).timestamp()


def test_parse_instant_dates_times_and_offsets():
    assert audit_export.parse_instant("2025-01-31", "--since") == utc(2025, 1, 31)
    assert audit_export.parse_instant("2025-01-31", "--until", end=True) == utc(2025, 2, 1)  # the whole day
    assert audit_export.parse_instant("2025-01-31T12:30", "--since") == utc(2025, 1, 31, 12, 30)  # naive: UTC
    assert audit_export.parse_instant("2025-01-31T12:30:00Z", "--since") == utc(2025, 1, 31, 12, 30)
    assert audit_export.parse_instant("2025-01-31T14:30+02:00", "--since") == utc(2025, 1, 31, 12, 30)
    assert audit_export.parse_instant("  ", "--since") is None and audit_export.parse_instant(None, "x") is None
    for bad in ("yesterday", "2025-02-30", "31/01/2025", "2025-01-31T25:00"):
        with pytest.raises(ValidationError, match="--since must be a date"):
            audit_export.parse_instant(bad, "--since")


def test_parse_instant_refuses_instants_past_the_calendar():
    with pytest.raises(ValidationError, match="--until is outside the dates"):
        audit_export.parse_instant("9999-12-31", "--until", end=True)  # its end is year 10000


def test_parse_range_refuses_an_empty_range():
    assert audit_export.parse_range("2025-01-31", "2025-01-31") == (utc(2025, 1, 31), utc(2025, 2, 1))
    with pytest.raises(ValidationError, match="before --until"):
        audit_export.parse_range("2025-02-01", "2025-01-31")


def test_events_range_is_half_open_and_oldest_first(data_dir):
    store, _vault = open_data_dir(data_dir)
    try:
        from infer0app.store.models import AuditEvent

        for i, at in enumerate((utc(2025, 1, 30, 23, 59), utc(2025, 1, 31), utc(2025, 1, 31, 23, 59, 59),
                                utc(2025, 2, 1))):
            with store.write():
                AuditEvent.create(actor="cli:t", action=f"app.e{i}", target="x", detail='{"n": %d}' % i,
                                  created_at=at)
        audit.record(store, "cli:t", "user.create", "a@example.com", name="A, \"quoted\"")
        day = audit_export.events(store, since=utc(2025, 1, 31), until=utc(2025, 2, 1))
        assert [e.action for e in day] == ["app.e1", "app.e2"]
        assert [e.action for e in audit_export.events(store, action="app.")][:1] == ["app.e0"]
        out = io.StringIO()
        assert audit_export.write(audit_export.events(store, action="user."), "csv", out) == 1
        row = next(csv.DictReader(io.StringIO(out.getvalue())))
        assert json.loads(row["detail"]) == {"name": 'A, "quoted"'} and row["created_at"].endswith("+00:00")
        with pytest.raises(ValidationError):
            audit_export.write(day, "xml", io.StringIO())
    finally:
        store.close()
