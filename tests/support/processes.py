"""Running the real `infer0` command: CLI calls and a `serve` process on a free loopback port."""

from __future__ import annotations

import json
import os
import random
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _port_block() -> range:
    """This test process's own ports: a slice, per pytest-xdist worker, of the 12,000 ports just
    below the kernel's ephemeral range. The kernel hands out ephemeral ports for bind(0) (the
    in-process servers) and for client connections, so a port picked there and released could be
    taken by another worker's socket before the server we start binds it; below the range, and
    in a slice no other worker picks from, nothing else takes it."""
    try:
        low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        low = 32768
    start = max(1024, low - 12000)
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1") or 1)
    index = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0)
    size = (low - start) // max(workers, 1)
    return range(start + index * size, start + (index + 1) * size)


_ports = _port_block()
_next_port = [random.randrange(len(_ports))]  # a random start: separate test runs on one machine rarely meet


def free_port() -> int:
    """A loopback port nothing listens on now, from this process's block (_port_block); the
    next call returns a different one (the block is walked in turn)."""
    for _ in range(len(_ports)):
        port = _ports[_next_port[0] % len(_ports)]
        _next_port[0] += 1
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))  # no SO_REUSEADDR: a port still in TIME_WAIT is skipped too
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free loopback port in {_ports}")


# The database the current test's infer0 subprocesses use (set by the `backend` fixture,
# tests/support/backend.py): INFER0_DATABASE_URL and PGPASSWORD for PostgreSQL, empty for SQLite.
BACKEND_ENV: dict = {}


def cli_env(extra: dict | None = None) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("INFER0_") and k != "PGPASSWORD"}
    env.update(BACKEND_ENV)
    env.update(extra or {})
    return env


def run_cli(*args: str, data_dir: Path | None = None, input: str | None = None,
            env: dict | None = None, timeout: float = 60) -> subprocess.CompletedProcess:
    argv = [sys.executable, "-m", "infer0app", *args]
    if data_dir is not None:
        argv += ["--data-dir", str(data_dir)]
    return subprocess.run(argv, input=input, capture_output=True, text=True, cwd=ROOT,
                          env=cli_env(env), timeout=timeout)


def run_cli_json(*args: str, **kw):
    proc = run_cli(*args, **kw)
    assert proc.returncode == 0, f"{args} failed: {proc.stderr}"
    return json.loads(proc.stdout)


class ServerProcess:
    """`python -m infer0app serve` on 127.0.0.1, logs captured to a file."""

    def __init__(self, data_dir: Path, *extra: str, env: dict | None = None, port: int | None = None,
                 command: list[str] | None = None, cwd: Path | None = None, exact_env: dict | None = None):
        """`exact_env` replaces the environment outright (a bare operator shell); `env` adds to ours."""
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = Path(data_dir).parent / f"server-{self.port}.log"
        argv = (command or [sys.executable, "-m", "infer0app"]) + [
            "serve", "--data-dir", str(data_dir), "--port", str(self.port), *extra]
        self._log = open(self.log_path, "wb")
        self.started = time.monotonic()
        self.proc = subprocess.Popen(argv, stdout=self._log, stderr=subprocess.STDOUT, cwd=cwd or ROOT,
                                     env=exact_env if exact_env is not None else cli_env(env))
        self.ready_after = self.wait_ready()

    def wait_ready(self, timeout: float = 30) -> float:
        """Seconds from launch to the first /healthz 200."""
        deadline = self.started + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited early ({self.proc.returncode}):\n{self.logs()}")
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=1) as resp:
                    if resp.status == 200:
                        return time.monotonic() - self.started
            except OSError:
                time.sleep(0.02)
        raise RuntimeError(f"server did not answer /healthz within {timeout}s:\n{self.logs()}")

    def logs(self) -> str:
        if not self._log.closed:
            self._log.flush()
        return self.log_path.read_text(errors="replace")

    def stop(self, sig: int | None = None, timeout: float = 15) -> int:
        import signal as _signal
        if self.proc.poll() is None:
            self.proc.send_signal(sig or _signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()
        return self.proc.returncode
