"""Operator commands that fail safe (issue 12 §6): `infer0 backup` writes a private copy whatever
the umask, and `infer0 serve` on a busy port says so in one line and exits 2."""

from __future__ import annotations

import socket
import stat
import subprocess
import sys

import pytest

from tests.support.processes import ROOT, cli_env, run_cli_json


def _infer0_with_umask(umask: str, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    argv = ["sh", "-c", f'umask {umask}; exec "$@"', "sh", sys.executable, "-m", "infer0app", *args]
    return subprocess.run(argv, capture_output=True, text=True, cwd=ROOT, env=cli_env(), timeout=timeout)


def _mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)  # the SQLite file copy
def test_backup_is_0600_and_new_directories_0700_under_an_open_umask(data_dir, tmp_path):
    run_cli_json("users", "create", "--email", "a@example.com", data_dir=data_dir)
    target = tmp_path / "new" / "nested" / "infer0.sqlite3"
    proc = _infer0_with_umask("000", "backup", str(target), "--data-dir", str(data_dir))
    assert proc.returncode == 0, proc.stderr
    assert _mode(target) == 0o600
    assert _mode(target.parent) == 0o700 and _mode(target.parent.parent) == 0o700
    assert "0600" in proc.stderr  # the output says how the copy is protected


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)  # the SQLite file copy
def test_backup_force_replaces_a_world_readable_file_with_a_private_one(data_dir, tmp_path):
    run_cli_json("users", "create", "--email", "a@example.com", data_dir=data_dir)
    target = tmp_path / "old.sqlite3"
    target.write_bytes(b"")
    target.chmod(0o644)
    existing_dir_mode = _mode(tmp_path)
    proc = _infer0_with_umask("022", "backup", str(target), "--force", "--data-dir", str(data_dir))
    assert proc.returncode == 0, proc.stderr
    assert _mode(target) == 0o600 and _mode(tmp_path) == existing_dir_mode


def test_backup_help_says_the_copy_is_private():
    proc = _infer0_with_umask("022", "backup", "--help")
    assert proc.returncode == 0 and "0600" in proc.stdout and "0700" in proc.stdout


@pytest.fixture
def busy_port():
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


@pytest.mark.parametrize("workers", ["1", "2"])
def test_serve_on_a_busy_port_says_so_in_one_line_and_exits_2(data_dir, busy_port, workers):
    proc = _infer0_with_umask("077", "serve", "--data-dir", str(data_dir), "--host", "127.0.0.1",
                              "--port", str(busy_port), "--workers", workers)
    assert proc.returncode == 2
    lines = [line for line in (proc.stdout + proc.stderr).splitlines() if line.strip()]
    assert lines == [f"infer0: error: port {busy_port} on 127.0.0.1 is already in use; "
                     "choose another with --port"]
