"""`infer0 kek status|rotate` for scripts: JSON on stdout, progress on stderr, clear errors."""

from __future__ import annotations

import secrets
import time

from infer0app.services.kek_rotation import rotation_lock
from infer0app.vault.keyring import Kek, Vault
from secrets_fixture import make_secrets, open_all
from tests.support.processes import run_cli, run_cli_json


def test_status_lists_keys_with_the_secrets_each_wraps(data_dir):
    make_secrets(data_dir, 5, users=2)
    ring = Vault.load(data_dir / "keyring.json")
    status = run_cli_json("kek", "status", data_dir=data_dir)
    assert status["primary"] == ring.primary and status["keyring"] == str(data_dir / "keyring.json")
    assert status["rotation_in_progress"] is False and status["secrets_total"] == 5
    assert status["secrets_without_kek"] == 0 and status["servers"] == []
    [key] = status["keys"]
    assert key["id"] == ring.primary and key["status"] == "active" and key["primary"] is True
    assert key["secrets"] == 5 and key["created_at"].endswith("+00:00")
    assert "key" not in key and ring.keys[ring.primary].key.hex() not in str(status)  # never key material


def test_rotate_prints_the_result_and_progress(data_dir):
    expected = make_secrets(data_dir, 5, users=2)
    old = Vault.load(data_dir / "keyring.json").primary
    proc = run_cli("kek", "rotate", data_dir=data_dir)
    assert proc.returncode == 0, proc.stderr
    import json
    result = json.loads(proc.stdout)
    assert result["old_keks"] == [old] and result["retired"] == [old] and result["resumed"] is False
    assert result["rewrapped"] == 5 and result["verified"] == 5 and result["servers"] == 0
    for phase in ("[add]", "[promote]", "[rewrap]", "[verify]", "[retire]", "[done]"):
        assert phase in proc.stderr
    status = run_cli_json("kek", "status", data_dir=data_dir)
    assert [(k["id"], k["status"], k["secrets"]) for k in status["keys"]] == [
        (result["new_kek"], "active", 5), (old, "retired", 0)]
    assert open_all(data_dir, expected) == {result["new_kek"]: 5}
    assert status["rotation_in_progress"] is False
    again = run_cli_json("kek", "rotate", "--quiet", data_dir=data_dir)  # and a second rotation works too
    assert again["retired"] == [result["new_kek"]] and again["resumed"] is False


def test_status_reports_an_interrupted_rotation_and_rotate_finishes_it(data_dir):
    expected = make_secrets(data_dir, 3)
    ring = Vault.load(data_dir / "keyring.json")
    ring.keys["kek-left-behind"] = Kek("kek-left-behind", secrets.token_bytes(32), time.time(), "pending")
    ring.save()
    status = run_cli_json("kek", "status", data_dir=data_dir)
    assert status["rotation_in_progress"] is True
    assert {k["id"]: k["status"] for k in status["keys"]}["kek-left-behind"] == "pending"
    result = run_cli_json("kek", "rotate", "--quiet", data_dir=data_dir)
    assert result["resumed"] is True and result["new_kek"] == "kek-left-behind"
    assert open_all(data_dir, expected) == {"kek-left-behind": 3}


def test_rotate_refuses_to_run_twice_at_once(data_dir):
    make_secrets(data_dir, 1, users=1)
    with rotation_lock(data_dir / "keyring.json"):
        proc = run_cli("kek", "rotate", data_dir=data_dir)
    assert proc.returncode == 1 and proc.stdout == ""
    assert proc.stderr.strip() == ("infer0: error: Another key rotation is running on this data directory; "
                                   "wait for it to finish.")


def test_kek_commands_need_an_existing_data_dir(tmp_path):
    for action in ("status", "rotate"):
        proc = run_cli("kek", action, data_dir=tmp_path / "nowhere")
        assert proc.returncode == 1 and "No infer0 database in" in proc.stderr
    assert not (tmp_path / "nowhere").exists()


def test_rotate_refuses_out_of_range_batch_size_and_server_wait(data_dir):
    # --batch-size 0 / -1 / 10**30 and --server-wait nan / inf / -5 used to start a rotation
    # (a huge batch holds the write lock for the whole table; nan or inf waits forever).
    make_secrets(data_dir, 2, users=1)
    primary = Vault.load(data_dir / "keyring.json").primary
    for flag, value in [("--batch-size", "0"), ("--batch-size", "-1"), ("--batch-size", "1" + "0" * 30),
                        ("--batch-size", "2.5"), ("--server-wait", "nan"), ("--server-wait", "inf"),
                        ("--server-wait", "-5"), ("--server-wait", "1e9")]:
        proc = run_cli("kek", "rotate", flag, value, data_dir=data_dir)
        assert proc.returncode == 2 and proc.stdout == "", (flag, value, proc.stderr)
        assert f"argument {flag}" in proc.stderr and "from" in proc.stderr and "Traceback" not in proc.stderr
    assert Vault.load(data_dir / "keyring.json").primary == primary  # nothing was rotated
    assert run_cli("kek", "rotate", "--batch-size", "10000", "--server-wait", "0", data_dir=data_dir).returncode == 0
