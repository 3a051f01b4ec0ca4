"""What a bench run records about its machine, and how its results are shown."""

from __future__ import annotations

import datetime as dt
import importlib.metadata as md
import os
import platform
import subprocess
import sys

from .loadgen import wrk_version
from .procs import ROOT

LIBS = ["aiohttp", "yarl", "multidict", "peewee", "cryptography", "authlib", "jinja2", "orjson", "uvloop"]


def environment() -> dict:
    cpu = "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    libs = {}
    for name in LIBS:
        try:
            libs[name] = md.version(name)
        except md.PackageNotFoundError:
            libs[name] = None
    return {
        "when": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "git": _git(),
        "cpu": cpu, "cpus": os.cpu_count(), "cpus_usable": len(os.sched_getaffinity(0)),
        "kernel": platform.release(), "machine": platform.machine(),
        "python": sys.version.split()[0], "python_impl": platform.python_implementation(),
        "libraries": libs, "wrk": wrk_version(),
        "loadavg_at_start": [round(x, 2) for x in os.getloadavg()],
    }


def _git() -> str | None:
    try:
        rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                             text=True, timeout=5).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT,
                               capture_output=True, text=True, timeout=5).stdout.strip()
        return (rev + ("-dirty" if dirty else "")) or None
    except (OSError, subprocess.SubprocessError):
        return None


def ratio(value, base) -> float | None:
    if value is None or base in (None, 0):
        return None
    return round(value / base, 3)


def _fmt(v, unit: str = "") -> str:
    if v is None:
        return "—"
    if isinstance(v, float):
        v = f"{v:,.3f}" if abs(v) < 10 else f"{v:,.1f}" if abs(v) < 1000 else f"{v:,.0f}"
    elif isinstance(v, int):
        v = f"{v:,}"
    return f"{v}{unit}"


def table(rows: list[dict]) -> str:
    """Markdown table: metric | infer0 | bare proxy | direct | ratio to bare | target | verdict."""
    head = ["metric", "infer0", "bare proxy", "direct", "infer0 / bare", "target", "meets"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        verdict = {True: "yes", False: "**no**", None: ""}[r.get("ok")]
        lines.append("| " + " | ".join([
            r["metric"], _fmt(r.get("infer0"), r.get("unit", "")), _fmt(r.get("bare"), r.get("unit", "")),
            _fmt(r.get("direct"), r.get("unit", "")), _fmt(r.get("ratio")), r.get("target", ""), verdict]) + " |")
    return "\n".join(lines)
