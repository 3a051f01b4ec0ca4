"""Load generators. Throughput: wrk (C, from Debian) driven by bench/wrk/post.lua, or, where
wrk is missing, a small asyncio generator so the smoke run still works (its figures are then
limited by the client and marked as such)."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from .procs import clean_env

WRK_DIR = Path(__file__).resolve().parent / "wrk"


def wrk_path() -> str | None:
    if os.environ.get("BENCH_NO_WRK"):  # force the fallback (to test it)
        return None
    return shutil.which("wrk")


def wrk_version() -> str | None:
    exe = wrk_path()
    if not exe:
        return None
    out = subprocess.run([exe, "--version"], capture_output=True, text=True).stdout
    return out.splitlines()[0].strip() if out else "wrk"


def _summary(raw: dict, tool: str, connections: int) -> dict:
    secs = raw["duration_us"] / 1e6
    bad = raw["errors"]["status"]
    failed = sum(raw["errors"][k] for k in ("connect", "read", "write", "timeout"))
    ok = max(0, raw["requests"] - bad)
    return {"tool": tool, "connections": connections, "duration_s": round(secs, 3),
            "requests": raw["requests"], "ok": ok, "rps": round(ok / secs, 1) if secs else 0.0,
            "status_errors": bad, "socket_errors": failed, "latency_us": raw["latency_us"]}


def run_post(url: str, body: bytes, auth: str | None, connections: int, seconds: float,
             cpus: set[int] | None = None, threads: int = 1) -> dict:
    """POST `body` to `url` as fast as `connections` keep-alive connections allow."""
    if wrk_path() is None:
        return asyncio.run(_py_load(url, body, auth, connections, seconds))
    with tempfile.TemporaryDirectory() as tmp:
        body_file = Path(tmp, "body.json")
        body_file.write_bytes(body)
        env = {"BENCH_BODY_FILE": str(body_file), "BENCH_AUTH": auth or "", "BENCH_OUT": str(Path(tmp, "out.json"))}
        return _wrk("post.lua", url, env, connections, seconds, cpus, threads, Path(tmp, "out.json"))


def _wrk(script: str, url: str, env: dict, connections: int, seconds: float, cpus, threads: int,
         out: Path) -> dict:
    threads = max(1, min(threads, connections))
    argv = [wrk_path(), "-t", str(threads), "-c", str(connections), "-d", f"{max(1, round(seconds))}s",
            "--timeout", "10s", "-s", str(WRK_DIR / script), url]

    def pin():
        if cpus:
            os.sched_setaffinity(0, cpus)
    proc = subprocess.run(argv, capture_output=True, text=True, env=clean_env(env), preexec_fn=pin,
                          timeout=seconds + 30)
    if proc.returncode != 0 or not out.exists():
        raise RuntimeError(f"wrk failed ({proc.returncode}): {proc.stderr or proc.stdout}")
    return _summary(json.loads(out.read_text()), "wrk", connections)


async def _py_load(url: str, body: bytes, auth: str | None, connections: int, seconds: float) -> dict:
    from urllib.parse import urlsplit
    u = urlsplit(url)
    head = (f"POST {u.path or '/'} HTTP/1.1\r\nHost: {u.netloc}\r\nContent-Type: application/json\r\n"
            + (f"Authorization: {auth}\r\n" if auth else ""))
    lat: list[float] = []
    counts = {"requests": 0, "status": 0, "read": 0, "bytes": 0}
    deadline = time.perf_counter() + seconds

    async def one_conn():
        try:
            reader, writer = await asyncio.open_connection(u.hostname, u.port)
        except OSError:
            counts["read"] += 1
            return
        try:
            while time.perf_counter() < deadline:
                t0 = time.perf_counter()
                writer.write(f"{head}Content-Length: {len(body)}\r\n\r\n".encode() + body)
                status, n = await read_response(reader)
                lat.append(time.perf_counter() - t0)
                counts["requests"] += 1
                counts["bytes"] += n
                if status >= 400:
                    counts["status"] += 1
        except (OSError, asyncio.IncompleteReadError):
            counts["read"] += 1
        finally:
            writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(one_conn() for _ in range(connections)))
    took = time.perf_counter() - started
    lat.sort()

    def pct(p):
        return int(lat[min(len(lat) - 1, int(len(lat) * p / 100))] * 1e6) if lat else 0
    raw = {"requests": counts["requests"], "duration_us": int(took * 1e6), "bytes": counts["bytes"],
           "errors": {"connect": 0, "read": counts["read"], "write": 0, "status": counts["status"], "timeout": 0},
           "latency_us": {"p50": pct(50), "p90": pct(90), "p99": pct(99),
                          "mean": round(sum(lat) / len(lat) * 1e6, 1) if lat else 0, "max": pct(100)}}
    return _summary(raw, "python-fallback (client-bound)", connections)


def run_fixed(url: str, bodies: list[str], auth: str | None, connections: int) -> dict:
    """Sends every body exactly once over `connections` keep-alive connections and times the
    whole batch: for single-use credentials, where a timed run could outlast its pool."""
    return asyncio.run(_fixed(url, [b.encode() for b in bodies], auth, connections))


async def _fixed(url: str, bodies: list[bytes], auth: str | None, connections: int) -> dict:
    from urllib.parse import urlsplit
    u = urlsplit(url)
    head = (f"POST {u.path} HTTP/1.1\r\nHost: {u.netloc}\r\nContent-Type: application/x-www-form-urlencoded\r\n"
            + (f"Authorization: {auth}\r\n" if auth else ""))
    pending = iter(bodies)
    lat: list[float] = []
    counts = {"ok": 0, "status": 0, "socket": 0}
    statuses: dict[int, int] = {}

    async def one_conn():
        reader, writer = await asyncio.open_connection(u.hostname, u.port)
        try:
            for body in pending:
                t0 = time.perf_counter()
                writer.write(f"{head}Content-Length: {len(body)}\r\n\r\n".encode() + body)
                status, _ = await read_response(reader)
                lat.append(time.perf_counter() - t0)
                if status >= 400:
                    counts["status"] += 1
                    statuses[status] = statuses.get(status, 0) + 1
                else:
                    counts["ok"] += 1
        except (OSError, asyncio.IncompleteReadError):
            counts["socket"] += 1
        finally:
            writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(one_conn() for _ in range(connections)))
    took = time.perf_counter() - started
    lat.sort()

    def pct(p):
        return int(lat[min(len(lat) - 1, int(len(lat) * p / 100))] * 1e6) if lat else 0
    return {"tool": "python asyncio, fixed count", "connections": connections, "duration_s": round(took, 3),
            "requests": len(lat), "ok": counts["ok"], "rps": round(counts["ok"] / took, 1) if took else 0.0,
            "status_errors": counts["status"], "statuses": statuses, "socket_errors": counts["socket"],
            "latency_us": {"p50": pct(50), "p90": pct(90), "p99": pct(99),
                           "mean": round(sum(lat) / len(lat) * 1e6, 1) if lat else 0, "max": pct(100)}}


async def read_response(reader: asyncio.StreamReader) -> tuple[int, int]:
    """Reads one HTTP/1.1 response (Content-Length or chunked); returns (status, body bytes)."""
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length, chunked = None, False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"transfer-encoding" and b"chunked" in value.lower():
            chunked = True
    if chunked:
        total = 0
        while True:
            size = int((await reader.readline()).split(b";")[0], 16)
            await reader.readexactly(size + 2)
            total += size
            if size == 0:
                return status, total
    body = await reader.readexactly(length or 0)
    return status, len(body)
