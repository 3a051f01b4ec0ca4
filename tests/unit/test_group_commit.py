"""Group commit: calls share a transaction, yet each caller gets exactly what a lone commit gives."""

from __future__ import annotations

import asyncio
import sqlite3
import threading

import pytest

from infer0app.services import accounts
from infer0app.services.datadir import open_data_dir
from tests.support.waits import until


@pytest.fixture
def store(tmp_path):
    store, _vault = open_data_dir(tmp_path / "d")
    yield store
    store.close()


def _emails_on_disk(store) -> set[str]:
    """Read through a separate connection: only committed rows are visible there."""
    with sqlite3.connect(store.path) as other:
        return {row[0] for row in other.execute('SELECT email FROM "user"')}


async def _group_of(store, calls):
    """Run `calls` as one group: the first holds the commit thread until the rest are queued."""
    gate, inside = threading.Event(), threading.Event()

    def first(s):
        inside.set()
        assert gate.wait(10)
        return "first"

    before = store._group_commit.groups
    tasks = [asyncio.ensure_future(store.run_grouped(first))]
    await until(inside.is_set, "the commit thread to be inside `first`")
    tasks += [asyncio.ensure_future(store.run_grouped(fn)) for fn in calls]
    await until(lambda: store._group_commit._queue.qsize() == len(calls), "the others to queue behind it")
    gate.set()
    results = await asyncio.gather(*tasks, return_exceptions=True)
    return results[1:], store._group_commit.groups - before


async def test_queued_calls_share_one_commit_and_are_on_disk_when_answered(store):
    calls = [lambda s, i=i: accounts.create_user(s, f"u{i}@example.com", None, actor="cli:test").id for i in range(10)]
    results, groups = await _group_of(store, calls)
    assert len(set(results)) == 10 and all(isinstance(r, int) for r in results)
    assert groups == 2  # the holder alone, then the ten together: one fsync for ten writes
    assert _emails_on_disk(store) >= {f"u{i}@example.com" for i in range(10)}


async def test_a_failing_call_loses_only_its_own_writes(store):
    def fails(s):
        accounts.create_user(s, "half@example.com", None, actor="cli:test")
        raise ValueError("boom")

    results, _ = await _group_of(store, [lambda s: accounts.create_user(s, "a@example.com", None, actor="cli:test").id, fails,
                                         lambda s: accounts.create_user(s, "b@example.com", None, actor="cli:test").id])
    assert isinstance(results[0], int) and isinstance(results[2], int)
    assert isinstance(results[1], ValueError)
    on_disk = _emails_on_disk(store)
    assert {"a@example.com", "b@example.com"} <= on_disk and "half@example.com" not in on_disk


async def test_a_failed_commit_fails_every_caller_and_stores_nothing(store):
    def poison(s):
        # A foreign key checked only at COMMIT: the savepoint is released fine, the commit fails.
        s.db.execute_sql("PRAGMA defer_foreign_keys = ON")
        s.db.execute_sql('INSERT INTO "web_session" (id_hash, user_id, created_at, expires_at, ip, user_agent) '
                         "VALUES ('x', 999999, 0, 0, '', '')")

    results, _ = await _group_of(store, [lambda s: accounts.create_user(s, "c@example.com", None, actor="cli:test").id, poison])
    assert all(isinstance(r, Exception) for r in results)
    assert "c@example.com" not in _emails_on_disk(store)
    # and the commit thread carries on
    assert await store.run_grouped(lambda s: accounts.create_user(s, "d@example.com", None, actor="cli:test").email) == \
        "d@example.com"
    assert "d@example.com" in _emails_on_disk(store)
