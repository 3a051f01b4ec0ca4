"""Running the built binary the way an operator does: a copy outside the checkout, started from
another directory, with a bare environment (no virtualenv, no PYTHONPATH, no INFER0_*)."""

from __future__ import annotations

import json
import subprocess
import urllib.error
import urllib.request
from pathlib import Path

from tests.support.processes import ServerProcess


def run(binary: Path, *args: str, cwd: Path, env: dict[str, str], input: str | None = None,
        timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([str(binary), *args], cwd=cwd, env=env, input=input, capture_output=True,
                          text=True, timeout=timeout)


def run_json(binary: Path, *args: str, **kw):
    proc = run(binary, *args, **kw)
    assert proc.returncode == 0, f"infer0 {' '.join(args)} exited {proc.returncode}:\n{proc.stderr}"
    assert "Traceback" not in proc.stderr, proc.stderr
    return json.loads(proc.stdout)


class BinaryServer(ServerProcess):
    """`<binary> serve` on a free loopback port, from another directory, with a bare environment."""

    def __init__(self, binary: Path, data_dir: Path, *, cwd: Path, env: dict[str, str], extra: tuple = ()):
        super().__init__(data_dir, *extra, command=[str(binary)], cwd=cwd, exact_env=env)

    def get(self, path: str) -> tuple[int, dict[str, str], bytes]:
        try:
            with urllib.request.urlopen(self.url + path, timeout=5) as resp:
                return resp.status, dict(resp.headers), resp.read()
        except urllib.error.HTTPError as err:
            return err.code, dict(err.headers), err.read()

