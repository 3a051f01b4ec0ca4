"""The CLI tried from outside: paths it cannot use and database URLs it cannot parse end in one
line on stderr (never a traceback) that never repeats the database password."""

from __future__ import annotations

import pytest

from tests.support.processes import run_cli

SECRET = "Sup3rSecretPw"


def _one_line(proc, code: int) -> str:
    assert proc.returncode == code, proc.stderr
    assert "Traceback" not in proc.stderr, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("infer0: error:"), proc.stderr
    return lines[0]


@pytest.mark.parametrize("args", [
    ("users", "list"),
    ("db", "copy", "--from", "{url}", "--to", "sqlite:///{tmp}/copy.sqlite3"),
    ("serve", "--port", "1"),
])
def test_a_database_url_psycopg_cannot_parse_is_refused_without_its_password(tmp_path, args):
    """psycopg quotes an unparsable URL whole in its message, password included; infer0 printed it."""
    url = f"postgresql://infer0:{SECRET}@[::1/infer0"  # an IPv6 host without its closing bracket
    argv = [a.format(url=url, tmp=tmp_path) for a in args]
    if argv[0] != "db":
        argv += ["--data-dir", str(tmp_path / "data"), "--database-url", url]
    line = _one_line(run_cli(*argv), 1)
    assert "Cannot open database" in line and SECRET not in line and "***" in line


@pytest.mark.parametrize("secret", ["p@ss@word9", 'pa ss"word9', "pa'ss word9"])
def test_no_part_of_an_odd_password_is_printed(tmp_path, secret):
    """A password holding "@", a space or a quote (unencoded, as people type them) in a URL that
    cannot be parsed: the masking stopped at the first of them and printed the rest."""
    url = f"postgresql://infer0:{secret}@[::1/infer0"
    line = _one_line(run_cli("users", "list", "--data-dir", str(tmp_path / "data"), "--database-url", url), 1)
    assert "word9" not in line and "***" in line, line


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)  # `infer0 backup` copies the SQLite file
def test_paths_the_command_cannot_use_are_one_line_not_a_traceback(tmp_path, data_dir):
    """backup into a path under a regular file, restore or serve with such a data dir: each was
    a Python traceback (NotADirectoryError / FileExistsError from mkdir)."""
    run_cli("users", "create", "--email", "a@example.com", data_dir=data_dir)  # the database exists
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    line = _one_line(run_cli("backup", str(blocker / "backup.sqlite3"), data_dir=data_dir), 1)
    assert "Not a directory" in line and str(blocker) in line
    backup = tmp_path / "backup.sqlite3"
    assert run_cli("backup", str(backup), data_dir=data_dir).returncode == 0
    keyring = data_dir / "keyring.json"
    line = _one_line(run_cli("restore", str(backup), "--keyring", str(keyring), data_dir=blocker / "data"), 1)
    assert "Not a directory" in line
    line = _one_line(run_cli("serve", "--port", "1", data_dir=blocker), 1)
    assert str(blocker) in line
