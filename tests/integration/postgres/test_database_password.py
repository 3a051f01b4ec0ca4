"""How an operator gives infer0 the PostgreSQL password, and that it never shows."""

from __future__ import annotations

import json
import urllib.request

from tests.support.postgres import PASSWORD
from tests.support.processes import ServerProcess, cli_env, run_cli


def _env_without_password() -> dict:
    return {k: v for k, v in cli_env().items() if k != "PGPASSWORD"}


def test_serve_reads_the_password_from_a_file_and_never_logs_it(tmp_path, data_dir, backend):
    secret = tmp_path / "pgpass"
    secret.write_text(PASSWORD + "\n")
    secret.chmod(0o600)
    proc = ServerProcess(data_dir, "--database-password-file", str(secret), exact_env=_env_without_password())
    try:
        with urllib.request.urlopen(proc.url + "/healthz") as resp:
            assert resp.status == 200
        created = run_cli("users", "create", "--email", "pg@example.com", "--database-password-file", str(secret),
                          data_dir=data_dir, env={"PGPASSWORD": ""})
        assert created.returncode == 0, created.stderr
    finally:
        proc.stop()
    logs = proc.logs()
    assert "postgresql://" in logs  # it says which database it serves
    assert PASSWORD not in logs


def test_a_wrong_password_is_one_clear_line_without_the_secret(tmp_path, data_dir, backend):
    wrong = backend.env["INFER0_DATABASE_URL"].replace("infer0@", "infer0:not-the-password@")
    out = run_cli("users", "list", data_dir=data_dir, env={"INFER0_DATABASE_URL": wrong, "PGPASSWORD": ""})
    assert out.returncode == 1
    assert "Cannot open database postgresql://infer0:***@" in out.stderr
    assert "not-the-password" not in out.stderr + out.stdout and "Traceback" not in out.stderr


def test_backup_on_postgres_points_at_pg_dump(tmp_path, data_dir, backend):
    assert run_cli("users", "list", data_dir=data_dir).returncode == 0
    out = run_cli("backup", str(tmp_path / "b.sqlite3"), data_dir=data_dir)
    assert out.returncode == 2 and "pg_dump" in out.stderr
    assert not (tmp_path / "b.sqlite3").exists()


def test_every_command_reaches_the_same_database(data_dir, backend):
    assert run_cli("users", "create", "--email", "shared@example.com", data_dir=data_dir).returncode == 0
    other_dir = data_dir.parent / "elsewhere"  # another host: same database, its own data dir
    listed = run_cli("users", "list", data_dir=other_dir)
    assert listed.returncode == 0, listed.stderr
    assert "shared@example.com" in json.dumps(json.loads(listed.stdout))


def test_an_unreadable_password_file_is_one_clear_line(tmp_path, data_dir, backend):
    """A missing --database-password-file names the file and the cause, exit 1, no traceback
    (it raised a NameError before)."""
    missing = tmp_path / "no-such-file"
    out = run_cli("users", "list", "--database-password-file", str(missing), data_dir=data_dir)
    assert out.returncode == 1, out.stderr
    assert "--database-password-file: cannot read" in out.stderr and str(missing) in out.stderr
    assert "Traceback" not in out.stderr
