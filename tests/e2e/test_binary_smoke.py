"""The one binary, used the way an operator meets it: a copy of dist/infer0 outside the checkout,
run from another directory with a bare environment, on a temporary data dir."""

from __future__ import annotations

import json
import re
import sqlite3
import subprocess

import pytest

from infer0app import __version__
from infer0app.store.migrations import discover
from tests.e2e.binary_process import BinaryServer, run, run_json
from tests.e2e.conftest import bare_env
from tests.support.processes import ROOT

pytestmark = pytest.mark.e2e


@pytest.fixture
def vps(tmp_path, portable_binary):
    """(binary, working dir, environment, data dir) of a pretend VPS."""
    home = tmp_path / "home"
    home.mkdir()
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    return portable_binary, home, bare_env(home, TMPDIR=str(tmp)), tmp_path / "data"


def test_version_names_the_release_and_the_build_commit(vps):
    binary, home, env, _ = vps
    proc = run(binary, "--version", cwd=home, env=env)
    assert proc.returncode == 0, proc.stderr
    head = subprocess.run(["git", "rev-parse", "--short=12", "HEAD"], cwd=ROOT, capture_output=True,
                          text=True).stdout.strip()
    match = re.fullmatch(rf"infer0 {re.escape(__version__)} \(commit ([0-9a-f]{{12}})(-dirty)?\)\n", proc.stdout)
    assert match, proc.stdout
    assert match.group(1) == head


def test_serve_on_a_fresh_data_dir_answers_and_stops_cleanly(vps, artifacts):
    binary, home, env, data_dir = vps
    server = BinaryServer(binary, data_dir, cwd=home, env=env)
    try:
        (artifacts / "startup.txt").write_text(f"{binary} serve: first /healthz 200 after "
                                               f"{server.ready_after * 1000:.0f} ms (fresh data dir)\n")
        assert server.ready_after < 10, f"start-up took {server.ready_after:.1f}s"

        status, _, body = server.get("/healthz")
        assert status == 200 and b'"ok"' in body

        status, headers, body = server.get("/.well-known/oauth-authorization-server")
        assert status == 200 and headers["Content-Type"].startswith("application/json")
        meta = json.loads(body)
        assert meta["issuer"] == server.url
        assert meta["authorization_endpoint"] == server.url + "/oauth/authorize"
        assert meta["token_endpoint"] == server.url + "/v1/oauth/token"

        # pages come from the templates bundled inside the binary, styles from its static folder
        status, _, body = server.get("/login")
        assert status == 200 and b'name="csrf_token"' in body and b'name="password"' in body
        css = re.search(rb'href="(/static/app\.css[^"]*)"', body)
        assert css, body[:500]
        status, headers, body = server.get(css.group(1).decode().replace("&amp;", "&"))
        assert status == 200 and headers["Content-Type"].startswith("text/css") and len(body) > 100
    finally:
        code = server.stop()
    assert code == 0, server.logs()
    assert "Traceback" not in server.logs(), server.logs()

    # every migration was found inside the bundle (pkgutil discovery) and applied
    with sqlite3.connect(data_dir / "infer0.sqlite3") as db:
        applied = sorted(n for (n,) in db.execute("SELECT number FROM schema_migration"))
    assert applied == [number for number, _, _ in discover()]
    assert (data_dir / "keyring.json").stat().st_mode & 0o777 == 0o600
    # the one-file launcher removed what it unpacked
    assert list((home.parent / "tmp").iterdir()) == []


def test_cli_commands_print_json(vps):
    binary, home, env, data_dir = vps
    dd = ("--data-dir", str(data_dir))
    user = run_json(binary, "users", "create", "--email", "ops@example.com", "--password-stdin", *dd,
                    cwd=home, env=env, input="a long enough password\n")
    assert user == {"id": 1, "email": "ops@example.com"}
    assert [u["email"] for u in run_json(binary, "users", "list", *dd, cwd=home, env=env)] == ["ops@example.com"]

    conn = run_json(binary, "providers", "add", "--user", "ops@example.com", "--kind", "sandbox", *dd,
                    cwd=home, env=env)
    assert conn["kind"] == "sandbox"
    listed = run_json(binary, "providers", "list", "--user", "ops@example.com", *dd, cwd=home, env=env)
    assert [c["id"] for c in listed] == [conn["id"]]

    app = run_json(binary, "apps", "create", "--owner", "ops@example.com", "--name", "Acme Notes",
                   "--redirect-uri", "https://notes.example.com/callback", *dd, cwd=home, env=env)
    assert app["client_id"].startswith("i0_ci_") and app["client_secret"].startswith("i0_cs_")
    apps = run_json(binary, "apps", "list", *dd, cwd=home, env=env)
    assert [(a["client_id"], a["name"], a["owner"]) for a in apps] == [(app["client_id"], "Acme Notes",
                                                                          "ops@example.com")]
    assert app["client_secret"] not in json.dumps(apps)

    status = run_json(binary, "kek", "status", *dd, cwd=home, env=env)
    assert status["primary"]

    backup = home / "backup.sqlite3"
    out = run_json(binary, "backup", str(backup), *dd, cwd=home, env=env)
    assert out["database_backup"] == str(backup) and backup.stat().st_size > 0

    bad = run(binary, "users", "create", "--email", "not-an-email", *dd, cwd=home, env=env)
    assert bad.returncode == 2 and bad.stdout == "" and bad.stderr.startswith("infer0: error:")


HEADLESS = {"TEXTUAL_DRIVER": "textual.drivers.headless_driver:HeadlessDriver", "COLUMNS": "120", "LINES": "36"}


def test_admin_tui_starts_shows_the_data_and_quits_cleanly(vps, artifacts):
    """`infer0 admin` in a headless Textual run (no terminal): Textual's headless driver, keys
    pressed by Textual's autopilot (TEXTUAL_PRESS), a screenshot by TEXTUAL_SCREENSHOT."""
    binary, home, env, data_dir = vps
    dd = ("--data-dir", str(data_dir))
    run_json(binary, "users", "create", "--email", "ops@example.com", *dd, cwd=home, env=env)

    # 1. open, switch to the Users section (key 2), screenshot (Textual then exits by itself)
    shot = run(binary, "admin", *dd, cwd=home, timeout=60, env={
        **env, **HEADLESS, "TEXTUAL_PRESS": "wait:1500,2", "TEXTUAL_SCREENSHOT": "3",
        "TEXTUAL_SCREENSHOT_LOCATION": str(artifacts), "TEXTUAL_SCREENSHOT_FILENAME": "admin-users.svg"})
    assert shot.returncode == 0, shot.stderr
    assert "Traceback" not in shot.stderr + shot.stdout
    svg = (artifacts / "admin-users.svg").read_text()
    assert "infer0" in svg and "ops@example.com" in svg

    # 2. open and quit with the q key, as an operator does
    quit_ = run(binary, "admin", *dd, cwd=home, timeout=60,
                env={**env, **HEADLESS, "TEXTUAL_PRESS": "wait:1500,q"})
    assert quit_.returncode == 0, quit_.stderr
    assert "Traceback" not in quit_.stderr + quit_.stdout
    # the TUI left the data dir as it found it: the CLI still reads it
    assert [u["email"] for u in run_json(binary, "users", "list", *dd, cwd=home, env=env)] == ["ops@example.com"]
