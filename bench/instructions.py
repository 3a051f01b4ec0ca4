"""Instructions per request, counted by valgrind's callgrind: a figure that does not move with
the weather of a shared machine (the same code, inputs and environment give the same count
within ~1 %, whatever else runs), where req/s and CPU µs move ±10-25 % between rounds.

    .venv/bin/python -m bench.instructions                      # bare, openai, limited, anthropic
    .venv/bin/python -m bench.instructions --experiment no-request-shape --targets openai,limited
    .venv/bin/python -m bench.instructions --requests 2000 --concurrency 16 --json out.json

The fake upstream and the OAuth set-up run natively; then the bare proxy, and infer0 (with any
`--experiment` from bench/experiments.py), each run under `valgrind --tool=callgrind` with
instrumentation off until warmed up. Per target: `--requests` POSTs at `--concurrency`
keep-alive connections, every answer checked for 200, counted between `callgrind_control -i on`
and a dump. Every thread of the server counts (usage writer, log flusher, store threads).
Periodic work runs per *second* of wall time, and under valgrind a second holds ~50x fewer
requests than natively (fewer still on a loaded machine). So infer0 runs with the bench's
`quiet-timers` experiment (cache-epoch poll and keyring watch every 60 s instead of 4 and 2 a
second; usage and limit flushers every 5 s instead of 0.5 s), and the idle rate that is left
(instructions per second with no load, measured after) times the load's duration is
subtracted: both figures are printed, "net" is the one to read. Repeat runs of the same code
differed by up to ~5 % net (the subtraction carries some of the machine's weather).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .procs import PY, Proc, free_port
from .setup_infer0 import OAuthBrowser, prepare

CHAT = "/v1/chat/completions"
BODY = json.dumps({"model": "bench-model", "messages": [{"role": "user", "content": "Say hello to the benchmark."}],
                   "max_tokens": 64}).encode()
TOTALS_RE = re.compile(rb"^totals:\s+(\d+)", re.M)


async def _load(port: int, auth: str | None, n: int, connections: int) -> dict:
    """n POSTs of the bench body over `connections` keep-alive connections; statuses counted."""
    head = (f"POST {CHAT} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(BODY)}\r\n" + (f"Authorization: {auth}\r\n" if auth else "") + "\r\n").encode()
    left = [n]
    statuses: dict[int, int] = {}
    refused: dict[int, bytes] = {}  # status -> the first answer with it (for the error message)

    async def one() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while left[0] > 0:
                left[0] -= 1
                writer.write(head + BODY)
                status, body = await asyncio.wait_for(_read_answer(reader), 120)
                statuses[status] = statuses.get(status, 0) + 1
                if status != 200 and status not in refused:
                    refused[status] = body[:400]
        finally:
            writer.close()
    started = time.perf_counter()
    await asyncio.gather(*(one() for _ in range(connections)))
    return {"seconds": time.perf_counter() - started, "statuses": statuses, "refused": refused}


async def _read_answer(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    """One HTTP/1.1 answer with a Content-Length body: (status, body)."""
    head = await reader.readuntil(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    return int(head[9:12]), await reader.readexactly(length)


class Counted:
    """A server under callgrind, instrumentation toggled by callgrind_control."""

    def __init__(self, name: str, argv: list[str], port: int, outdir: Path, logs: Path, native: bool = False):
        self.name, self.port, self.outdir, self.native = name, port, outdir, native
        self.prefix = outdir / f"{name}.cg"
        vg = ["valgrind", "--tool=callgrind", "--instr-atstart=no", f"--callgrind-out-file={self.prefix}.%p"]
        self.proc = Proc(name, argv if native else vg + argv, logs)
        self.proc.wait_http(port, "/healthz", timeout=600)
        self._dumps = 0

    def _ctl(self, *args: str) -> None:
        subprocess.run(["callgrind_control", *args, str(self.proc.pid)], check=True, capture_output=True, timeout=120)

    def count(self, work) -> tuple[int, object]:
        """Instructions the whole process executed while `work()` ran, and its result (with
        `native`, no valgrind: 0 instructions, for --cprofile)."""
        if self.native:
            return 0, work()
        self._ctl("-z")
        self._ctl("-i", "on")
        out = work()
        self._ctl("-i", "off")
        self._ctl("-d")
        self._dumps += 1
        dump = Path(f"{self.prefix}.{self.proc.pid}.{self._dumps}")
        for _ in range(600):
            if dump.exists() and TOTALS_RE.search(dump.read_bytes()):
                break
            time.sleep(0.1)
        return int(TOTALS_RE.search(dump.read_bytes()).group(1)), out

    def stop(self) -> None:
        self.proc.stop(timeout=120)


def measure(server: Counted, targets: dict[str, str | None], n: int, connections: int, idle_s: float) -> dict:
    out = {}
    for name, auth in targets.items():
        warm = asyncio.run(_load(server.port, auth, 100, connections))
        if set(warm["statuses"]) != {200}:
            raise RuntimeError(f"{name}: warm-up answered {warm['statuses']} {warm['refused']}")
        ir, res = server.count(lambda a=auth: asyncio.run(_load(server.port, a, n, connections)))
        if set(res["statuses"]) != {200}:
            raise RuntimeError(f"{name}: answered {res['statuses']} {res['refused']}")
        out[name] = {"requests": n, "instructions": ir, "seconds": round(res["seconds"], 2)}
    idle_ir, _ = server.count(lambda: time.sleep(idle_s))
    rate = idle_ir / idle_s
    for r in out.values():
        r["per_request"] = round(r["instructions"] / r["requests"])
        r["idle_per_second"] = round(rate)
        r["per_request_net"] = round((r["instructions"] - rate * r["seconds"]) / r["requests"])
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.instructions", description=__doc__.split("\n")[0])
    p.add_argument("--requests", type=int, default=1500)
    p.add_argument("--concurrency", type=int, default=16)
    p.add_argument("--idle-seconds", type=float, default=5.0)
    p.add_argument("--experiment", action="append", default=[])
    p.add_argument("--targets", default="bare,openai,limited,anthropic",
                   help="comma-separated: bare (the bare proxy), openai, limited (the OpenAI grant with limits), "
                        "anthropic")
    p.add_argument("--json", help="also write the figures here")
    p.add_argument("--cprofile", action="store_true",
                   help="no valgrind: infer0 natively with the cprofile experiment (bench/profiles/cprofile.pstats; "
                        "one target at a time gives its per-request call counts)")
    p.add_argument("--keep", action="store_true", help="keep the temporary dir (callgrind dumps, logs)")
    args = p.parse_args(argv)
    wanted = args.targets.split(",")
    tmp = Path(tempfile.mkdtemp(prefix="infer0-instr-"))
    logs = tmp / "logs"
    logs.mkdir()
    procs: list = []
    results: dict = {"requests": args.requests, "concurrency": args.concurrency, "experiments": args.experiment}
    try:
        up_port = free_port()
        upstream = Proc("upstream", [PY, "-m", "bench.upstream", "--port", str(up_port)], logs)
        procs.append(upstream)
        upstream.wait_http(up_port, "/_bench/health")
        if "bare" in wanted:
            port = free_port()
            bare = Counted("bare", [PY, "-m", "bench.bare_proxy", "--port", str(port), "--upstream",
                                    f"http://127.0.0.1:{up_port}"], port, tmp, logs)
            procs.append(bare)
            results.update(measure(bare, {"bare": None}, args.requests, args.concurrency, args.idle_seconds))
            bare.stop()
            procs.remove(bare)
        i0_targets = [t for t in wanted if t != "bare"]
        if i0_targets:
            data_dir = tmp / "data"
            fx = prepare(data_dir, up_port)
            serve = ["serve", "--data-dir", str(data_dir), "--upstream-allow", f"127.0.0.1:{up_port}"]
            port = free_port()
            native = Proc("infer0-setup", [PY, "-m", "infer0app", *serve, "--port", str(port)], logs)
            procs.append(native)
            native.wait_http(port, "/healthz")
            tokens = asyncio.run(_tokens(port, fx, data_dir, i0_targets))
            native.stop()
            procs.remove(native)
            launch = [PY, "-m", "bench.launch"]
            for name in ["quiet-timers", *args.experiment] + (["cprofile"] if args.cprofile else []):
                launch += ["--experiment", name]
            port = free_port()
            i0 = Counted("infer0", [*launch, "--", *serve, "--port", str(port)], port, tmp, logs, args.cprofile)
            procs.append(i0)
            results.update(measure(i0, {t: tokens[t] for t in i0_targets}, args.requests, args.concurrency,
                                   args.idle_seconds))
    finally:
        for proc in reversed(procs):
            proc.stop()
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            print(f"kept {tmp}", file=sys.stderr)
    if args.cprofile:
        print("profile in bench/profiles/cprofile.pstats", file=sys.stderr)
        return 0
    base = results.get("bare", {}).get("per_request_net")
    for name in wanted:
        r = results[name]
        ratio = f"  {base / r['per_request_net']:.3f} of bare" if base and name != "bare" else ""
        print(f"{name:10s} {r['per_request']:>10,} instr/request  net of idle {r['per_request_net']:>10,}{ratio}")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n")
    return 0


async def _tokens(port: int, fx, data_dir: Path, targets: list[str]) -> dict[str, str]:
    """Bearer headers for each target, through the real OAuth flow; `limited` gets its own app
    with the limits phase's caps and price (bench/limits_phase.py)."""
    from .limits_phase import _limit_grant
    from .setup_infer0 import EMAIL, REDIRECT_URI, Client, cli
    out = {}
    for name in targets:
        if name == "limited":
            made = cli(data_dir, "apps", "create", "--owner", EMAIL, "--name", "bench limited", "--redirect-uri",
                       REDIRECT_URI)
            app, provider = Client(made["client_id"], made["client_secret"]), fx.openai_provider
        else:
            app = fx.openai_app if name == "openai" else fx.anthropic_app
            provider = fx.openai_provider if name == "openai" else fx.anthropic_provider
        browser = OAuthBrowser(f"http://127.0.0.1:{port}", app)
        try:
            await browser.login()
            out[name] = "Bearer " + (await browser.tokens(provider))["access_token"]
        finally:
            await browser.close()
        if name == "limited":
            _limit_grant(data_dir, app.client_id, provider)
    return out


if __name__ == "__main__":
    sys.exit(main())
