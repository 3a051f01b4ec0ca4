"""The rotation's handshake with running servers, its lock, its compare-and-swap writes, and
what it does with a secret it cannot open. In-process, against a real data dir."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest

from infer0app.services import kek_rotation, providers, runtime
from tests.support.backend import open_data_dir
from infer0app.store.models import AuditEvent, ProviderConnection, ServerInstance, non_key_fields
from infer0app.vault.keyring import Vault
from secrets_fixture import make_secrets, open_all


@pytest.fixture
def data(data_dir):
    expected = make_secrets(data_dir, 12, users=3)
    store, vault = open_data_dir(data_dir, create=False)
    yield store, vault, data_dir / "keyring.json", expected
    store.close()


def fake_server(store, *, kek_ids, primary, pid=None, host=None, age=0.0):
    """A row as a running server's keyring watcher writes it."""
    with store.write():
        (ServerInstance.insert(instance_id=f"fake{pid or os.getpid()}", pid=pid or os.getpid(),
                              host=host or runtime.this_host(), version="test", started_at=time.time() - 60,
                              heartbeat_at=time.time() - age, kek_ids=json.dumps(sorted(kek_ids)),
                              primary_kek=primary)
         .on_conflict(conflict_target=[ServerInstance.instance_id],
                      preserve=non_key_fields(ServerInstance)).execute())


def test_waits_for_running_servers_at_each_handshake_and_resumes(data):
    store, vault, ring_file, expected = data
    old = vault.primary
    fake_server(store, kek_ids=[old], primary=old)

    with pytest.raises(kek_rotation.RotationError, match="did not load the new key"):
        kek_rotation.rotate(store, ring_file, actor="cli:test", server_wait=0.3)
    ring = Vault.load(ring_file)
    pending = [k.id for k in ring.keys.values() if k.status == "pending"]
    assert ring.primary == old and len(pending) == 1  # not promoted while a server lacks the key
    assert set(open_all(ring_file.parent, expected, store)) == {old}

    fake_server(store, kek_ids=[old, pending[0]], primary=old)  # the server picked it up
    with pytest.raises(kek_rotation.RotationError, match="did not switch to the new key"):
        kek_rotation.rotate(store, ring_file, actor="cli:test", server_wait=0.3)
    assert Vault.load(ring_file).primary == pending[0]  # promoted, but nothing re-wrapped yet
    assert set(open_all(ring_file.parent, expected, store)) == {old}

    fake_server(store, kek_ids=[old, pending[0]], primary=pending[0])
    result = kek_rotation.rotate(store, ring_file, actor="cli:test", server_wait=0.3)
    assert result.resumed and result.new_kek == pending[0] and result.servers == 1
    assert result.retired == [old] and result.verified == 12
    assert open_all(ring_file.parent, expected, store) == {pending[0]: 12}


def test_gone_or_stale_servers_do_not_hold_a_rotation(data):
    store, vault, ring_file, expected = data
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    fake_server(store, kek_ids=[vault.primary], primary=vault.primary, pid=int(dead.stdout))  # its process is gone
    fake_server(store, kek_ids=[vault.primary], primary=vault.primary, pid=1, host="elsewhere",
                age=runtime.STALE_AFTER + 1)  # another host, silent for too long
    assert runtime.live_servers(store) == []
    started = time.monotonic()
    result = kek_rotation.rotate(store, ring_file, actor="cli:test", server_wait=5)
    assert time.monotonic() - started < 2 and result.servers == 0


def test_a_second_rotation_is_refused_while_one_runs(data):
    store, vault, ring_file, expected = data
    with kek_rotation.rotation_lock(ring_file):
        with pytest.raises(kek_rotation.RotationBusy, match="Another key rotation is running"):
            kek_rotation.rotate(store, ring_file, actor="cli:test")
    assert len(Vault.load(ring_file).keys) == 1


