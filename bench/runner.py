"""The bench run: start everything on loopback, measure, write bench/results.json and a table.

    .venv/bin/python -m bench            # full run (a few minutes)
    .venv/bin/python -m bench --quick    # smoke run (< 1 minute); fails only on breakage
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path
from urllib.parse import urlencode

from . import clients, loadgen, report
from .compare import phase_compare
from .limits_phase import phase_limits
from .embeddings_phase import phase_embeddings
from .messages_phase import phase_messages
from .experiments import EXPERIMENTS
from .procs import PY, ROOT, Proc, RssSampler, cpu_sets, free_port, http_get
from .setup_infer0 import OAuthBrowser, prepare

BENCH = Path(__file__).resolve().parent
CHAT = "/v1/chat/completions"
TOKEN = "/v1/oauth/token"
REFRESH = "/v1/oauth/refresh"


def _body(stream: bool = False) -> bytes:
    body = {"model": "bench-model", "messages": [{"role": "user", "content": "Say hello to the benchmark."}],
            "max_tokens": 64}
    if stream:
        body["stream"] = True
    return json.dumps(body).encode()


class Profile:
    """How long and how hard each phase runs."""

    def __init__(self, quick: bool):
        self.quick = quick
        self.wrk_seconds = 1 if quick else 5
        self.rounds = 1 if quick else 5  # the machine's speed swings between 5 s rounds: more of them, median
        self.connections = 32
        self.c1_requests = 300 if quick else 3000
        self.stream_chunks = 64
        self.stream_interval_ms = 1.0 if quick else 2.0
        self.timed_streams = 5 if quick else 40
        self.many_streams = 200 if quick else 1000
        self.many_chunks = 16 if quick else 64
        self.many_interval_ms = 10.0 if quick else 20.0
        self.token_pool = 400 if quick else 4000  # each: single-use codes, then refresh tokens
        self.startup_runs = 1 if quick else 5


class Run:
    def __init__(self, args):
        self.args = args
        self.p = Profile(args.quick)
        if args.rounds:
            self.p.rounds = args.rounds
        self.tmp = Path(tempfile.mkdtemp(prefix="infer0-bench-"))
        self.logs = self.tmp / "logs"
        self.logs.mkdir()
        self.server_cpus, self.load_cpus = cpu_sets(args.pin)
        self.procs: list[Proc] = []
        self.results: dict = {"mode": "quick" if args.quick else "full", "environment": report.environment(),
                              "settings": {"pinned": self.server_cpus is not None,
                                           "server_cpus": sorted(self.server_cpus or []),
                                           "load_cpus": sorted(self.load_cpus or []),
                                           "event_loop": "uvloop" if args.uvloop else "asyncio",
                                           "experiments": args.experiment,
                                           "profile": vars(self.p)},
                              "errors": {}}
        self.broken: list[str] = []
        self.i0_port: int | None = None  # set once infer0 serves and tokens exist
        self.infer0: Proc | None = None

    # ---- processes -------------------------------------------------------------------------
    def spawn(self, name: str, argv: list[str], cpus=None) -> Proc:
        proc = Proc(name, argv, self.logs, cpus=cpus)
        self.procs.append(proc)
        return proc

    def stop(self, proc: Proc) -> None:
        proc.stop()
        if proc in self.procs:
            self.procs.remove(proc)

    def start_upstream(self) -> None:
        self.up_port = free_port()
        self.upstream = self.spawn("upstream", [PY, "-m", "bench.upstream", "--port", str(self.up_port)],
                                   self.load_cpus)
        self.upstream.wait_http(self.up_port, "/_bench/health")

    def upstream_shape(self, chunks: int, interval_ms: float) -> None:
        status, _ = http_get(self.up_port, f"/_bench/config?chunks={chunks}&interval_ms={interval_ms}")
        assert status == 200

    def bare_argv(self, port: int) -> list[str]:
        argv = [PY, "-m", "bench.bare_proxy", "--port", str(port), "--upstream", f"http://127.0.0.1:{self.up_port}"]
        return argv + (["--uvloop"] if self.args.uvloop else [])

    def start_bare(self) -> float:
        self.bare_port = free_port()
        self.bare = self.spawn("bare-proxy", self.bare_argv(self.bare_port), self.server_cpus)
        return self.bare.wait_http(self.bare_port, "/healthz")

    def infer0_argv(self, port: int, *extra: str) -> list[str]:
        if self.args.uvloop or self.args.experiment:  # the same command, patched (bench/launch.py)
            launch = [PY, "-m", "bench.launch"] + (["--uvloop"] if self.args.uvloop else [])
            for name in self.args.experiment:
                launch += ["--experiment", name]
            launch.append("--")
        else:
            launch = [PY, "-m", "infer0app"]
        # default settings (the access log on): the figures are what an operator gets
        return launch + ["serve", "--data-dir", str(self.data_dir), "--port", str(port), *self.upstream_allow(), *extra]

    def upstream_allow(self) -> list[str]:
        """The bench's fake upstream listens on loopback, which infer0 refuses unless allowed."""
        return ["--upstream-allow", f"127.0.0.1:{self.up_port}"]

    def setup_infer0(self) -> None:
        """CLI set-up, `infer0 serve`, then access tokens through the real OAuth flow."""
        self.data_dir = self.tmp / "data"
        self.fx = prepare(self.data_dir, self.up_port)
        port = free_port()
        self.infer0 = self.spawn("infer0", self.infer0_argv(port), self.server_cpus)
        self.results["startup_first_ms"]["infer0"] = round(self.infer0.wait_http(port, "/healthz") * 1000, 1)
        asyncio.run(self.oauth(port))
        self.i0_port = port

    async def oauth(self, port: int) -> None:
        for app, provider, attr in ((self.fx.openai_app, self.fx.openai_provider, "tok_openai"),
                                    (self.fx.anthropic_app, self.fx.anthropic_provider, "tok_anthropic")):
            browser = OAuthBrowser(f"http://127.0.0.1:{port}", app)
            try:
                await browser.login()
                setattr(self, attr, await browser.tokens(provider))
            finally:
                await browser.close()

    # ---- phases ----------------------------------------------------------------------------
    def targets(self, stream: bool) -> dict[str, tuple[int, bytes]]:
        body = _body(stream)
        rq = clients.build_request
        t = {"direct": (self.up_port, rq(self.up_port, CHAT, body, None)),
             "bare": (self.bare_port, rq(self.bare_port, CHAT, body, None))}
        if self.i0_port:
            t["infer0_openai"] = (self.i0_port, rq(self.i0_port, CHAT, body, self.auth("openai")))
            t["infer0_anthropic"] = (self.i0_port, rq(self.i0_port, CHAT, body, self.auth("anthropic")))
        t["bare_anthropic"] = (self.bare_port, rq(self.bare_port, "/v1/messages", body, None))
        return t

    def auth(self, which: str) -> str:
        tok = self.tok_openai if which == "openai" else self.tok_anthropic
        return f"Bearer {tok['access_token']}"

    def phase_idle_rss(self) -> None:
        # A few calls of each kind first, so lazily imported code paths are counted.
        for name, (port, req) in self.targets(False).items():
            conn = clients.BlockingConn(port)
            for _ in range(20):
                status, body = conn.roundtrip(req)
                if status != 200:
                    raise RuntimeError(f"{name}: HTTP {status}: {body[:300]!r}")
            conn.close()
        time.sleep(1.0)
        self.results["rss_idle_mb"] = {"infer0": round(self.infer0.rss_kb() / 1024, 1) if self.i0_port else None,
                                       "bare": round(self.bare.rss_kb() / 1024, 1)}

    def phase_latency(self) -> None:
        t = self.targets(False)
        res = clients.latency_c1(t, self.p.c1_requests)
        self.results["latency_c1"] = res
        for name, r in res.items():
            if r["errors"]:
                self.broken.append(f"latency_c1/{name}: {r['errors']} non-200 answers")

    def phase_throughput(self) -> None:
        urls = {"direct": (self.up_port, None), "bare": (self.bare_port, None)}
        if self.i0_port:
            urls["infer0_openai"] = (self.i0_port, self.auth("openai"))
            urls["infer0_anthropic"] = (self.i0_port, self.auth("anthropic"))
        names = list(urls)
        rounds: dict[str, list[dict]] = {n: [] for n in names}
        for _ in range(self.p.rounds):
            for n in names:
                port, auth = urls[n]
                proc = {"direct": self.upstream, "bare": self.bare}.get(n, self.infer0)
                cpu0 = proc.cpu_seconds()
                r = loadgen.run_post(f"http://127.0.0.1:{port}{CHAT}", _body(), auth, self.p.connections,
                                     self.p.wrk_seconds, self.load_cpus)
                r["server_cpu_us_per_request"] = round((proc.cpu_seconds() - cpu0) * 1e6 / max(1, r["ok"]), 1)
                rounds[n].append(r)
        out = {}
        for n, rs in rounds.items():
            rps = [r["rps"] for r in rs]
            med = sorted(rs, key=lambda r: r["rps"])[len(rs) // 2]
            out[n] = {"rps": statistics.median(rps), "rounds_rps": rps, "tool": med["tool"],
                      "server_cpu_us_per_request": med["server_cpu_us_per_request"],
                      "latency_us": med["latency_us"], "status_errors": sum(r["status_errors"] for r in rs),
                      "socket_errors": sum(r["socket_errors"] for r in rs)}
            if out[n]["status_errors"] or out[n]["socket_errors"]:
                self.broken.append(f"throughput/{n}: {out[n]['status_errors']} status and "
                                   f"{out[n]['socket_errors']} socket errors")
        self.results["throughput"] = {"connections": self.p.connections, "seconds": self.p.wrk_seconds,
                                      "rounds": self.p.rounds, "targets": out}

    def phase_streaming(self) -> None:
        self.upstream_shape(self.p.stream_chunks, self.p.stream_interval_ms)
        res = clients.stream_timing(self.targets(True), self.p.timed_streams, self.p.stream_chunks)
        self.results["streaming"] = {"chunks": self.p.stream_chunks, "interval_ms": self.p.stream_interval_ms,
                                     "targets": res}
        for name, r in res.items():
            if r["errors"] or r["lost_chunks"] or r["reordered_chunks"]:
                self.broken.append(f"streaming/{name}: {r['errors']} errors, {r['lost_chunks']} lost, "
                                   f"{r['reordered_chunks']} reordered")

    def phase_many_streams(self) -> None:
        self.upstream_shape(self.p.many_chunks, self.p.many_interval_ms)
        out = {}
        runs = [("bare", self.bare, self.bare_port, None)]
        if self.i0_port:
            runs.append(("infer0_openai", self.infer0, self.i0_port, self.auth("openai")))
        for name, proc, port, auth in runs:
            req = clients.build_request(port, CHAT, _body(True), auth)
            with RssSampler(proc) as rss:
                r = asyncio.run(clients.concurrent_streams(port, req, self.p.many_streams, self.p.many_chunks))
            r["peak_rss_mb"] = round(rss.peak_kb / 1024, 1)
            out[name] = r
            if r["failed"] or r["lost"] or r["reordered"]:
                self.broken.append(f"many_streams/{name}: {r['failed']} failed, {r['lost']} lost, "
                                   f"{r['reordered']} reordered ({r['errors']})")
            time.sleep(0.5)
        self.results["many_streams"] = {"streams": self.p.many_streams, "chunks": self.p.many_chunks,
                                        "interval_ms": self.p.many_interval_ms, "targets": out}
        self.upstream_shape(self.p.stream_chunks, 0)

    def mint_pools(self, n: int, n_refresh: int | None = None) -> tuple[list[str], list[str], float]:
        """n code-exchange bodies and n refresh bodies, each single-use, minted through the real
        consent form (and, for the refresh tokens, a real code exchange)."""
        base = f"http://127.0.0.1:{self.i0_port}"
        nr = n if n_refresh is None else n_refresh

        async def mint() -> tuple[list[str], list[str], float]:
            browser = OAuthBrowser(base, self.fx.token_app)
            try:
                await browser.login()
                started = time.perf_counter()
                sem = asyncio.Semaphore(8)

                async def one_code():
                    async with sem:
                        return await browser.code(self.fx.openai_provider)
                codes = await asyncio.gather(*(one_code() for _ in range(n + nr)))
                minted = (n + nr) / (time.perf_counter() - started)

                async def one_refresh(code):
                    async with sem:
                        return (await browser.exchange(code))["refresh_token"]
                refresh = await asyncio.gather(*(one_refresh(c) for c in codes[n:]))
                return [browser.exchange_body(c) for c in codes[:n]], list(refresh), minted
            finally:
                await browser.close()

        exchange_bodies, refresh_tokens, minted = asyncio.run(mint())
        refresh_bodies = [urlencode({"grant_type": "refresh_token", "refresh_token": t}) for t in refresh_tokens]
        return exchange_bodies, refresh_bodies, minted

    def phase_token_endpoint(self) -> None:
        base = f"http://127.0.0.1:{self.i0_port}"
        n = self.p.token_pool
        exchange_bodies, refresh_bodies, minted = self.mint_pools(n)
        out = {"pool": n, "codes_minted_per_s": round(minted, 1)}
        for name, path, bodies in (("code_exchange", TOKEN, exchange_bodies), ("refresh", REFRESH, refresh_bodies)):
            cpu0 = self.infer0.cpu_seconds()
            r = loadgen.run_fixed(base + path, bodies, self.fx.token_app.basic_auth, 16)
            r["server_cpu_us_per_request"] = round((self.infer0.cpu_seconds() - cpu0) * 1e6 / max(1, r["ok"]), 1)
            r["server_cpu_share"] = round((self.infer0.cpu_seconds() - cpu0) / r["duration_s"], 2)
            out[name] = r
            if r["socket_errors"] or r["status_errors"]:
                self.broken.append(f"token/{name}: {r['statuses']} status and {r['socket_errors']} socket errors")
        self.results["token_endpoint"] = out

    def phase_startup(self) -> None:
        def measure(name: str, make_argv, path: str) -> list[float]:
            times = []
            for i in range(self.p.startup_runs):
                port = free_port()
                proc = self.spawn(f"{name}-start{i}", make_argv(port), self.server_cpus)
                try:
                    times.append(round(proc.wait_http(port, path) * 1000, 1))
                finally:
                    self.stop(proc)
            return times
        bare = measure("bare", self.bare_argv, "/healthz")
        i0 = measure("infer0", self.infer0_argv, "/healthz") if self.infer0 else []
        self.results["startup_ms"] = {"infer0": statistics.median(i0) if i0 else None, "bare": statistics.median(bare),
                                      "infer0_runs": i0, "bare_runs": bare}

    def phase_workers(self) -> None:
        helptext = subprocess.run([PY, "-m", "infer0app", "serve", "--help"], capture_output=True, text=True,
                                  cwd=ROOT).stdout
        if "--workers" not in helptext:
            self.results["workers"] = {"supported": False,
                                       "note": "`infer0 serve --workers N` does not exist yet"}
            return
        out = {"supported": True}
        for n in (1, 2):
            port = free_port()
            proc = self.spawn(f"infer0-workers{n}", self.infer0_argv(port, "--workers", str(n)))
            try:
                proc.wait_http(port, "/healthz")
                time.sleep(0.5)
                rs = [loadgen.run_post(f"http://127.0.0.1:{port}{CHAT}", _body(), self.auth("openai"),
                                       self.p.connections, self.p.wrk_seconds, None, threads=1)
                      for _ in range(self.p.rounds)]
                out[str(n)] = {"rps": statistics.median(r["rps"] for r in rs), "rounds_rps": [r["rps"] for r in rs],
                               "processes": len(proc.pids()), "rss_mb": round(proc.rss_kb() / 1024, 1),
                               "status_errors": sum(r["status_errors"] for r in rs)}
                if out[str(n)]["status_errors"]:
                    self.broken.append(f"workers/{n}: {out[str(n)]['status_errors']} non-2xx answers")
            finally:
                self.stop(proc)
        self.results["workers"] = out

    def phase_profile(self) -> None:
        """py-spy on the server during a wrk run of each hot path; raw stacks in bench/profiles/."""
        from . import profiling
        outdir = BENCH / "profiles"
        outdir.mkdir(exist_ok=True)
        secs = self.args.profile_seconds
        out = {}
        jobs = [("bare", self.bare, self.bare_port, CHAT, None),
                ("infer0_openai", self.infer0, self.i0_port, CHAT, self.auth("openai")),
                ("infer0_anthropic", self.infer0, self.i0_port, CHAT, self.auth("anthropic"))]
        for name, proc, port, path, auth in jobs:
            if self.args.profile_only and not any(name.startswith(o) for o in self.args.profile_only):
                continue
            raw = outdir / f"{name}.txt"
            with profiling.Recording(proc.pid, secs, raw, gil=self.args.profile_gil):
                r = loadgen.run_post(f"http://127.0.0.1:{port}{path}", _body(), auth, self.p.connections, secs,
                                     self.load_cpus)
            out[name] = {"rps_while_profiled": r["rps"], **profiling.summarize(raw)}
        self.upstream_shape(self.p.stream_chunks, 0)
        token_jobs = [("token_code_exchange", TOKEN), ("token_refresh", REFRESH)]
        if self.args.profile_only:
            token_jobs = [j for j in token_jobs if any(j[0].startswith(o) for o in self.args.profile_only)]
        pool = int(secs * 800) if token_jobs else 0
        codes, refresh, _ = self.mint_pools(pool, pool) if token_jobs else ([], [], 0)
        for name, path in token_jobs:
            bodies = codes if path == TOKEN else refresh
            raw = outdir / f"{name}.txt"
            with profiling.Recording(self.infer0.pid, secs, raw, gil=self.args.profile_gil):
                r = loadgen.run_fixed(f"http://127.0.0.1:{self.i0_port}{path}", bodies, self.fx.token_app.basic_auth,
                                      16)
            out[name] = {"rps_while_profiled": r["rps"], **profiling.summarize(raw)}
        self.results["profile"] = out

    # ---- driver ----------------------------------------------------------------------------
    def phase(self, name: str, fn) -> None:
        if self.args.phases and name not in self.args.phases and name != "infer0_setup":
            return
        print(f"[bench] {name} …", file=sys.stderr, flush=True)
        started = time.perf_counter()
        try:
            fn()
        except Exception as exc:  # noqa: BLE001 - a broken phase is reported, the rest still run
            self.results["errors"][name] = f"{type(exc).__name__}: {exc}"
            self.broken.append(f"{name}: {type(exc).__name__}: {exc}")
            traceback.print_exc()
        self.results.setdefault("phase_seconds", {})[name] = round(time.perf_counter() - started, 2)

    def run(self) -> int:
        started = time.perf_counter()
        try:
            self.start_upstream()
            self.results["startup_first_ms"] = {"bare": round(self.start_bare() * 1000, 1)}
            self.phase("infer0_setup", self.setup_infer0)
            self.phase("idle_rss", self.phase_idle_rss)
            self.phase("latency_c1", self.phase_latency)
            self.phase("throughput", self.phase_throughput)
            self.phase("streaming", self.phase_streaming)
            self.phase("many_streams", self.phase_many_streams)
            if self.i0_port:
                self.phase("limits", lambda: phase_limits(self, CHAT, _body()))
                self.phase("messages", lambda: phase_messages(self, CHAT, _body()))
            if self.i0_port:
                self.phase("embeddings", lambda: phase_embeddings(self))
            if self.i0_port:
                self.phase("token_endpoint", self.phase_token_endpoint)
            self.phase("startup", self.phase_startup)
            if self.i0_port and not self.args.no_workers:
                self.phase("workers", self.phase_workers)
            if self.i0_port and self.args.profile:
                self.phase("profile", self.phase_profile)
            if self.i0_port and self.args.compare:
                self.phase("compare", lambda: phase_compare(self, CHAT, _body()))
        except Exception as exc:  # noqa: BLE001
            traceback.print_exc()
            self.broken.append(f"setup: {type(exc).__name__}: {exc}")
            self.results["errors"]["setup"] = f"{type(exc).__name__}: {exc}"
        finally:
            for proc in list(reversed(self.procs)):
                self.stop(proc)
        self.results["environment"]["loadavg_at_end"] = [round(x, 2) for x in os.getloadavg()]
        self.results["seconds"] = round(time.perf_counter() - started, 1)
        from .summary import summarize
        rows, checks = summarize(self.results)
        self.results["table"] = rows
        self.results["targets"] = checks
        self.results["broken"] = self.broken
        out = Path(self.args.out)
        out.write_text(json.dumps(self.results, indent=2) + "\n")
        print(report.table(rows))
        print(f"\nwrote {out} ({self.results['seconds']} s, mode {self.results['mode']})")
        if self.broken:
            print("\nBROKEN:\n  " + "\n  ".join(self.broken), file=sys.stderr)
            print(f"logs kept in {self.logs}", file=sys.stderr)
            return 1
        if not self.args.keep:
            shutil.rmtree(self.tmp, ignore_errors=True)
        return 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true", help="Smoke run in under a minute (CI).")
    p.add_argument("--out", help="Where to write the JSON results (default: bench/results.json for a plain full "
                                 "run, bench/results-quick.json with --quick, bench/results-variant.json otherwise).")
    p.add_argument("--rounds", type=int, default=None,
                   help="Interleaved throughput rounds per target (default 5; 1 with --quick); the median counts.")
    p.add_argument("--pin", action="store_true", help="Pin the server under test to the last CPU, the load to the others.")
    p.add_argument("--uvloop", action="store_true", help="Run infer0 and the bare proxy on uvloop.")
    p.add_argument("--no-workers", action="store_true", help="Skip the `serve --workers` phase.")
    p.add_argument("--keep", action="store_true", help="Keep the temporary data dir and logs.")
    p.add_argument("--profile", action="store_true", help="Also profile each hot path with py-spy (bench/profiles/).")
    p.add_argument("--profile-seconds", type=float, default=8.0)
    p.add_argument("--profile-gil", action="store_true",
                   help="Sample only the thread holding the GIL (py-spy --gil): Python CPU, not waiting.")
    p.add_argument("--profile-only", type=lambda v: v.split(","), default=None,
                   help="Profile only these (prefixes of): bare, infer0_openai, infer0_anthropic, token_code_exchange, "
                        "token_refresh.")
    p.add_argument("--experiment", action="append", default=[], choices=sorted(EXPERIMENTS),
                   help="Patch the bench's infer0 process with a measurement aid (bench/experiments.py).")
    p.add_argument("--compare", choices=sorted(EXPERIMENTS), default=None,
                   help="A/B in one run: infer0 against a second infer0 with this experiment, interleaved rounds "
                        "(bench/compare.py); only the compare phase runs unless --phases says otherwise.")
    p.add_argument("--phases", type=lambda v: set(v.split(",")), default=None,
                   help="Run only these phases (comma-separated: idle_rss, latency_c1, throughput, streaming, "
                        "many_streams, limits, messages, token_endpoint, startup, workers, profile, compare).")
    args = p.parse_args(argv)
    if args.compare and not args.phases:
        args.phases = {"compare"}
    variant = bool(args.phases or args.experiment or args.uvloop or args.pin or args.rounds or args.compare)
    default = "results-quick.json" if args.quick else "results-variant.json" if variant else "results.json"
    args.out = args.out or str(BENCH / default)  # results.json only ever holds a plain full run
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, 16384)), hard))
    run = Run(args)
    if run.load_cpus:
        os.sched_setaffinity(0, run.load_cpus)
    return run.run()
