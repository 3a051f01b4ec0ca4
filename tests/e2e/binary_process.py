"""Running the built binary the way an operator does: a copy outside the checkout, started from
another directory, with a bare environment (no virtualenv, no PYTHONPATH, no INFER0_*)."""

from __future__ import annotations

import json
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

from tests.support.processes import free_port


def run(binary: Path, *args: str, cwd: Path, env: dict[str, str], input: str | None = None,
        timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([str(binary), *args], cwd=cwd, env=env, input=input, capture_output=True,
                          text=True, timeout=timeout)


def run_json(binary: Path, *args: str, **kw):
    proc = run(binary, *args, **kw)
    assert proc.returncode == 0, f"infer0 {' '.join(args)} exited {proc.returncode}:\n{proc.stderr}"
    assert "Traceback" not in proc.stderr, proc.stderr
    return json.loads(proc.stdout)


class BinaryServer:
    """`<binary> serve` on a free loopback port, output captured to a file beside the data dir."""

    def __init__(self, binary: Path, data_dir: Path, *, cwd: Path, env: dict[str, str], extra: tuple = ()):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = Path(data_dir).parent / f"binary-serve-{self.port}.log"
        self._log = open(self.log_path, "wb")
        self.started = time.monotonic()
        self.proc = subprocess.Popen([str(binary), "serve", "--data-dir", str(data_dir), "--port", str(self.port),
                                      *extra], cwd=cwd, env=env, stdout=self._log, stderr=subprocess.STDOUT)
        self.ready_after = self._wait_ready()

    def _wait_ready(self, timeout: float = 30) -> float:
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

    def get(self, path: str) -> tuple[int, dict[str, str], bytes]:
        try:
            with urllib.request.urlopen(self.url + path, timeout=5) as resp:
                return resp.status, dict(resp.headers), resp.read()
        except urllib.error.HTTPError as err:
            return err.code, dict(err.headers), err.read()

    def logs(self) -> str:
        if not self._log.closed:
            self._log.flush()
        return self.log_path.read_text(errors="replace")

    def stop(self, timeout: float = 20) -> int:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()
        return self.proc.returncode
