"""Measures start-up to the first served request: exec `<command> serve` on a fresh data dir
and poll GET /healthz until it answers 200. Prints min / median / max over several runs.

    .venv/bin/python build/startup_time.py dist/infer0
    .venv/bin/python build/startup_time.py dist/infer0-onedir/infer0
    .venv/bin/python build/startup_time.py .venv/bin/python -m infer0app
    .venv/bin/python build/startup_time.py --runs 10 --warm-data-dir dist/infer0

A fresh data dir includes creating the keyring and applying every migration (the first start
on a new VPS); --warm-data-dir starts on an existing one (every later restart).
"""

from __future__ import annotations

import argparse
import http.client
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def healthy(port: int) -> bool:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
    try:
        conn.request("GET", "/healthz")
        return conn.getresponse().status == 200
    except OSError:
        return False
    finally:
        conn.close()


def one_run(command: list[str], data_dir: Path) -> float:
    port = free_port()
    start = time.perf_counter()
    proc = subprocess.Popen([*command, "serve", "--data-dir", str(data_dir), "--port", str(port),
                             "--log-level", "warning"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while not healthy(port):
            if proc.poll() is not None:
                raise SystemExit(f"server exited with {proc.returncode}")
            if time.perf_counter() - start > 60:
                raise SystemExit("server did not answer within 60 s")
            time.sleep(0.005)
        return time.perf_counter() - start
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--warm-data-dir", action="store_true", help="Reuse one data dir for every run.")
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    if not args.command:
        parser.error("give the command to start, e.g. dist/infer0")
    times = []
    with tempfile.TemporaryDirectory(prefix="infer0-startup-") as tmp:
        if args.warm_data_dir:
            one_run(args.command, Path(tmp) / "data")  # create it once, not timed
        for i in range(args.runs):
            data_dir = Path(tmp) / ("data" if args.warm_data_dir else f"data{i}")
            times.append(one_run(args.command, data_dir))
    ms = sorted(t * 1000 for t in times)
    print(f"{' '.join(args.command)}: start-up to first served request over {len(ms)} runs "
          f"({'existing' if args.warm_data_dir else 'new'} data dir): "
          f"min {ms[0]:.0f} ms, median {statistics.median(ms):.0f} ms, max {ms[-1]:.0f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
