"""End-to-end fixtures: the built binary, the server it (or the source) runs, Chromium via Playwright.

Which `infer0` runs the server in the browser journey:

* `dist/infer0`, when `build/binary.sh --check` says it is fresh (build/test.sh builds it
  before running the suite, so CI always tests the binary);
* otherwise the source (`python -m infer0app`), so `pytest tests/e2e` works while editing.

`INFER0_E2E_SERVER=binary` forces the binary (building it when missing or stale),
`INFER0_E2E_SERVER=source` forces the source.

The binary smoke tests always use the binary; they build it when it is missing or stale.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.browser import BrowserSession, launch_chromium
from tests.support.processes import ROOT

BINARY = ROOT / "dist" / "infer0"
ARTIFACTS = ROOT / "tests" / "artifacts"


def binary_is_fresh() -> bool:
    return subprocess.run(["bash", str(ROOT / "build" / "binary.sh"), "--check"], cwd=ROOT,
                          capture_output=True).returncode == 0


def build_binary() -> Path:
    # One build at a time: pytest-xdist's workers may each need the binary; the second waits for
    # the first, then finds it fresh (--if-stale).
    BINARY.parent.mkdir(exist_ok=True)
    with open(BINARY.parent / ".build.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return _build_binary()


def _build_binary() -> Path:
    proc = subprocess.run(["bash", str(ROOT / "build" / "binary.sh"), "--if-stale"], cwd=ROOT,
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, f"build/binary.sh failed:\n{proc.stdout}\n{proc.stderr}"
    assert BINARY.is_file() and os.access(BINARY, os.X_OK)
    return BINARY


@pytest.fixture(scope="session")
def infer0_binary() -> Path:
    """dist/infer0, built now if it is missing or older than the sources."""
    return build_binary()


@pytest.fixture(scope="session")
def portable_binary(infer0_binary, tmp_path_factory) -> Path:
    """A copy of the binary outside the checkout, as it would sit on a VPS."""
    target = tmp_path_factory.mktemp("vps") / "infer0"
    shutil.copy2(infer0_binary, target)
    return target


@pytest.fixture(scope="session")
def infer0_command() -> list[str]:
    """The command the journey's server runs: the fresh binary, else the source."""
    choice = os.environ.get("INFER0_E2E_SERVER", "auto")
    if choice == "binary" or (choice == "auto" and binary_is_fresh()):
        return [str(build_binary())]
    return [sys.executable, "-m", "infer0app"]


def bare_env(home: Path, **extra: str) -> dict[str, str]:
    """An environment like a fresh VPS login: no virtualenv, no PYTHON*, no INFER0_*."""
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": str(home), "LANG": "C.UTF-8",
           "TMPDIR": os.environ.get("TMPDIR", "/tmp")}
    env.update(extra)
    return env


@pytest.fixture
def artifacts(request) -> Path:
    """tests/artifacts/<test name>/, emptied first (gitignored; kept after the run)."""
    name = request.node.name.replace("/", "_").replace("[", "-").replace("]", "")
    folder = ARTIFACTS / name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return folder


@pytest.fixture
async def chromium():
    """Debian's Chromium driven by Playwright (async API)."""
    async with launch_chromium() as browser:
        yield browser


@pytest.fixture
async def browser_session(chromium, artifacts):
    """Opens browser contexts that record console errors and failed requests; the test fails on any."""
    session = BrowserSession(chromium, artifacts)
    yield session
    await session.close()
