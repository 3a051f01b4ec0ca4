"""Processes of a bench run: spawn on loopback (optionally pinned to CPUs), wait until ready,
read their memory, stop them. Only processes this module started are ever signalled."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def clean_env(extra: dict | None = None) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("INFER0_")}
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra or {})
    return env


def http_get(port: int, path: str, timeout: float = 1.0) -> tuple[int, bytes]:
    """A tiny blocking GET on 127.0.0.1 (no keep-alive)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while True:
            piece = s.recv(65536)
            if not piece:
                break
            data += piece
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), body


class Proc:
    """One child process with its log in `log_dir`."""

    def __init__(self, name: str, argv: list[str], log_dir: Path, cpus: set[int] | None = None,
                 env: dict | None = None):
        self.name, self.argv = name, argv
        self.log_path = log_dir / f"{name}.log"
        self._log = open(self.log_path, "ab")

        def pin():
            if cpus:
                os.sched_setaffinity(0, cpus)
        self.started = time.perf_counter()
        self.proc = subprocess.Popen(argv, stdout=self._log, stderr=subprocess.STDOUT, cwd=ROOT,
                                     env=clean_env(env), preexec_fn=pin)
        self.pid = self.proc.pid
        self.ready_s: float | None = None

    def wait_http(self, port: int, path: str, timeout: float = 30.0) -> float:
        """Polls GET path until 200; returns seconds since spawn."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited early ({self.proc.returncode}):\n{self.logs()[-3000:]}")
            try:
                status, _ = http_get(port, path, timeout=1.0)
                if status == 200:
                    self.ready_s = time.perf_counter() - self.started
                    return self.ready_s
            except OSError:
                pass
            time.sleep(0.002)
        raise RuntimeError(f"{self.name} not ready after {timeout}s:\n{self.logs()[-3000:]}")

    def logs(self) -> str:
        self._log.flush()
        return self.log_path.read_text(errors="replace")

    def pids(self) -> list[int]:
        """This process and its descendants (for `serve --workers N`)."""
        return [self.pid, *descendants(self.pid)]

    def cpu_seconds(self) -> float:
        return cpu_seconds(self.pids())

    def rss_kb(self) -> int:
        return sum(rss_kb(p) for p in self.pids())

    def stop(self, timeout: float = 10.0) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()


def rss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


CLK_TCK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time of these processes (all their threads), from /proc/PID/stat."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15)
        except (OSError, IndexError, ValueError):
            pass
    return total / CLK_TCK


def descendants(pid: int) -> list[int]:
    found, frontier = [], [pid]
    while frontier:
        parent = frontier.pop()
        try:
            kids = Path(f"/proc/{parent}/task/{parent}/children").read_text().split()
        except OSError:
            continue
        for k in map(int, kids):
            found.append(k)
            frontier.append(k)
    return found


class RssSampler:
    """Samples a Proc's RSS (whole process tree) every `every` seconds in a thread."""

    def __init__(self, proc: Proc, every: float = 0.05):
        import threading
        self.proc, self.every = proc, every
        self.peak_kb = 0
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak_kb = max(self.peak_kb, self.proc.rss_kb())
            self.samples += 1
            self._stop.wait(self.every)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak_kb = max(self.peak_kb, self.proc.rss_kb())


def cpu_sets(pin: bool) -> tuple[set[int] | None, set[int] | None]:
    """(server CPUs, load CPUs): with >= 2 CPUs and pinning on, the server under test gets the
    last CPU and everything else (wrk, the fake upstream, the clients) the others."""
    cpus = sorted(os.sched_getaffinity(0))
    if not pin or len(cpus) < 2:
        return None, None
    return {cpus[-1]}, set(cpus[:-1])
