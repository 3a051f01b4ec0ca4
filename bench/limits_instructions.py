"""Instructions per limited call in the gate alone: `LimitGate.reserve` + `Reservation.headers` +
`settle` in steady state (leases full, no flush), one task, counted by callgrind.

    UNDER_CG=1 PYTHONHASHSEED=0 valgrind --tool=callgrind --instr-atstart=no \
        --callgrind-out-file=/tmp/gate.%p .venv/bin/python bench/limits_instructions.py limited 3000
    grep totals /tmp/gate.*      # divided by 3000: instructions per call ("free": a grant without limits)

Counting starts after a warm-up (callgrind_control -i on from inside), so interpreter start-up,
imports and the database set-up are not in the figure.
"""
from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from infer0app.services import limit_ledger as ledger  # noqa: E402 (after the path)
from infer0app.services.datadir import open_data_dir  # noqa: E402
from infer0app.services.limits import LimitGate  # noqa: E402
from infer0app.services.pricing import Price, PriceTable  # noqa: E402
from tests.support.seed import seed_grant  # noqa: E402

BODY = {"model": "m", "messages": [{"role": "user", "content": "hello"}], "max_tokens": 64}
WARM_UP = 500


def _callgrind(*args: str) -> None:
    """Drive callgrind from inside (only when run under it: UNDER_CG=1)."""
    if os.environ.get("UNDER_CG"):
        subprocess.run(["callgrind_control", *args, str(os.getpid())], check=True, capture_output=True)


async def main(case: str, calls: int) -> None:
    tmp = Path(tempfile.mkdtemp())
    store, vault = open_data_dir(tmp / "d")
    try:
        seeded = seed_grant(store, vault, kind="sandbox")
        if case == "limited":
            ledger.set_connection_price(store, seeded.provider_id, "", Price(input=0.15, output=0.6))
            ledger.set_grant_limits(store, seeded.grant_id, requests_per_minute=10**8, tokens_per_day=10**12,
                                    spend_per_month_micro_usd=10**12)
        # no lease renewal or idle give-back in the counted stretch: the per-call path alone
        gate = LimitGate(store, PriceTable.load(), lease_ttl=1e9, idle_return=1e9)

        async def one() -> None:  # what the chat handler does around the provider call
            if gate.unlimited(seeded.grant_id, seeded.provider_id):
                return
            res = await gate.reserve(seeded.grant_id, seeded.provider_id, "sandbox", "x", BODY, 180)
            if res.seen:
                res.headers()
            gate.settle(res, 40, 20)

        for _ in range(WARM_UP):
            await one()
        _callgrind("-z")
        _callgrind("-i", "on")
        for _ in range(calls):
            await one()
        _callgrind("-i", "off")
        _callgrind("-d")
    finally:
        store.close()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1] if len(sys.argv) > 1 else "limited", int(sys.argv[2]) if len(sys.argv) > 2 else 3000))
