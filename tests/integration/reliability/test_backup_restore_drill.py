"""The backup and restore drill: `infer0 backup` under load, `infer0 restore` into a new data dir.

The restored server must serve what was true when the backup was taken: tokens live then (and
not touched while it ran) work, provider keys decrypt, the integrity check is ok. And
`infer0 restore` refuses, changing nothing, what copying by hand would let through: an occupied
target, a keyring copy that does not go with the backup, a damaged backup, a newer schema.
"""

from __future__ import annotations

import asyncio
import json
import random
import shutil
import sqlite3
import stat

import aiohttp
import pytest

from infer0app.paths import db_path, keyring_path
from infer0app.services import providers
from infer0app.services.datadir import open_data_dir
from infer0app.store.models import ProviderConnection
from tests.support.crash_checks import integrity
from tests.support.crash_traffic import Ledger, Traffic, seed
from tests.support.processes import ServerProcess, run_cli


def seeded(data_dir):
    store, vault = open_data_dir(data_dir)
    try:
        return seed(store, vault)
    finally:
        store.close()


async def test_backup_under_load_restores_into_a_new_data_dir_that_serves(tmp_path):
    data_dir = tmp_path / "data"
    scene = seeded(data_dir)
    ledger = Ledger()
    server = ServerProcess(data_dir)
    try:
        stop = asyncio.Event()
        clients = asyncio.create_task(Traffic(scene, ledger, rng=random.Random(18)).run(server.url, stop))
        while len(ledger.live()) < 5 or len(ledger.providers) < 3:  # the load is under way
            assert not clients.done(), (clients.result(), ledger.refused[:5])
            await asyncio.sleep(0.05)
        parked = ledger.live()[:3]  # valid at backup time, and kept out of the traffic's hands
        for family in parked:
            family.busy = True
        at_start = {id(f): (f.access, f.refresh) for f in ledger.live()}
        saved_keys = dict(ledger.providers)
        chats_before = len(ledger.chats)
        backup = tmp_path / "backups" / "infer0.sqlite3"
        proc = await asyncio.to_thread(run_cli, "backup", str(backup), data_dir=data_dir)
        chats_during = len(ledger.chats) - chats_before
        stop.set()
        await clients
    finally:
        server.stop()
    assert proc.returncode == 0, proc.stderr
    assert chats_during > 0, "the backup was not taken under load"
    assert not ledger.refused, ledger.refused[:5]
    # Live when the backup started and still live (untouched) when it ended: in the backup for sure.
    valid = parked + [f for f in ledger.live() if at_start.get(id(f)) == (f.access, f.refresh)]
    kept = {name: key for name, key in saved_keys.items() if name in ledger.providers}  # not removed since
    keyring_copy = tmp_path / "backups" / "keyring.json"
    shutil.copy(keyring_path(data_dir), keyring_copy)

    restored = tmp_path / "restored"
    proc = run_cli("restore", str(backup), "--keyring", str(keyring_copy), data_dir=restored)
    assert proc.returncode == 0, proc.stderr
    assert integrity(db_path(restored)) == "ok"

    server = ServerProcess(restored)
    try:
        async with aiohttp.ClientSession() as http:
            for family in valid + [None]:
                token = family.access if family else scene.chat_token
                async with http.get(server.url + "/v1/me", headers={"Authorization": f"Bearer {token}"}) as r:
                    assert r.status == 200, await r.text()
            async with http.post(server.url + "/v1/chat/completions",
                                 headers={"Authorization": f"Bearer {scene.chat_token}"},
                                 json={"model": "x", "messages": [{"role": "user", "content": "hi"}]}) as r:
                assert r.status == 200, await r.text()
    finally:
        server.stop()
    store, vault = open_data_dir(restored, create=False)
    try:
        rows = {c.name: c for c in ProviderConnection.select().where(ProviderConnection.user == scene.dashboard_user_id)}
        assert kept
        for name, key in kept.items():
            assert providers.open_key(vault, rows[name]) == key
    finally:
        store.close()


