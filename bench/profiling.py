"""Sampling profiles of a server under load with py-spy (attached by PID, so the server runs
exactly as benchmarked), summarised as the functions with the most samples."""

from __future__ import annotations

import shutil
import subprocess
import sys
import threading
from collections import Counter
from pathlib import Path


def py_spy() -> str | None:
    local = Path(sys.executable).with_name("py-spy")
    return str(local) if local.exists() else shutil.which("py-spy")


class Recording:
    """`py-spy record` on `pid` for `seconds`, in the background; collapsed stacks to `out`."""

    def __init__(self, pid: int, seconds: float, out: Path, rate: int = 250, gil: bool = False):
        self.out = out
        exe = py_spy()
        if exe is None:
            raise RuntimeError("py-spy is not installed (.venv/bin/python -m pip install py-spy)")
        self.argv = [exe, "record", "--pid", str(pid), "--duration", str(max(1, round(seconds))),
                     "--rate", str(rate), "--format", "raw", "--output", str(out), "--nonblocking"]
        if gil:  # only the thread holding the GIL: where Python CPU goes, not where threads wait
            self.argv.append("--gil")
        self.proc: subprocess.Popen | None = None

    def __enter__(self):
        self.proc = subprocess.Popen(self.argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        threading.Event().wait(0.3)  # let it attach before the load starts
        return self

    def __exit__(self, *exc):
        try:
            self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def _frames(stack: str) -> list[str]:
    return [f for f in stack.split(";") if f]


def _short(frame: str) -> str:
    # "func (path/to/file.py:123)" -> "func (file.py:123)"; keeps package context for infer0app.
    if "(" not in frame:
        return frame
    name, _, where = frame.partition(" (")
    where = where.rstrip(")")
    path, _, line = where.rpartition(":")
    parts = Path(path).parts
    if "infer0app" in parts:
        path = "/".join(parts[parts.index("infer0app"):])
    elif "site-packages" in parts:
        path = "/".join(parts[parts.index("site-packages") + 1:])
    else:
        path = "/".join(parts[-2:])
    return f"{name} ({path}:{line})" if line else f"{name} ({path})"


def _func(frame: str) -> str:
    """Frame without its line number, so one function's samples add up."""
    short = _short(frame)
    return short.rsplit(":", 1)[0] + ")" if short.endswith(")") and ":" in short else short


def summarize(raw: Path, top: int = 25) -> dict:
    """Self and inclusive sample counts per function, and per infer0 module (inclusive)."""
    self_c: Counter[str] = Counter()
    incl: Counter[str] = Counter()
    modules: Counter[str] = Counter()
    total = idle = 0
    for line in raw.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        total += n
        frames = [_func(f) for f in _frames(stack)]
        if frames and ("select (selectors.py" in frames[-1] or "epoll" in frames[-1].lower()):
            idle += n
        if frames:
            self_c[frames[-1]] += n
        for f in set(frames):
            incl[f] += n
        for mod in {f.split("(", 1)[1].split("/")[1].rstrip(")").rsplit(".py", 1)[0]
                    for f in frames if "(infer0app/" in f and f.count("/") >= 1}:
            modules[mod] += n

    def pct(c: Counter) -> list[dict]:
        return [{"function": k, "samples": v, "percent": round(100 * v / total, 1)} for k, v in c.most_common(top)]
    return {"samples": total, "idle_percent": round(100 * idle / total, 1) if total else None,
            "top_self": pct(self_c), "top_inclusive": pct(incl),
            "infer0_modules_inclusive": pct(modules)}
