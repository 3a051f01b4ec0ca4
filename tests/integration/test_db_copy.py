"""`infer0 db copy` (issue 15): a running SQLite deployment moved to PostgreSQL, and back.

Real parts: an `infer0 serve` process on the SQLite data dir while the copy runs, the session's
throwaway PostgreSQL cluster, a second `infer0 serve` on the copied database.
"""

from __future__ import annotations

import json
import shutil
import sqlite3

import aiohttp

from infer0app.services.db_copy import SKIPPED_TABLES, copy_order
from infer0app.store.postgres import import_psycopg
from tests.support.oauth import basic
from tests.support.processes import ServerProcess, run_cli, run_cli_json
from tests.support.served_flow import CALLBACK, USER, approved_code

PROVIDER_KEY = "sk-dbcopy-plaintext-0f4e9a7c"


def _pg(pg_cluster):
    """A fresh database: its URL without the password, and the environment giving the password."""
    from tests.support.postgres import PASSWORD
    name = pg_cluster.create_database("copy")
    return name, pg_cluster.url_without_password(name), {"PGPASSWORD": PASSWORD}


def _sqlite_rows(path, table):
    with sqlite3.connect(path) as conn:
        return sorted(conn.execute(f'SELECT * FROM "{table}"').fetchall(), key=repr)


def _seed_offline(data_dir):
    """Users, a provider connection with a sealed key, an app, through the CLI (no server)."""
    run_cli_json("users", "create", "--email", "dev@example.com", data_dir=data_dir)
    run_cli_json("users", "create", "--email", USER, "--password-stdin", input="pw-long-enough-1\n",
                 data_dir=data_dir)
    run_cli_json("providers", "add", "--user", USER, "--kind", "openai", "--api-key-stdin",
                 input=PROVIDER_KEY + "\n", data_dir=data_dir)
    run_cli_json("apps", "create", "--owner", "dev@example.com", "--name", "Copied", "--redirect-uri", CALLBACK,
                 data_dir=data_dir)


async def test_a_running_sqlite_deployment_copied_to_postgres_keeps_its_tokens_and_sealed_keys(
        serve_process, data_dir, tmp_path, pg_cluster):
    server = serve_process()
    app, code = await approved_code(server.url, data_dir)
    run_cli_json("providers", "add", "--user", USER, "--kind", "openai", "--api-key-stdin",
                 input=PROVIDER_KEY + "\n", data_dir=data_dir)
    async with aiohttp.ClientSession() as http:
        async with http.post(server.url + "/v1/oauth/token", data={
                "grant_type": "authorization_code", "code": code, "redirect_uri": CALLBACK},
                headers={"Authorization": basic(app["client_id"], app["client_secret"])}) as resp:
            tokens = await resp.json()
            assert resp.status == 200, tokens

    name, url, env = _pg(pg_cluster)
    source = data_dir / "infer0.sqlite3"
    out = run_cli("db", "copy", "--from", f"sqlite://{source}", "--to", url, env=env)  # server still running
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    server.stop()
    for table in copy_order():  # nothing changed since (the server only read): counts equal the source's
        assert report["tables"][table] == len(_sqlite_rows(source, table)), table
    assert report["tables"]["token"] == 1 and report["tables"]["provider_connection"] == 2
    assert PROVIDER_KEY not in out.stdout + out.stderr

    psycopg = import_psycopg()
    with psycopg.connect(pg_cluster.database_url(name)) as conn:
        copied = dict(conn.execute('SELECT "uid", "key_ciphertext" FROM "provider_connection"').fetchall())
    with sqlite3.connect(source) as conn:
        original = dict(conn.execute('SELECT "uid", "key_ciphertext" FROM "provider_connection"').fetchall())
    assert {k: (bytes(v) if v is not None else None) for k, v in copied.items()} == original  # sealed, as is
    assert all(PROVIDER_KEY.encode() not in v for v in original.values() if v)

    # A new instance on PostgreSQL with the same keyring: the token issued on SQLite works there,
    # and new rows get fresh ids (the sequences were moved past the copied ones).
    host_b = tmp_path / "host-b"
    host_b.mkdir(mode=0o700)
    shutil.copy2(data_dir / "keyring.json", host_b / "keyring.json")
    b = ServerProcess(host_b, "--database-url", url, env=env)
    try:
        async with aiohttp.ClientSession() as http:
            async with http.get(b.url + "/v1/me", headers={"Authorization": f"Bearer {tokens['access_token']}"}) as r:
                assert r.status == 200, await r.text()
        created = run_cli_json("users", "create", "--email", "new@example.com", "--database-url", url,
                               data_dir=host_b, env=env)
        assert created["id"] == report["tables"]["user"] + 1
        listed = run_cli_json("providers", "list", "--user", USER, "--database-url", url, data_dir=host_b, env=env)
        assert len(listed) == 2
    finally:
        b.stop()


