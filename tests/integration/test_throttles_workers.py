"""Throttles hold in total across `infer0 serve --workers 2` (issue 15 §3): both processes count
failures in the database, so an attacker gets each limit once, not once per worker. Each test
spreads its attempts over both workers (a new connection per request; tests/support/throttle_spread.py).
The same scenarios run on two PostgreSQL instances in postgres/test_two_instances_throttles.py."""

from __future__ import annotations

import asyncio
import sqlite3

import pytest

from tests.support import throttle_spread


def _live_servers(data_dir) -> int:
    with sqlite3.connect(data_dir / "infer0.sqlite3") as db:
        return db.execute('SELECT COUNT(*) FROM "server_instance"').fetchone()[0]


@pytest.fixture
async def two_workers(data_dir, serve_process):
    """The URL of `serve --workers 2`, once both workers have announced themselves."""
    server = serve_process("--workers", "2", *throttle_spread.SERVER_FLAGS)
    for _ in range(300):
        if _live_servers(data_dir) == 2:
            break
        await asyncio.sleep(0.05)
    assert _live_servers(data_dir) == 2
    return [server.url]


@pytest.mark.parametrize("scenario", ["sign_in", "sign_up", "device_code", "client_registration",
                                      "token_client_auth"])
async def test_each_throttle_holds_in_total_over_two_workers(two_workers, scenario):
    await getattr(throttle_spread, scenario)(two_workers)
