"""The usage writer tells a row the database refuses from a database that is only busy.

A batch the database refuses because of a value (an integer past the column) is written row by
row and only the refused rows are dropped (tests/integration/api/test_odd_upstream_replies.py).
A write that fails for any other reason (here: SQLite's write lock held by another process, the
CLI or a worker, past busy_timeout) must keep every event for the next flush: dropping them
would lose usage records for good."""

from __future__ import annotations

import sqlite3

from infer0app.runtime.usage_recorder import UsageRecorder
from infer0app.services.datadir import open_data_dir
from infer0app.services.usage_log import UsageRecord
from infer0app.store.models import UsageEvent
from tests.support.seed import seed_grant


async def test_a_locked_database_keeps_the_events_for_the_next_flush(tmp_path):
    store, vault = open_data_dir(tmp_path / "d")
    try:
        seeded = seed_grant(store, vault, kind="sandbox")
        recorder = UsageRecorder(store)
        recorder.record(UsageRecord(user_id=seeded.user_id, app_id=seeded.app_id, grant_id=seeded.grant_id,
                                    provider_kind="sandbox", model="m", status=200, latency_ms=1.0, streamed=False,
                                    prompt_tokens=3, completion_tokens=2))
        blocker = sqlite3.connect(store.path)
        blocker.execute("BEGIN IMMEDIATE")  # another process holds the write lock
        try:
            await recorder.flush()  # waits out busy_timeout, then "database is locked"
            assert recorder.pending == 1, "an event was dropped because the database was busy"
        finally:
            blocker.rollback()
            blocker.close()
        await recorder.flush()
        assert recorder.pending == 0
        rows = await store.run(lambda _s: list(UsageEvent.select().where(UsageEvent.grant_id == seeded.grant_id)))
        assert [(r.prompt_tokens, r.completion_tokens) for r in rows] == [(3, 2)]
    finally:
        store.close()
