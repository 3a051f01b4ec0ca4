"""On PostgreSQL each instance LISTENs for the cache-epoch notifications (runtime/cache_listen.py),
and keeps listening when its connection is cut: it reconnects by itself, and a revocation made
on another instance afterwards still bites (the poll covers the gap meanwhile)."""

from __future__ import annotations

import asyncio
import time

import aiohttp

from tests.integration.postgres.test_two_instances import _me, _redeem
from tests.support.backend import open_data_dir
from tests.support.oauth import basic
from tests.support.served_flow import approved_code

_LISTENERS = ("SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
              "AND application_name = 'infer0-listen' AND query = 'LISTEN infer0_cache_epoch'")


async def _listeners(data_dir, deadline_s: float, want: int, *, other_than: set[int] = frozenset()) -> set[int]:
    """The backends LISTENing for infer0 in this test's database, once `want` not in `other_than` show up."""
    end = time.monotonic() + deadline_s
    store, _ = open_data_dir(data_dir, create=False)
    try:
        while True:
            pids = {row[0] for row in store.db.execute_sql(_LISTENERS).fetchall()}
            if len(pids - other_than) >= want or time.monotonic() >= end:
                return pids
            await asyncio.sleep(0.05)
    finally:
        store.close()


def _terminate(data_dir, pids: set[int]) -> None:
    store, _ = open_data_dir(data_dir, create=False)
    try:
        for pid in pids:
            assert store.db.execute_sql("SELECT pg_terminate_backend(%s)", (pid,)).fetchone()[0]
    finally:
        store.close()


async def test_each_instance_listens_and_reconnects_after_its_connection_is_cut(serve_process, second_instance,
                                                                                 data_dir):
    a = serve_process()
    b = second_instance()
    first = await _listeners(data_dir, 20, 2)
    assert len(first) == 2  # one LISTEN connection per instance
    app, code = await approved_code(a.url, data_dir)
    _terminate(data_dir, first)  # an administrator, a failover or a network cut drops both
    again = await _listeners(data_dir, 30, 2, other_than=first)
    assert len(again) == 2 and not again & first
    async with aiohttp.ClientSession() as http:
        status, tokens = await _redeem(http, a.url, app, code)
        assert status == 200, tokens
        token = tokens["access_token"]
        assert await _me(http, a.url, token) == 200  # now cached on A
        async with http.post(b.url + "/v1/oauth/revoke", data={"token": token},
                             headers={"Authorization": basic(app["client_id"], app["client_secret"])}) as resp:
            assert resp.status == 200
        await asyncio.sleep(1.0)  # the promise: within a second on every instance
        assert await _me(http, a.url, token) == 401 and await _me(http, b.url, token) == 401
    assert "cache notifications: connection lost" in a.logs()
    assert "cache notifications: listening again" in a.logs()
