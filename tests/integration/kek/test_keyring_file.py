"""--keyring-file / INFER0_KEYRING_FILE: one keyring file given to every instance and command
(issue 15 §3), instead of keyring.json in each data dir. Runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import stat
import sys
import subprocess

from infer0app.vault.keyring import Vault
from secrets_fixture import make_secrets, open_all
from tests.support.processes import ROOT, cli_env, free_port, run_cli, run_cli_json


def test_commands_seal_rotate_and_report_with_the_named_keyring_and_the_data_dir_holds_none(data_dir, tmp_path):
    shared = tmp_path / "secrets" / "keyring.json"
    created = run_cli_json("users", "create", "--email", "ada@example.com", "--keyring-file", str(shared), data_dir=data_dir)
    assert created["email"] == "ada@example.com"
    assert stat.S_IMODE(shared.stat().st_mode) == 0o600  # created private by the first command
    assert not (data_dir / "keyring.json").exists()
    expected = make_secrets(data_dir, 5, users=1, keyring_file=str(shared))
    original = Vault.load(shared).primary
    assert open_all(data_dir, expected, keyring_file=str(shared)) == {original: 5}

    env = {"INFER0_KEYRING_FILE": str(shared)}  # the environment variable names it just as well
    status = run_cli_json("kek", "status", data_dir=data_dir, env=env)
    assert status["keyring"] == str(shared) and status["primary"] == original and status["secrets_total"] == 5
    result = run_cli_json("kek", "rotate", "--quiet", data_dir=data_dir, env=env)
    assert result["retired"] == [original] and result["verified"] == 5
    assert Vault.load(shared).primary == result["new_kek"]
    assert open_all(data_dir, expected, keyring_file=str(shared)) == {result["new_kek"]: 5}
    assert not (data_dir / "keyring.json").exists()
    # without the option the command looks for the data dir's keyring, which is not there: refused, not recreated
    missing = run_cli("kek", "status", data_dir=data_dir)
    assert missing.returncode == 1 and "keyring.json is missing" in missing.stderr
    assert not (data_dir / "keyring.json").exists()


def test_a_keyring_file_readable_by_others_is_refused_by_commands_and_by_serve(data_dir, tmp_path):
    shared = tmp_path / "secrets" / "keyring.json"
    make_secrets(data_dir, 1, users=1, keyring_file=str(shared))
    shared.chmod(0o644)
    refused = run_cli("providers", "list", "--user", "user0@example.com", "--keyring-file", str(shared), data_dir=data_dir)
    assert refused.returncode == 1
    assert refused.stderr.startswith("infer0: error: ") and "readable by other users (mode 0644)" in refused.stderr
    assert "Traceback" not in refused.stderr
    serve = subprocess.run([sys.executable, "-m", "infer0app", "serve", "--data-dir", str(data_dir),
                            "--port", str(free_port()), "--keyring-file", str(shared)],
                           capture_output=True, text=True, cwd=ROOT, env=cli_env(), timeout=60)
    assert serve.returncode == 1 and f"chmod 600 {shared}" in serve.stderr
    assert stat.S_IMODE(shared.stat().st_mode) == 0o644  # left as the operator made it
    shared.chmod(0o400)  # a read-only secret mount: fine for everything but a rotation
    listed = run_cli_json("providers", "list", "--user", "user0@example.com", "--keyring-file", str(shared),
                          data_dir=data_dir)
    assert len(listed) == 1
