"""The operator CLI: JSON on stdout, one clear line and a non-zero exit on bad input."""

from __future__ import annotations

import pytest

import json
import sqlite3

from tests.support.processes import run_cli, run_cli_json


def test_users_create_list_disable(data_dir):
    out = run_cli_json("users", "create", "--email", "Ops@Example.com", "--password-stdin",
                       data_dir=data_dir, input="a long enough password\n")
    assert out == {"id": 1, "email": "ops@example.com"}
    listed = run_cli_json("users", "list", data_dir=data_dir)
    assert [u["email"] for u in listed] == ["ops@example.com"] and listed[0]["disabled"] is False
    assert run_cli_json("users", "disable", "--email", "ops@example.com", data_dir=data_dir)["disabled"] is True
    assert run_cli_json("users", "list", data_dir=data_dir)[0]["disabled"] is True


def test_bad_input_is_one_line_and_exit_2(data_dir):
    run_cli_json("users", "create", "--email", "a@example.com", data_dir=data_dir)
    for args, needle in [
        (("users", "create", "--email", "not-an-email"), "valid email"),
        (("users", "create", "--email", "a@example.com"), "already exists"),
        (("providers", "add", "--user", "a@example.com", "--kind", "nope"), "Unknown provider kind"),
        (("providers", "add", "--user", "a@example.com", "--kind", "openai-compatible",
          "--base-url", "javascript:alert(1)"), "base URL"),
        (("providers", "add", "--user", "a@example.com", "--kind", "openai"), "needs an API key"),
    ]:
        proc = run_cli(*args, data_dir=data_dir)
        assert proc.returncode == 2, (args, proc.stderr)
        assert proc.stdout == ""
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("infer0: error:") and needle in lines[0], proc.stderr
        assert "Traceback" not in proc.stderr


def test_unknown_user_exits_1(data_dir):
    run_cli_json("users", "create", "--email", "a@example.com", data_dir=data_dir)
    proc = run_cli("providers", "list", "--user", "ghost@example.com", data_dir=data_dir)
    assert proc.returncode == 1 and "No user" in proc.stderr


def test_commands_without_a_database_say_so(tmp_path):
    proc = run_cli("users", "list", data_dir=tmp_path / "nowhere")
    assert proc.returncode == 1 and "No infer0 database" in proc.stderr
    assert not (tmp_path / "nowhere").exists()


def test_providers_add_and_list_never_print_keys(data_dir):
    run_cli_json("users", "create", "--email", "a@example.com", data_dir=data_dir)
    key = "sk-proj-THISISASECRETKEY0123456789abcd"
    added = run_cli_json("providers", "add", "--user", "a@example.com", "--kind", "openai", "--api-key-stdin",
                         "--model", "gpt-4o-mini", data_dir=data_dir, input=key + "\n")
    assert set(added) >= {"id"} and key not in json.dumps(added)
    sandbox = run_cli_json("providers", "add", "--user", "a@example.com", "--kind", "sandbox", data_dir=data_dir)
    listed = run_cli("providers", "list", "--user", "a@example.com", data_dir=data_dir)
    assert listed.returncode == 0 and key not in listed.stdout and key not in listed.stderr
    rows = json.loads(listed.stdout)
    assert [r["id"] for r in rows] == [added["id"], sandbox["id"]]
    assert rows[0]["key"] == "sk-…abcd" and rows[0]["default"] is True
    assert rows[0]["base_url"] == "https://api.openai.com/v1"
    assert rows[1]["key"] is None


def test_env_data_dir_is_honoured(data_dir):
    run_cli_json("users", "create", "--email", "env@example.com", env={"INFER0_DATA_DIR": str(data_dir)})
    assert run_cli_json("users", "list", data_dir=data_dir)[0]["email"] == "env@example.com"


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)  # PostgreSQL: pg_dump (tests/integration/postgres)
def test_backup_is_a_consistent_copy_while_the_server_runs(data_dir, tmp_path, serve_process):
    run_cli_json("users", "create", "--email", "a@example.com", data_dir=data_dir)
    server = serve_process()
    run_cli_json("users", "create", "--email", "b@example.com", data_dir=data_dir)  # works while serving
    target = tmp_path / "backup.sqlite3"
    proc = run_cli("backup", str(target), data_dir=data_dir)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["database_backup"] == str(target)
    assert "keyring" in proc.stderr and "keyring.json" in proc.stderr
    con = sqlite3.connect(target)
    assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert sorted(r[0] for r in con.execute('SELECT email FROM "user"')) == ["a@example.com", "b@example.com"]
    con.close()
    again = run_cli("backup", str(target), data_dir=data_dir)
    assert again.returncode == 2 and "exists" in again.stderr
    assert server.proc.poll() is None


def test_version_flag():
    proc = run_cli("--version")
    assert proc.returncode == 0 and proc.stdout.startswith("infer0 0.")


@pytest.mark.parametrize("flag,value", [
    ("--access-token-ttl", "99999999999999999999"), ("--refresh-token-ttl", str(11 * 365 * 86400)),
    ("--session-lifetime", "1" + "0" * 25), ("--upstream-timeout", "nan"), ("--shutdown-timeout", "inf"),
    ("--keepalive-timeout", "-1"), ("--body-read-timeout", "1e12"),
])
def test_serve_refuses_out_of_range_numbers_before_starting(data_dir, flag, value):
    # These started a server: a lifetime past 64-bit expiries was a 500 at the first token, and a
    # nan or inf timeout never ends.
    proc = run_cli("serve", flag, value, "--port", "1", data_dir=data_dir, timeout=30)
    assert proc.returncode == 2, (flag, value, proc.returncode, proc.stderr)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and flag in lines[0] and "Traceback" not in proc.stderr, proc.stderr
