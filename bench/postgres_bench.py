"""infer0 on PostgreSQL, one and two instances, beside the bare proxy (`bench/run.sh --postgres`).

    .venv/bin/python -m bench.postgres_bench            # full (a few minutes)
    .venv/bin/python -m bench.postgres_bench --quick    # smoke run

A throwaway PostgreSQL cluster (tests/support/postgres.py: Debian's packages, an unprivileged
account, a temporary directory, fsync off like the tests) holds infer0's database; the upstream
and the bare proxy are bench/'s own. Measured, each as the median of `rounds`:

- chat: POST /v1/chat/completions (wrk, 32 connections) on the bare proxy, on one infer0
  instance, and on two instances sharing the database (two wrk runs at once, 16 connections
  each, the sum of their rates: a load balancer's even split);
- token endpoint: single-use code exchanges and refresh rotations, each body sent once, on one
  instance and split over two.

CPU per request is read from /proc for infer0 (all its instances) and for PostgreSQL (the
postmaster and its backends) apart: on separate machines those are what each host pays.
Writes bench/results-postgres.json (results-postgres-quick.json with --quick).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import shutil
import statistics
import sys
import threading
import time
from pathlib import Path

from . import loadgen, report, setup_infer0
from .procs import Proc, clean_env, cpu_seconds, descendants, free_port
from .runner import CHAT, REFRESH, TOKEN, Run, _body

BENCH = Path(__file__).resolve().parent


def _parallel(calls) -> list[dict]:
    """Runs the blocking `calls` (thunks) at once in threads; their results in order."""
    out: list = [None] * len(calls)

    def run(i, fn):
        out[i] = fn()
    threads = [threading.Thread(target=run, args=(i, fn)) for i, fn in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return out


class PostgresRun(Run):
    def __init__(self, args):
        super().__init__(args)
        from tests.support.postgres import PASSWORD, PostgresCluster, find_bin_dir
        bin_dir = find_bin_dir()
        if bin_dir is None:
            raise SystemExit("bench --postgres: PostgreSQL is not installed (apt-get install postgresql)")
        self.cluster = PostgresCluster(bin_dir).start()
        db = self.cluster.create_database("bench")
        self.pg_env = {"INFER0_DATABASE_URL": self.cluster.url_without_password(db), "PGPASSWORD": PASSWORD}
        self.instances: list[Proc] = []
        self._apps = itertools.count(1)  # a fresh app name per token measurement
        self.ports: list[int] = []

    def close(self) -> None:
        for p in list(self.procs):
            self.stop(p)
        self.cluster.stop()
        if not self.args.keep:
            shutil.rmtree(self.tmp, ignore_errors=True)

    # ---- processes -------------------------------------------------------------------------
    def postgres_pids(self) -> list[int]:
        pid = int((self.cluster.data / "postmaster.pid").read_text().split()[0])
        return [pid, *descendants(pid)]

    def start_instance(self, data_dir: Path) -> None:
        port = free_port()
        argv = self.infer0_argv(port)
        argv[argv.index("--data-dir") + 1] = str(data_dir)
        proc = Proc(f"infer0-pg{len(self.instances)}", argv, self.logs, cpus=self.server_cpus, env=self.pg_env)
        self.procs.append(proc)
        proc.wait_http(port, "/healthz")
        self.instances.append(proc)
        self.ports.append(port)

    def setup(self) -> None:
        self.data_dir = self.tmp / "data"
        # the CLI set-up (bench/setup_infer0.py) against the same PostgreSQL database
        setup_infer0.clean_env = lambda extra=None: clean_env({**self.pg_env, **(extra or {})})
        self.fx = setup_infer0.prepare(self.data_dir, self.up_port)
        self.start_instance(self.data_dir)
        self.i0_port, self.infer0 = self.ports[0], self.instances[0]
        asyncio.run(self.oauth(self.i0_port))

    def start_second(self) -> None:
        other = self.tmp / "data-b"
        other.mkdir(mode=0o700)
        shutil.copy2(self.data_dir / "keyring.json", other / "keyring.json")  # as on a second host
        self.start_instance(other)

    def cpu(self) -> tuple[float, float]:
        return (cpu_seconds([p for i in self.instances for p in i.pids()]), cpu_seconds(self.postgres_pids()))

    # ---- measurements ----------------------------------------------------------------------
    def chat(self, ports: list[int], auth: str | None) -> dict:
        rounds = []
        per = max(1, self.p.connections // len(ports))
        for _ in range(self.p.rounds):
            c0 = self.cpu()
            rs = _parallel([lambda port=port: loadgen.run_post(f"http://127.0.0.1:{port}{CHAT}", _body(), auth, per,
                                                               self.p.wrk_seconds, self.load_cpus)
                            for port in ports])
            rounds.append(self._sum(rs, c0))
        return self._median(rounds)

    def _sum(self, rs: list[dict], c0: tuple[float, float]) -> dict:
        c1 = self.cpu()
        ok = sum(r["ok"] for r in rs)
        return {"rps": round(sum(r["rps"] for r in rs), 1), "ok": ok,
                "errors": sum(r["status_errors"] + r["socket_errors"] for r in rs),
                "p50_us": max(r["latency_us"]["p50"] for r in rs), "p99_us": max(r["latency_us"]["p99"] for r in rs),
                "infer0_cpu_us_per_request": round((c1[0] - c0[0]) * 1e6 / max(1, ok), 1),
                "postgres_cpu_us_per_request": round((c1[1] - c0[1]) * 1e6 / max(1, ok), 1)}

    @staticmethod
    def _median(rounds: list[dict]) -> dict:
        med = sorted(rounds, key=lambda r: r["rps"])[len(rounds) // 2]
        return {**med, "rounds_rps": [r["rps"] for r in rounds], "rps": statistics.median(r["rps"] for r in rounds),
                "errors": sum(r["errors"] for r in rounds)}

    def tokens(self, ports: list[int]) -> dict:
        """A fresh app each time: a second consent for the same app is skipped (consent reuse),
        which the pool minting does not expect."""
        made = setup_infer0.cli(self.data_dir, "apps", "create", "--owner", setup_infer0.EMAIL, "--name",
                                f"bench tokens {len(ports)}.{next(self._apps)}", "--redirect-uri", setup_infer0.REDIRECT_URI)
        self.fx.token_app = setup_infer0.Client(made["client_id"], made["client_secret"])
        out = {}
        exchange, refresh, _ = self.mint_pools(self.p.token_pool)
        for name, path, bodies in (("code_exchange", TOKEN, exchange), ("refresh", REFRESH, refresh)):
            parts = [bodies[i::len(ports)] for i in range(len(ports))]
            c0 = self.cpu()
            rs = _parallel([lambda port=port, part=part: loadgen.run_fixed(
                f"http://127.0.0.1:{port}{path}", part, self.fx.token_app.basic_auth, 16 // len(ports))
                for port, part in zip(ports, parts)])
            took = max(r["duration_s"] for r in rs)
            summed = self._sum(rs, c0)
            summed["rps"] = round(summed["ok"] / took, 1) if took else 0.0
            out[name] = summed
        return out

    def bare_chat(self) -> dict:
        """The bare proxy, its own process's CPU in the infer0 column (no database)."""
        original = self.cpu
        self.cpu = lambda: (cpu_seconds(self.bare.pids()), 0.0)
        try:
            r = self.chat([self.bare_port], None)
        finally:
            self.cpu = original
        r.pop("postgres_cpu_us_per_request")
        return r

    def measure_tokens(self) -> dict:
        """--token-only: the token endpoint on one instance, once (repeat the whole run, alternating
        two builds, to compare them)."""
        return {"one_instance": {"token": self.tokens([self.ports[0]])}}

    def measure(self) -> dict:
        if self.args.token_only:
            return self.measure_tokens()
        res: dict = {"bare": {"chat": self.bare_chat()}, "one_instance": {}, "two_instances": {}}
        res["one_instance"]["chat"] = self.chat([self.ports[0]], self.auth("openai"))
        res["one_instance"]["token"] = self.tokens([self.ports[0]])
        self.start_second()
        time.sleep(0.5)
        res["two_instances"]["chat"] = self.chat(self.ports, self.auth("openai"))
        res["two_instances"]["token"] = self.tokens(self.ports)
        return res


