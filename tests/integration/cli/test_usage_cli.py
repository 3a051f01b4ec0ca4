"""`infer0 usage`: the operator's usage by user and by app, JSON by default, CSV on request."""

from __future__ import annotations

import csv
import io

import pytest

from tests.support.processes import run_cli, run_cli_json
from tests.tui.seed import seed


@pytest.fixture
def seeded(data_dir):
    return seed(data_dir)


def test_usage_by_user_and_app_as_json(seeded, data_dir):
    out = run_cli_json("usage", data_dir=data_dir)
    users = {t["label"]: t for t in out["by_user"]}
    assert users["alice@example.com"]["requests"] == 30 and users["bob@example.com"]["requests"] == 12
    assert users["alice@example.com"]["errors_by_status"] == {"502": 6}
    assert [(t["label"], t["requests"], t["users"]) for t in out["by_app"]] == [("Chat App", 42, 2)]
    assert out["total"]["requests"] == 42 and len(out["days"]) == 30
    alice = run_cli_json("usage", "--user", "alice@example.com", data_dir=data_dir)
    assert alice["total"]["requests"] == 30 and [t["label"] for t in alice["by_user"]] == ["alice@example.com"]
    chat = seeded.apps["Chat App"].client_id
    assert run_cli_json("usage", "--app", chat, data_dir=data_dir)["total"]["requests"] == 42
    tool = seeded.apps["CLI Tool"].client_id
    assert run_cli_json("usage", "--app", tool, data_dir=data_dir)["total"]["requests"] == 0
    old = run_cli_json("usage", "--since", "2020-01-01", "--until", "2020-01-31", data_dir=data_dir)
    assert old["total"]["requests"] == 0 and old["since"] == "2020-01-01" and len(old["days"]) == 31


def test_usage_as_csv_and_bad_input(seeded, data_dir):
    proc = run_cli("usage", "--format", "csv", data_dir=data_dir)
    assert proc.returncode == 0, proc.stderr
    rows = list(csv.DictReader(io.StringIO(proc.stdout)))
    assert sum(int(r["requests"]) for r in rows) == 42
    assert {r["user"] for r in rows} == {"alice@example.com", "bob@example.com"}
    bad = run_cli("usage", "--since", "last week", data_dir=data_dir)
    assert bad.returncode == 2 and "--since must be a date" in bad.stderr and "Traceback" not in bad.stderr
    for command in (("usage", "--until", "0001-01-01"), ("usage", "--until", "9999-12-31"),
                    ("audit", "export", "--until", "9999-12-31"), ("errors", "--until", "9999-12-31")):
        edge = run_cli(*command, data_dir=data_dir)  # dates that overflow Python's calendar
        assert edge.returncode == 2 and "--until" in edge.stderr and "Traceback" not in edge.stderr, command
    nobody = run_cli("usage", "--user", "nobody@example.com", data_dir=data_dir)
    assert nobody.returncode == 1 and "Traceback" not in nobody.stderr
