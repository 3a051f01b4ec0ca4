"""The access log of a real `infer0 serve`: one line per request by default, written while the
server runs, none lost at SIGTERM (one process or several workers), no line forged by a path."""

from __future__ import annotations

import json
import re
import time
import urllib.error
import urllib.request

import pytest


def _get(url: str) -> str:
    """GET `url`; the answer's X-Request-Id, whatever its status."""
    try:
        with urllib.request.urlopen(url, timeout=10) as resp:
            return resp.headers["X-Request-Id"]
    except urllib.error.HTTPError as exc:
        return exc.headers["X-Request-Id"]


def _request_lines(logs: str) -> list[str]:
    return [line for line in logs.splitlines() if "infer0.request: request " in line]


@pytest.mark.parametrize("workers", ["1", "2"])
def test_every_request_is_logged_by_default_and_none_lost_at_sigterm(serve_process, workers):
    server = serve_process("--workers", workers)  # default log level and format
    rids = [_get(f"{server.url}/healthz") for _ in range(40)] + [_get(f"{server.url}/nope")]
    assert server.stop() == 0
    lines = _request_lines(server.logs())
    logged = {re.search(r"rid=(\w+)", line).group(1) for line in lines}
    assert set(rids) <= logged
    assert any("path=/nope status=404" in line for line in lines)


def test_lines_are_written_while_the_server_runs(serve_process):
    """Queued lines reach the log within the flush interval, not only at exit (bounded wait)."""
    server = serve_process()
    rid = _get(f"{server.url}/login?code=SECRET")
    deadline = time.monotonic() + 20
    while rid not in server.logs() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.proc.poll() is None
    line = next(line for line in _request_lines(server.logs()) if rid in line)
    assert "path=/login status=200" in line and "SECRET" not in server.logs()


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_a_path_cannot_forge_a_log_line(serve_process, fmt):
    server = serve_process("--log-format", fmt)
    forged = "INFO    infer0.request: request rid=0000000000000000 method=GET path=/admin status=200"
    rid = _get(f"{server.url}/x%0a{forged.replace(' ', '%20')}%0d%1b[2J")
    server.stop()
    logs = server.logs()
    assert "\x1b" not in logs
    assert not any(line.startswith("INFO") or "rid=0000000000000000" in line and rid not in line
                   for line in logs.splitlines())
    if fmt == "json":
        entry = next(json.loads(line) for line in logs.splitlines() if rid in line)
        assert entry["path"] == f"/x\n{forged}\r\x1b[2J" and entry["status"] == 404
    else:
        line = next(line for line in _request_lines(logs) if rid in line)
        assert '\\nINFO' in line and line.endswith("status=404 ms=" + line.rsplit("ms=", 1)[1])