def test_rewrap_never_overwrites_a_key_changed_meanwhile(data, monkeypatch):
    """A user replaces their key (sealed under the old primary by a server that has not switched
    yet) between the rotation reading a row and writing it: the compare-and-swap leaves the new
    key alone, and the next pass re-wraps *it*."""
    store, vault, ring_file, expected = data
    victim = min(expected)
    lagging = Vault.load(ring_file)  # a server still sealing with the old KEK
    real_wrap = kek_rotation.wrap_dek
    changed = []

    def wrap_then_race(dek, aad, kek_id, kek):
        if not changed:
            conn = ProviderConnection.get_by_id(victim)
            providers.update_connection(store, lagging, conn.user_id, victim, name=conn.name, base_url="",
                                        model="", api_key="sk-replaced-during-rotation-1234")
            changed.append(victim)
        return real_wrap(dek, aad, kek_id, kek)

    monkeypatch.setattr(kek_rotation, "wrap_dek", wrap_then_race)
    result = kek_rotation.rotate(store, ring_file, actor="cli:test")
    assert changed == [victim] and result.verified == 12
    expected[victim] = "sk-replaced-during-rotation-1234"
    assert open_all(ring_file.parent, expected, store) == {result.new_kek: 12}


def test_a_secret_that_cannot_be_opened_stops_before_retiring(data):
    store, vault, ring_file, expected = data
    old = vault.primary
    broken = max(expected)
    with store.write():
        ProviderConnection.update(wrapped_dek=b"\0" * 60).where(ProviderConnection.id == broken).execute()
    unreadable = rf"provider connection {broken} \(its data key does not open\)"
    with pytest.raises(kek_rotation.RotationError, match=unreadable):
        kek_rotation.rotate(store, ring_file, actor="cli:test")
    ring = Vault.load(ring_file)
    assert ring.primary != old and ring.keys[old].status == "active"  # the old KEK is kept
    status = kek_rotation.keyring_status(store, ring_file)
    assert status.rotation_in_progress
    assert {k.id: k.secrets for k in status.keys} == {ring.primary: 11, old: 1}
    assert AuditEvent.select().where(AuditEvent.action == "kek.rotate.failed").count() == 1

    with store.write():  # the operator deletes the damaged connection; the rotation then finishes
        ProviderConnection.delete().where(ProviderConnection.id == broken).execute()
    del expected[broken]
    result = kek_rotation.rotate(store, ring_file, actor="cli:test")
    assert result.resumed and result.retired == [old]
    assert open_all(ring_file.parent, expected, store) == {ring.primary: 11}


def test_server_watcher_reports_and_picks_up_rewrites_within_a_clock_tick(data):
    """The keyring watcher notices a rewrite even when size, mtime and inode could all repeat."""
    store, vault, ring_file, expected = data
    watcher = runtime.KeyringWatcher(store, vault)
    watcher.start()
    row = runtime.live_servers(store)[0]
    assert row.pid == os.getpid() and row.kek_ids == (vault.primary,) and row.primary_kek == vault.primary
    ring = Vault.load(ring_file)
    import dataclasses
    import secrets as pysecrets
    from infer0app.vault.keyring import Kek
    first = Kek("kek-a", pysecrets.token_bytes(32), 1.0, "pending")
    ring.keys[first.id] = first
    ring.save()
    st = os.stat(ring_file)
    ring.keys["kek-a"] = dataclasses.replace(first, key=pysecrets.token_bytes(32))  # same length, same size
    ring.save()
    os.utime(ring_file, ns=(st.st_atime_ns, st.st_mtime_ns))  # same mtime as the previous version
    assert watcher.tick() is True
    assert vault.keys["kek-a"].key == ring.keys["kek-a"].key
    assert runtime.live_servers(store)[0].kek_ids == tuple(sorted([vault.primary, "kek-a"]))
    watcher.stop()
    assert runtime.live_servers(store) == []
