"""KEK rotation survives SIGKILL at any step: no secret is lost, and running it again finishes it.

The rotation runs as the real `infer0 kek rotate` in a subprocess; INFER0_FAULT_ROTATE_KILL_AT=N
makes it SIGKILL itself at its N-th step (services/kek_rotation.py names each step). With 40
secrets and batches of 8 there are 17 steps: lock, key added, servers loaded, promoted,
servers switched, 5 × (batch written but not committed, batch committed), verified, retired.
"""

from __future__ import annotations

import json
import shutil
import signal

import pytest

from infer0app.vault.keyring import Vault
from secrets_fixture import make_secrets, open_all
from tests.support.processes import run_cli

SECRETS = 40
STEPS = ["locked", "key-added", "servers-loaded", "promoted", "servers-switched"] + \
        ["batch-written", "batch-committed"] * 5 + ["verified", "retired"]


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    data = tmp_path_factory.mktemp("template") / "data"
    expected = make_secrets(data, SECRETS)
    return data, expected


def fresh_copy(template, tmp_path):
    src, expected = template
    dest = tmp_path / "data"
    shutil.copytree(src, dest)
    return dest, expected


def rotate(data_dir, kill_at: int | None = None):
    env = {"INFER0_FAULT_ROTATE_KILL_AT": str(kill_at)} if kill_at else None
    return run_cli("kek", "rotate", "--quiet", data_dir=data_dir, env=env)


def assert_finished(data_dir, expected, original_primary: str) -> Vault:
    ring = Vault.load(data_dir / "keyring.json")
    assert ring.primary != original_primary
    assert open_all(data_dir, expected) == {ring.primary: SECRETS}
    assert all(k.status == "retired" for k in ring.keys.values() if k.id != ring.primary)
    assert ring.keys[ring.primary].status == "active"
    assert not list(data_dir.glob(".keyring-*"))
    return ring


@pytest.mark.parametrize("step", range(1, len(STEPS) + 1), ids=lambda n: f"{n}-{STEPS[n - 1]}")
def test_sigkill_at_each_step_loses_nothing_and_a_rerun_finishes(template, tmp_path, step):
    data_dir, expected = fresh_copy(template, tmp_path)
    original = Vault.load(data_dir / "keyring.json").primary

    killed = rotate(data_dir, kill_at=step)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert f"SIGKILL at step {step} ({STEPS[step - 1]})" in killed.stderr
    # every secret still opens with the keyring as the crash left it
    open_all(data_dir, expected)
    ring = Vault.load(data_dir / "keyring.json")
    started = [k.id for k in ring.keys.values() if k.id != original]

    rerun = rotate(data_dir)
    assert rerun.returncode == 0, rerun.stderr
    result = json.loads(rerun.stdout)
    final = assert_finished(data_dir, expected, original)
    assert result["new_kek"] == final.primary and result["verified"] == SECRETS
    if 2 <= step < len(STEPS):  # the killed rotation had begun: the re-run completes *it*
        assert result["resumed"] is True and started == [final.primary]
        assert original in result["retired"]
    else:  # killed before adding a key, or after retiring: nothing to resume, a new rotation runs
        assert result["resumed"] is False


def test_repeated_kills_of_resumed_runs_still_converge(template, tmp_path):
    data_dir, expected = fresh_copy(template, tmp_path)
    original = Vault.load(data_dir / "keyring.json").primary
    # killed again and again (key added; mid-batch; after a batch; mid-batch; mid-batch), each run
    # resuming the same rotation a little further on
    for step in (2, 7, 4, 5, 3):
        killed = rotate(data_dir, kill_at=step)
        assert killed.returncode == -signal.SIGKILL, killed.stderr
        counts = open_all(data_dir, expected)
        assert sum(counts.values()) == SECRETS
    ring = Vault.load(data_dir / "keyring.json")
    assert len(ring.keys) == 2  # resuming never piles up new keys
    rerun = rotate(data_dir)
    assert rerun.returncode == 0, rerun.stderr
    assert_finished(data_dir, expected, original)


def test_an_unset_or_unparsable_fault_variable_is_inert(template, tmp_path):
    data_dir, expected = fresh_copy(template, tmp_path)
    original = Vault.load(data_dir / "keyring.json").primary
    proc = run_cli("kek", "rotate", "--quiet", data_dir=data_dir, env={"INFER0_FAULT_ROTATE_KILL_AT": "no"})
    assert proc.returncode == 0, proc.stderr
    assert_finished(data_dir, expected, original)
