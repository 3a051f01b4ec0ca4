"""Two server processes share one grant's cap through the database (as `serve --workers 2` do)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from infer0app.services import limit_ledger as ledger
from tests.support.backend import BACKENDS, open_data_dir
from tests.support.seed import seed_grant

ROOT = Path(__file__).resolve().parents[2]

WORKER = textwrap.dedent("""
    import asyncio, os, sys
    from infer0app.services.datadir import open_data_dir
    from infer0app.services.limits import LimitGate, Reservation
    from infer0app.services.pricing import PriceTable

    data_dir, grant_id, provider_id, tries, t = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])
    body = {"messages": [], "max_tokens": 100}

    async def main():
        store, _ = open_data_dir(data_dir, create=False, database_url=os.environ.get("TEST_DATABASE_URL", ""))
        gate = LimitGate(store, PriceTable.load(), clock=lambda: t)
        ok = 0
        for _ in range(tries):
            res = await gate.reserve(grant_id, provider_id, "sandbox", "sandbox-echo-1", body, 400)
            if isinstance(res, Reservation):
                ok += 1
                gate.settle(res, 100, 100)
            await asyncio.sleep(0)
        await gate.close()
        store.close()
        print(ok)

    asyncio.run(main())
""")


@pytest.mark.parametrize("backend", BACKENDS, indirect=True)  # one file, or one PostgreSQL for two hosts
def test_two_processes_never_pass_more_than_the_cap_together(tmp_path, backend):
    data_dir = tmp_path / "d"
    store, vault = open_data_dir(data_dir)
    seeded = seed_grant(store, vault, kind="sandbox")
    ledger.set_grant_limits(store, seeded.grant_id, tokens_per_day=30 * 200)
    store.close()
    t = "1778058000"  # 2026-05-06 09:00 UTC, the same window for both
    args = [str(data_dir), str(seeded.grant_id), str(seeded.provider_id), "25", t]
    procs = [subprocess.Popen([sys.executable, "-c", WORKER, *args], cwd=ROOT, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, env={"PYTHONPATH": str(ROOT), "TEST_DATABASE_URL": backend.database_url})
             for _ in range(2)]
    outs = [p.communicate(timeout=120) for p in procs]
    assert all(p.returncode == 0 for p in procs), [err for _, err in outs]
    passed = [int(out.strip()) for out, _ in outs]
    assert sum(passed) == 30 and min(passed) >= 5  # both took part; together exactly the cap

    store, _ = open_data_dir(data_dir, create=False)
    try:
        used, = store.db.execute_sql('SELECT "used" FROM "limit_counter" WHERE "metric" = ?', ("tokens",)).fetchone()
        leases, = store.db.execute_sql('SELECT COUNT(*) FROM "limit_lease"').fetchone()
    finally:
        store.close()
    assert used == 30 * 200 and leases == 0  # every settled token reported, every lease released
