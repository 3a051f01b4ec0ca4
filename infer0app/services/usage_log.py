"""The write side of usage: the gateway's events, inserted in batches.

One transaction per batch (not per request) keeps SQLite's fsyncs off the hot path; the
same batch bumps each grant's `last_used_at`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from functools import lru_cache
from operator import attrgetter

from ..store.models import now


@dataclass(slots=True)
class UsageRecord:
    user_id: int
    app_id: int | None
    grant_id: int | None
    provider_kind: str
    model: str
    status: int
    latency_ms: float
    streamed: bool
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_tokens: int = 0
    created_at: float = field(default_factory=now)
    error_code: str = ""  # why it failed: the answered error's code (or type); '' on success (m0017)

    def fail(self, status: int, code: str | None) -> None:
        """Mark the call failed with HTTP `status` and an error code (OpenAI error object's
        `code`, else its `type`; `client_closed` for 499). Never message text: it may quote content."""
        self.status = status
        self.error_code = (code or "")[:60]


_COLUMNS = [f.name for f in fields(UsageRecord)]
# Plain prepared statements: peewee's query building cost more than the insert itself
# (bench/README.md, profile of the chat path).
#
# Rows go in CHUNK at a time, one multi-row INSERT each, not one executemany step per row:
# sqlite3 releases the GIL around every step, and while the event loop is busy each release
# costs a wait of up to the GIL switch interval to get it back. Measured with one busy Python
# thread beside it: 512 rows took ~4 s per row-by-row (holding the write lock all along, so
# token exchanges and the CLI waited too) and ~90 ms in chunks.
CHUNK = 64
MODEL_CHARS = 200  # usage_event.model is VARCHAR(200) (m0003)


@lru_cache(maxsize=CHUNK)
def _insert_sql(rows: int) -> str:
    row = f'({", ".join("?" for _ in _COLUMNS)})'
    return f'INSERT INTO "usage_event" ({", ".join(_COLUMNS)}) VALUES ' + ", ".join(row for _ in range(rows))


# One record's values in column order. Not dataclasses.astuple: it deep-copies every field and
# was more than half the cost of writing a usage row (24 of 42 µs on the bench machine).
_values = attrgetter(*_COLUMNS)
_TOUCH = ('UPDATE "grant" SET "last_used_at" = ? WHERE "id" = ? '
          'AND ("last_used_at" IS NULL OR "last_used_at" < ?)')


def insert_batch(store, records: list[UsageRecord]) -> int:
    if not records:
        return 0
    last_use: dict[int, float] = {}
    for r in records:
        if len(r.model) > MODEL_CHARS:  # the provider names the model: PostgreSQL refused a longer one
            r.model = r.model[:MODEL_CHARS]
        if r.grant_id is not None:
            last_use[r.grant_id] = max(last_use.get(r.grant_id, 0.0), r.created_at)
    with store.write():
        conn = store.raw()
        for start in range(0, len(records), CHUNK):
            chunk = records[start:start + CHUNK]
            conn.execute(_insert_sql(len(chunk)), [v for r in chunk for v in _values(r)])
        conn.executemany(_TOUCH, [(ts, grant_id, ts) for grant_id, ts in last_use.items()])
    return len(records)