def print_table(res: dict) -> None:
    rows = [("bare proxy, chat", res["bare"]["chat"])]
    for label, key in (("1 instance", "one_instance"), ("2 instances", "two_instances")):
        rows.append((f"{label}, chat", res[key]["chat"]))
        rows.append((f"{label}, code exchange", res[key]["token"]["code_exchange"]))
        rows.append((f"{label}, refresh", res[key]["token"]["refresh"]))
    print(f"{'':28} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'infer0 us/req':>14} {'pg us/req':>10} {'errors':>7}")
    for label, r in rows:
        print(f"{label:28} {r['rps']:>9} {r['p50_us'] / 1000:>8.2f} {r['p99_us'] / 1000:>8.2f} "
              f"{r['infer0_cpu_us_per_request']:>14} {r.get('postgres_cpu_us_per_request', '-'):>10} {r['errors']:>7}")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.postgres_bench", description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true", help="Smoke run (CI).")
    p.add_argument("--rounds", type=int, default=None)
    p.add_argument("--out", default=None)
    p.add_argument("--keep", action="store_true", help="Keep the temporary data dir and logs.")
    p.add_argument("--token-only", action="store_true",
                   help="Only the token endpoint on one instance (code exchanges, then refresh rotations): "
                        "the quick before/after measure for changes to that path.")
    args = p.parse_args(argv)
    args.pin, args.uvloop, args.experiment = False, False, []
    run = PostgresRun(args)
    try:
        run.start_upstream()
        run.start_bare()
        run.setup()
        res = run.measure()
    finally:
        run.close()
    if args.token_only:
        out = Path(args.out) if args.out else BENCH / "results-postgres-token.json"
        res["environment"] = report.environment()
        out.write_text(json.dumps(res, indent=2) + "\n")
        for name, r in res["one_instance"]["token"].items():
            print(f"{name:14} {r['rps']:>8} req/s  infer0 "
                  f"{r['infer0_cpu_us_per_request']} us/req  PostgreSQL {r['postgres_cpu_us_per_request']} us/req")
        return 0
    res["environment"] = report.environment()
    res["profile"] = {"rounds": run.p.rounds, "wrk_seconds": run.p.wrk_seconds, "connections": run.p.connections,
                      "token_pool": run.p.token_pool}
    out = Path(args.out) if args.out else BENCH / ("results-postgres-quick.json" if args.quick
                                                   else "results-postgres.json")
    out.write_text(json.dumps(res, indent=2) + "\n")
    print_table(res)
    print(f"written to {out}", file=sys.stderr)
    errors = sum(r["errors"] for r in [res["bare"]["chat"]] + [res[k]["chat"] for k in ("one_instance", "two_instances")]
                 + [res[k]["token"][t] for k in ("one_instance", "two_instances") for t in ("code_exchange", "refresh")])
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