def test_a_round_trip_sqlite_postgres_sqlite_gives_back_every_row(data_dir, tmp_path, pg_cluster):
    _seed_offline(data_dir)
    source = data_dir / "infer0.sqlite3"
    name, url, env = _pg(pg_cluster)
    assert run_cli("db", "copy", "--from", f"sqlite://{source}", "--to", url, env=env).returncode == 0
    back = tmp_path / "back" / "infer0.sqlite3"
    out = run_cli("db", "copy", "--from", url, "--to", f"sqlite://{back}", env=env)
    assert out.returncode == 0, out.stderr
    for table in copy_order():
        assert _sqlite_rows(back, table) == _sqlite_rows(source, table), table
    assert back.stat().st_mode & 0o777 == 0o600  # sealed keys and token hashes: its owner's only
    assert sum(json.loads(out.stdout)["tables"].values()) >= 5


def test_a_target_holding_rows_is_refused_unless_forced(data_dir, pg_cluster):
    _seed_offline(data_dir)
    source = data_dir / "infer0.sqlite3"
    name, url, env = _pg(pg_cluster)
    assert run_cli("db", "copy", "--from", f"sqlite://{source}", "--to", url, env=env).returncode == 0
    again = run_cli("db", "copy", "--from", f"sqlite://{source}", "--to", url, env=env)
    assert again.returncode == 2
    assert "already holds rows" in again.stderr and "user: 2" in again.stderr and "--force" in again.stderr
    assert "Traceback" not in again.stderr
    forced = run_cli("db", "copy", "--from", f"sqlite://{source}", "--to", url, "--force", env=env)
    assert forced.returncode == 0, forced.stderr
    report = json.loads(forced.stdout)
    assert report["replaced_existing_rows"] is True and report["tables"]["user"] == 2
    psycopg = import_psycopg()
    with psycopg.connect(pg_cluster.database_url(name)) as conn:
        assert conn.execute('SELECT COUNT(*) FROM "user"').fetchone()[0] == 2


def test_bad_input_gets_one_clear_line(data_dir, tmp_path, pg_cluster):
    from tests.support.postgres import PASSWORD
    _seed_offline(data_dir)
    source = f"sqlite://{data_dir / 'infer0.sqlite3'}"
    name, url, env = _pg(pg_cluster)
    cases = [
        (("--from", source, "--to", f"sqlite://{tmp_path / 'x.sqlite3'}"), "between SQLite and PostgreSQL"),
        (("--from", f"sqlite://{tmp_path / 'missing.sqlite3'}", "--to", url), "no SQLite database at"),
        (("--from", "mysql://h/db", "--to", url), "unsupported database URL"),
    ]
    for argv, message in cases:
        out = run_cli("db", "copy", *argv, env=env)
        assert out.returncode == 2 and message in out.stderr and "Traceback" not in out.stderr, out.stderr
    wrong = url.replace("@", ":not-the-password@", 1)
    out = run_cli("db", "copy", "--from", source, "--to", wrong, env={"PGPASSWORD": PASSWORD})
    assert out.returncode == 1 and "Cannot open database" in out.stderr, out.stderr
    assert "not-the-password" not in out.stderr and PASSWORD not in out.stderr and "Traceback" not in out.stderr
    assert set(SKIPPED_TABLES).isdisjoint(copy_order())
