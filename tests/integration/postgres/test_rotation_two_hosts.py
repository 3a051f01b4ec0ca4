"""KEK rotation across two hosts (issue 15 §3): two `infer0 serve` processes with data dirs of
their own, one PostgreSQL database and ONE keyring file given to both (--keyring-file, as a
shared mount would). The real `infer0 kek rotate` runs from host A's side and SIGKILLs itself
at each of its steps in turn (INFER0_FAULT_ROTATE_KILL_AT, services/kek_rotation.py); after
each kill every provider key still opens (with the keyring file as the crash left it, and
through both servers, host B killed and restarted from that file at the telling steps), and running the rotation again
finishes it with both instances confirmed live and sealing with the new key.

With 16 secrets in batches of 8 the steps are: lock, key added, servers loaded, promoted,
servers switched, 2 × (batch written but not committed, batch committed), verified, retired.
"""

from __future__ import annotations

import asyncio
import json
import signal


from infer0app.services import runtime
from infer0app.vault.keyring import Vault
from tests.integration.kek.secrets_fixture import make_secrets, open_all
from tests.fakes import run_fake
from tests.support.backend import open_data_dir
from tests.support.egress import FAKES_ALLOW
from tests.support.processes import ServerProcess, run_cli
from tests.support.sdk_calls import chat_status
from tests.support.seed import seed_grant

STEPS = ["locked", "key-added", "servers-loaded", "promoted", "servers-switched"] + \
        ["batch-written", "batch-committed"] * 2 + ["verified", "retired"]
# Host B is killed and restarted after these: a pending key in the file, a new primary, a half re-wrap.
RESTART_B_AFTER = {"key-added", "promoted", "batch-written"}


def _live(data_dir, ring: str) -> list[runtime.LiveServer]:
    store, _ = open_data_dir(data_dir, create=False, keyring_file=ring)
    try:
        return runtime.live_servers(store)
    finally:
        store.close()


def _rotate(data_dir, ring: str, kill_at: int | None = None):
    env = {"INFER0_KEYRING_FILE": ring}
    if kill_at:
        env["INFER0_FAULT_ROTATE_KILL_AT"] = str(kill_at)
    return run_cli("kek", "rotate", "--quiet", "--batch-size", "8", "--server-wait", "60", data_dir=data_dir,
                   env=env, timeout=120)


async def test_a_rotation_killed_at_each_step_with_two_hosts_live_loses_nothing_and_a_rerun_finishes(
        data_dir, tmp_path):
    shared = tmp_path / "mounted-secret" / "keyring.json"
    ring = str(shared)
    host_b = tmp_path / "host-b"
    async with run_fake("openai") as fake:
        store, vault = open_data_dir(data_dir, keyring_file=ring)
        try:
            seeded = [seed_grant(store, vault, kind="openai", base_url=fake.base_url, api_key=fake.key,
                                 email=f"caller{i}@example.com") for i in range(4)]
        finally:
            store.close()
        expected = make_secrets(data_dir, 12, keyring_file=ring)
        expected.update({s.provider_id: fake.key for s in seeded})
        flags = ("--keyring-file", ring, "--upstream-allow", FAKES_ALLOW)
        a = ServerProcess(data_dir, *flags)
        b = ServerProcess(host_b, *flags)
        try:
            assert not (data_dir / "keyring.json").exists() and not (host_b / "keyring.json").exists()
            for step in range(1, len(STEPS) + 1):
                before = Vault.load(shared).primary
                killed = await asyncio.to_thread(_rotate, data_dir, ring, step)
                assert killed.returncode == -signal.SIGKILL, killed.stderr
                assert f"SIGKILL at step {step} ({STEPS[step - 1]})" in killed.stderr
                assert sum(open_all(data_dir, expected, keyring_file=ring).values()) == len(expected)
                if STEPS[step - 1] in RESTART_B_AFTER:  # B restarts from the keyring file as the crash left it
                    b.stop(signal.SIGKILL)
                    b = ServerProcess(host_b, *flags)
                token = seeded[step % len(seeded)].access_token  # both servers still open the keys
                assert await chat_status(a.url, token) == 200, f"step {step}: A lost a key"
                assert await chat_status(b.url, token) == 200, f"step {step}: B lost a key"

                rerun = await asyncio.to_thread(_rotate, data_dir, ring)
                assert rerun.returncode == 0, f"step {step}: {rerun.stderr}"
                result = json.loads(rerun.stdout)
                final = Vault.load(shared)
                assert result["new_kek"] == final.primary != before and result["verified"] == len(expected)
                assert result["servers"] == 2  # both hosts confirmed the pick-up before the key was used
                assert all(k.status == "retired" for k in final.keys.values() if k.id != final.primary)
                assert open_all(data_dir, expected, keyring_file=ring) == {final.primary: len(expected)}
                live = _live(data_dir, ring)
                assert sorted(s.pid for s in live) == sorted([a.proc.pid, b.proc.pid])
                assert {s.primary_kek for s in live} == {final.primary}
                if 2 <= step < len(STEPS):  # the killed rotation had begun: the re-run completed *it*
                    assert result["resumed"] is True and before in result["retired"]
                else:
                    assert result["resumed"] is False
            for s in seeded:
                assert (await chat_status(a.url, s.access_token) == 200
                        and await chat_status(b.url, s.access_token) == 200)
        finally:
            a.stop()
            b.stop()