@pytest.fixture
def backup_pair(tmp_path):
    """A backup holding a sealed provider key, and the keyring copy that goes with it."""
    data_dir = tmp_path / "data"
    store, vault = open_data_dir(data_dir)
    try:
        seed(store, vault)
        user = store.db.execute_sql('SELECT id FROM "user" LIMIT 1').fetchone()[0]
        providers.add_connection(store, vault, user, kind="openai", api_key="sk-restore-0123456789abcdef")
        backup = tmp_path / "backup.sqlite3"
        store.backup_to(backup)
    finally:
        store.close()
    return backup, keyring_path(data_dir)


def test_restore_refuses_an_occupied_data_dir_and_leaves_it_alone(tmp_path, backup_pair):
    backup, keyring = backup_pair
    target = tmp_path / "occupied"
    target.mkdir()
    (target / "keyring.json").write_text("the live keyring")
    proc = run_cli("restore", str(backup), "--keyring", str(keyring), data_dir=target)
    assert proc.returncode == 1 and "keyring.json" in proc.stderr and "empty data" in proc.stderr
    assert sorted(p.name for p in target.iterdir()) == ["keyring.json"]
    assert (target / "keyring.json").read_text() == "the live keyring"


def test_restore_refuses_a_keyring_that_does_not_open_the_backups_keys(tmp_path, backup_pair):
    backup, _ = backup_pair
    other = tmp_path / "other"
    store, _vault = open_data_dir(other)  # a fresh data dir: a keyring of its own
    store.close()
    target = tmp_path / "restored"
    proc = run_cli("restore", str(backup), "--keyring", str(keyring_path(other)), data_dir=target)
    assert proc.returncode == 1 and "do not open with the keyring" in proc.stderr
    assert not target.exists() or list(target.iterdir()) == []


def test_restore_refuses_a_damaged_backup(tmp_path, backup_pair):
    backup, keyring = backup_pair
    raw = bytearray(backup.read_bytes())
    page = 4096
    raw[2 * page:3 * page] = bytes(range(256)) * 16  # a b-tree page of garbage
    backup.write_bytes(bytes(raw))
    target = tmp_path / "restored"
    proc = run_cli("restore", str(backup), "--keyring", str(keyring), data_dir=target)
    assert proc.returncode == 1 and ("integrity" in proc.stderr or "not a readable" in proc.stderr), proc.stderr
    assert not target.exists() or list(target.iterdir()) == []


def test_restore_refuses_a_backup_from_a_newer_infer0(tmp_path, backup_pair):
    backup, keyring = backup_pair
    conn = sqlite3.connect(str(backup))
    with conn:
        conn.execute("INSERT INTO schema_migration (number, name, applied_at) VALUES (9999, 'm9999_future', 0)")
    conn.close()
    proc = run_cli("restore", str(backup), "--keyring", str(keyring), data_dir=tmp_path / "restored")
    assert proc.returncode == 1 and "newer infer0" in proc.stderr


def test_restore_puts_the_keyring_at_the_named_keyring_file_and_never_over_one(tmp_path, backup_pair):
    backup, keyring = backup_pair
    target, shared = tmp_path / "restored", tmp_path / "secrets" / "keyring.json"
    proc = run_cli("restore", str(backup), "--keyring", str(keyring), "--keyring-file", str(shared), data_dir=target)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["keyring"] == str(shared)
    assert shared.read_bytes() == keyring.read_bytes() and stat.S_IMODE(shared.stat().st_mode) == 0o600
    assert not (target / "keyring.json").exists()
    status = run_cli("kek", "status", "--keyring-file", str(shared), data_dir=target)
    assert status.returncode == 0 and json.loads(status.stdout)["secrets_total"] >= 1
    again = run_cli("restore", str(backup), "--keyring", str(keyring), "--keyring-file", str(shared),
                    data_dir=tmp_path / "second")
    assert again.returncode == 1 and str(shared) in again.stderr and "empty data" in again.stderr
