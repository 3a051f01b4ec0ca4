"""Soak: N minutes of mixed load at a fixed rate against one `infer0 serve`, sampling its RSS, open
file descriptors and database size every 10 s; reports growth per hour (bench/README.md).

    .venv/bin/python -m bench.soak --minutes 10 --interval 0.2 [--out bench/soak-results.json]

The load is the kill -9 test's (tests/support/crash_traffic.py): code exchanges, refreshes,
revocations, two chat clients and a dashboard client adding provider connections, each
client starting one operation every `--interval` seconds. The first `--warmup` seconds are
left out of the growth figures (caches and pools fill there). Growth per hour is the slope
of a least-squares line through the remaining samples. Nothing is asserted: the figures are
for reading (a steady climb in RSS or fds is a leak; the database grows with what the load
writes, by design).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from infer0app.paths import db_path  # noqa: E402
from infer0app.services.datadir import open_data_dir  # noqa: E402
from tests.support.crash_traffic import Ledger, Traffic, seed  # noqa: E402
from tests.support.processes import ServerProcess  # noqa: E402


def sample(pid: int, data_dir: Path, started: float) -> dict:
    """One reading: seconds since start, RSS (KiB, /proc VmRSS), open fds, database + WAL bytes."""
    rss = 0
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            rss = int(line.split()[1])
    fds = len(list(Path(f"/proc/{pid}/fd").iterdir()))
    db = db_path(data_dir)
    size = sum(p.stat().st_size for p in (db, Path(f"{db}-wal")) if p.exists())
    return {"t": round(time.monotonic() - started, 1), "rss_kib": rss, "fds": fds, "db_bytes": size}


def per_hour(points: list[tuple[float, float]]) -> float:
    """Least-squares slope of (seconds, value), scaled to one hour."""
    n = len(points)
    if n < 2:
        return 0.0
    mean_t = sum(t for t, _ in points) / n
    mean_v = sum(v for _, v in points) / n
    var = sum((t - mean_t) ** 2 for t, _ in points)
    cov = sum((t - mean_t) * (v - mean_v) for t, v in points)
    return cov / var * 3600 if var else 0.0


async def soak(minutes: float, interval: float, every: float, warmup: float) -> dict:
    work = Path(tempfile.mkdtemp(prefix="infer0-soak-"))
    data_dir = work / "data"
    store, vault = open_data_dir(data_dir)
    try:
        scene = seed(store, vault)
    finally:
        store.close()
    server = ServerProcess(data_dir, "--log-level", "warning")
    ledger = Ledger()
    stop = asyncio.Event()
    started = time.monotonic()
    clients = asyncio.create_task(Traffic(scene, ledger, rng=random.Random(6), interval=interval).run(server.url, stop))
    samples = []
    try:
        while time.monotonic() - started < minutes * 60:
            samples.append(sample(server.proc.pid, data_dir, started))
            print(json.dumps({**samples[-1], **ledger.counts()}), flush=True)
            await asyncio.sleep(every)
            if clients.done():
                raise RuntimeError(f"the load stopped early: {clients.exception()!r}")
        samples.append(sample(server.proc.pid, data_dir, started))
    finally:
        stop.set()
        await clients
        server.stop()
    steady = [s for s in samples if s["t"] >= warmup]
    seconds = samples[-1]["t"]
    ops = {**ledger.counts(), "dead_tokens": len(ledger.dead)}
    return {
        "minutes": minutes, "interval_s": interval, "clients": 6, "warmup_s": warmup,
        "operations": ops, "refused": ledger.refused[:10],
        "chats_per_s": round(len(ledger.chats) / seconds, 1),
        "growth_per_hour": {key: round(per_hour([(s["t"], s[key]) for s in steady]))
                            for key in ("rss_kib", "fds", "db_bytes")},
        "first": steady[0] if steady else None, "last": samples[-1], "samples": samples,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--interval", type=float, default=0.2, help="seconds between one client's operations")
    parser.add_argument("--every", type=float, default=10, help="seconds between samples")
    parser.add_argument("--warmup", type=float, default=60, help="seconds left out of the growth figures")
    parser.add_argument("--out", default=str(ROOT / "bench" / "soak-results.json"))
    args = parser.parse_args()
    result = asyncio.run(soak(args.minutes, args.interval, args.every, args.warmup))
    Path(args.out).write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps({k: v for k, v in result.items() if k != "samples"}, indent=1))
    return 1 if result["refused"] else 0


if __name__ == "__main__":
    sys.exit(main())
