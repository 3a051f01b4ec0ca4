"""Instructions per limited call in the gate alone: `LimitGate.reserve` + `Reservation.headers` +
`settle` in steady state (leases full, no flush), one task, counted by callgrind.

    valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file=/tmp/gate.%p \
        env UNDER_CG=1 PYTHONHASHSEED=0 .venv/bin/python bench/limits_instructions.py limited 3000
    grep totals /tmp/gate.*      # divided by 3000: instructions per call ("free": a grant without limits)

Counting starts after a warm-up (callgrind_control -i on from inside), so interpreter start-up,
imports and the database set-up are not in the figure.
"""
import asyncio, os, subprocess, sys, tempfile
from pathlib import Path
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from infer0app.services import limit_ledger as ledger
from infer0app.services.datadir import open_data_dir
from infer0app.services.limits import LimitGate
from infer0app.services.pricing import Price, PriceTable
from tests.support.seed import seed_grant

BODY = {"model": "m", "messages": [{"role": "user", "content": "hello"}], "max_tokens": 64}
N = int(sys.argv[2]) if len(sys.argv) > 2 else 5000
CASE = sys.argv[1]

def ctl(*a):
    if os.environ.get("UNDER_CG"):
        subprocess.run(["callgrind_control", *a, str(os.getpid())], check=True, capture_output=True)

async def main():
    tmp = tempfile.mkdtemp()
    store, vault = open_data_dir(Path(tmp) / "d")
    s = seed_grant(store, vault, kind="sandbox")
    if CASE == "limited":
        ledger.set_connection_price(store, s.provider_id, "", Price(input=0.15, output=0.6))
        ledger.set_grant_limits(store, s.grant_id, requests_per_minute=10**8, tokens_per_day=10**12,
                                spend_per_month_micro_usd=10**12)
    gate = LimitGate(store, PriceTable.load(), lease_ttl=1e9, idle_return=1e9)
    async def one():
        if gate.unlimited(s.grant_id, s.provider_id):
            return
        r = await gate.reserve(s.grant_id, s.provider_id, "sandbox", "x", BODY, 180)
        if r.seen:
            r.headers()
        gate.settle(r, 40, 20)
    for _ in range(500):
        await one()
    ctl("-z"); ctl("-i", "on")
    for _ in range(N):
        await one()
    ctl("-i", "off"); ctl("-d")
    store.close()

asyncio.run(main())
