"""Issue 17's operator commands: providers remove, apps update|delete, audit export, errors; and
the one exit-code rule (0 ok, 1 not found/refused, 2 bad input) across commands."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

import pytest

from infer0app.services import grants
from tests.support.processes import run_cli, run_cli_json
from tests.support.backend import open_data_dir
from tests.tui.seed import ALICE_KEY, seed


@pytest.fixture
def seeded(data_dir):
    return seed(data_dir)


def fails(args, code: int, needle: str, data_dir) -> None:
    proc = run_cli(*args, data_dir=data_dir)
    assert proc.returncode == code, (args, proc.returncode, proc.stderr)
    assert proc.stdout == "" and "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert lines[-1].startswith(("infer0: error:", "usage:", "infer0 ")) and needle in proc.stderr, proc.stderr


def test_providers_remove(seeded, data_dir):
    conn = seeded.connections["alice/openai"]
    out = run_cli_json("providers", "remove", "--user", "alice@example.com", "--id", str(conn), data_dir=data_dir)
    assert out == {"removed": conn, "user": "alice@example.com"}
    left = run_cli_json("providers", "list", "--user", "alice@example.com", data_dir=data_dir)
    assert [c["id"] for c in left] == [seeded.connections["alice/sandbox"]] and left[0]["default"] is True
    assert ALICE_KEY[-4:] not in json.dumps(left)
    # gone, or someone else's: not found (1); not a number: bad input (2)
    fails(("providers", "remove", "--user", "alice@example.com", "--id", str(conn)), 1, "does not exist", data_dir)
    fails(("providers", "remove", "--user", "alice@example.com", "--id", str(seeded.connections["bob/anthropic"])),
          1, "does not exist", data_dir)
    fails(("providers", "remove", "--user", "alice@example.com", "--id", "x"), 2, "is not an id", data_dir)
    audit = run_cli_json("audit", "export", "--action", "provider.delete", data_dir=data_dir)
    assert [(e["target"], e["actor"].split(":")[0]) for e in audit] == [(f"provider:{conn}", "cli")]


def test_apps_update(seeded, data_dir):
    chat = seeded.apps["Chat App"].client_id
    out = run_cli_json("apps", "update", "--client-id", chat, "--name", "Chat App 2",
                       "--redirect-uri", "https://chat.example.com/new", "--redirect-uri", "https://chat.example.com/b",
                       data_dir=data_dir)
    assert out["name"] == "Chat App 2" and out["client_id"] == chat
    assert out["redirect_uris"] == ["https://chat.example.com/new", "https://chat.example.com/b"]
    homepage = run_cli_json("apps", "update", "--client-id", chat, "--homepage", "https://chat.example.com",
                            data_dir=data_dir)
    assert homepage["homepage_url"] == "https://chat.example.com" and homepage["name"] == "Chat App 2"
    assert homepage["redirect_uris"] == out["redirect_uris"]  # left out: kept
    listed = {a["client_id"]: a for a in run_cli_json("apps", "list", data_dir=data_dir)}
    assert listed[chat]["name"] == "Chat App 2"
    fails(("apps", "update", "--client-id", chat, "--redirect-uri", "http://evil.example/cb"), 2, "loopback", data_dir)
    fails(("apps", "update", "--client-id", chat), 2, "nothing to change", data_dir)
    fails(("apps", "update", "--client-id", "i0_ci_nope", "--name", "X"), 1, "No app", data_dir)
    after = {a["client_id"]: a for a in run_cli_json("apps", "list", data_dir=data_dir)}
    assert after[chat]["redirect_uris"] == out["redirect_uris"]  # a refused update changed nothing


def test_apps_delete_ends_its_tokens(seeded, data_dir):
    chat = seeded.apps["Chat App"]
    token = seeded.tokens[("bob@example.com", "Chat App")]
    out = run_cli_json("apps", "delete", "--client-id", chat.client_id, data_dir=data_dir)
    assert out == {"deleted": chat.client_id, "name": "Chat App", "revoked_grants": 2}
    assert [a["name"] for a in run_cli_json("apps", "list", data_dir=data_dir)] == ["CLI Tool"]
    store, _vault = open_data_dir(data_dir, create=False)  # the test's engine (SQLite or PostgreSQL)
    try:
        assert grants.resolve_access_token(store, token) is None
    finally:
        store.close()
    fails(("apps", "delete", "--client-id", chat.client_id), 1, "No app", data_dir)
    fails(("apps", "delete"), 2, "--client-id", data_dir)


def test_rotate_secret_prints_it_once(seeded, data_dir):
    chat = seeded.apps["Chat App"].client_id
    out = run_cli_json("apps", "rotate-secret", "--client-id", chat, data_dir=data_dir)
    assert out["client_secret"].startswith("i0_cs_")
    assert out["client_secret"] not in run_cli("apps", "list", data_dir=data_dir).stdout
    assert out["client_secret"] not in run_cli("audit", "export", data_dir=data_dir).stdout
    fails(("apps", "rotate-secret", "--client-id", seeded.apps["CLI Tool"].client_id), 2, "Public apps", data_dir)


def test_audit_export_json_and_csv_with_a_time_range(seeded, data_dir):
    run_cli_json("apps", "disable", "--client-id", seeded.apps["CLI Tool"].client_id, data_dir=data_dir)
    everything = run_cli_json("audit", "export", data_dir=data_dir)
    assert everything and [e["id"] for e in everything] == sorted(e["id"] for e in everything)  # oldest first
    assert set(everything[0]) == {"id", "created_at", "actor", "action", "target", "ip", "detail"}
    last = everything[-1]
    assert (last["action"], last["target"], last["actor"].split(":")[0]) == (
        "app.disable", seeded.apps["CLI Tool"].client_id, "cli")
    creates = [e for e in everything if e["action"] == "app.create"]
    assert creates and isinstance(creates[0]["detail"], dict) and creates[0]["detail"]["name"] == "Chat App"

    proc = run_cli("audit", "export", "--format", "csv", "--action", "app.", data_dir=data_dir)
    assert proc.returncode == 0, proc.stderr
    rows = list(csv.DictReader(io.StringIO(proc.stdout)))
    assert [r["action"] for r in rows] == [e["action"] for e in everything if e["action"].startswith("app.")]
    assert json.loads(rows[0]["detail"])["name"] == "Chat App"

    today = dt.datetime.now(dt.timezone.utc).date()
    assert len(run_cli_json("audit", "export", "--since", str(today), "--until", str(today),
                            data_dir=data_dir)) == len(everything)
    assert run_cli_json("audit", "export", "--until", str(today - dt.timedelta(days=1)), data_dir=data_dir) == []
    # A date-time bound: everything from that instant on (the seed may have written in the same second)
    from_last = run_cli_json("audit", "export", "--since", last["created_at"], data_dir=data_dir)
    assert from_last[-1]["id"] == last["id"] and all(e["created_at"] >= last["created_at"] for e in from_last)
    fails(("audit", "export", "--since", "yesterday"), 2, "--since must be a date", data_dir)
    fails(("audit", "export", "--since", str(today), "--until", str(today - dt.timedelta(days=2))), 2,
          "before --until", data_dir)
    fails(("audit", "export", "--format", "xml"), 2, "invalid choice", data_dir)


def test_errors_lists_failed_calls_without_content(seeded, data_dir):
    rows = run_cli_json("errors", data_dir=data_dir)
    assert len(rows) == 6 and {r["status"] for r in rows} == {502}
    first = rows[0]
    assert (first["app"], first["user"], first["provider"], first["model"], first["error_code"]) == (
        "Chat App", "alice@example.com", "openai", "gpt-4o-mini", "provider_error")
    assert [r["at"] for r in rows] == sorted((r["at"] for r in rows), reverse=True)  # newest first
    assert set(first) == {"at", "status", "error_code", "app", "client_id", "user", "provider", "model",
                          "latency_ms", "streamed"}
    assert run_cli_json("errors", "--status", "429", data_dir=data_dir) == []
    assert len(run_cli_json("errors", "--limit", "2", data_dir=data_dir)) == 2
    assert run_cli_json("errors", "--since", "2020-01-01", "--until", "2020-01-02", data_dir=data_dir) == []
    fails(("errors", "--until", "soon"), 2, "--until must be a date", data_dir)


@pytest.mark.parametrize("args, code, needle", [
    (("users", "disable", "--email", "ghost@example.com"), 1, "ghost@example.com"),
    (("tokens", "revoke", "--grant", "9999"), 1, "9999"),
    (("apps", "enable", "--client-id", "i0_ci_ghost"), 1, "No app"),
    (("usage", "--app", "i0_ci_ghost"), 1, "No app"),
    (("users", "create", "--email", "alice@example.com"), 2, "already exists"),
    (("users", "frobnicate"), 2, "invalid choice"),
    (("apps", "create", "--owner", "dev@example.com", "--name", "X", "--redirect-uri", "ftp://x"), 2, "https"),
    (("usage", "--since", "2025-13-01"), 2, "--since must be a date"),
    # numbers past what a database column holds: bad input, not an overflow traceback
    (("tokens", "revoke", "--grant", "9" * 26), 2, "is not an id"),
    (("providers", "remove", "--user", "alice@example.com", "--id", "9" * 26), 2, "is not an id"),
    (("errors", "--status", "9" * 26), 2, "from 100 to 599"),
    (("errors", "--limit", "9" * 26), 2, "from 1 to 1000000"),
])
def test_one_exit_code_rule(seeded, data_dir, args, code, needle):
    fails(args, code, needle, data_dir)
