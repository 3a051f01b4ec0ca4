"""`infer0 serve --workers 2`: two processes share the port and the database, and stop together."""

from __future__ import annotations

import json
import signal
import time
import urllib.request

from tests.support.processes import run_cli_json


def test_two_workers_serve_share_the_database_and_stop_cleanly(data_dir, serve_process):
    server = serve_process("--workers", "2")
    deadline = time.monotonic() + 15
    servers = []
    while time.monotonic() < deadline:  # each worker announces itself in the database
        servers = run_cli_json("kek", "status", data_dir=data_dir)["servers"]
        if len(servers) == 2:
            break
        time.sleep(0.2)
    assert len({s["pid"] for s in servers}) == 2
    for _ in range(20):
        with urllib.request.urlopen(server.url + "/healthz", timeout=5) as resp:
            assert json.loads(resp.read())["status"] == "ok"
    assert "with 2 workers" in server.logs()
    assert server.stop(signal.SIGTERM) == 0
    assert run_cli_json("kek", "status", data_dir=data_dir)["servers"] == []


def test_workers_setting_is_validated(data_dir):
    from tests.support.processes import run_cli
    proc = run_cli("serve", "--workers", "0", data_dir=data_dir)
    assert proc.returncode == 2 and "--workers" in proc.stderr
