"""Envelope encryption and the keyring file."""

from __future__ import annotations

import dataclasses
import json
import os
import stat

import pytest

from infer0app.vault import envelope
from infer0app.vault.keyring import KeyringError, Vault, open_or_create


@pytest.fixture
def vault(tmp_path):
    return Vault.create(tmp_path / "keyring.json")


def test_round_trip_and_distinct_ciphertexts(vault):
    aad = envelope.provider_aad("uid1", 1)
    a = vault.seal("sk-secret-value", aad)
    b = vault.seal("sk-secret-value", aad)
    assert a.ciphertext != b.ciphertext and a.wrapped_dek != b.wrapped_dek  # fresh DEK and nonce
    assert b"sk-secret" not in a.ciphertext
    assert vault.open(a, aad) == "sk-secret-value"
    assert a.kek_id == vault.primary


@pytest.mark.parametrize("other_aad", [envelope.provider_aad("uid2", 1), envelope.provider_aad("uid1", 2)])
def test_ciphertext_moved_to_another_row_or_owner_fails(vault, other_aad):
    sealed = vault.seal("sk-secret-value", envelope.provider_aad("uid1", 1))
    with pytest.raises(envelope.SealError):
        vault.open(sealed, other_aad)


def test_tampered_ciphertext_fails(vault):
    aad = envelope.provider_aad("u", 1)
    sealed = vault.seal("sk-x", aad)
    # Flip one bit of the tag: overwriting the last byte with a constant left it unchanged 1 time in 256.
    flipped = sealed.ciphertext[:-1] + bytes([sealed.ciphertext[-1] ^ 1])
    broken = envelope.Sealed(sealed.kek_id, sealed.wrapped_dek, flipped)
    with pytest.raises(envelope.SealError, match="the secret does not open for this row"):
        vault.open(broken, aad)


def test_a_secret_sealed_by_an_earlier_version_still_opens():
    """A known answer: the envelope format (nonces, associated data, the KEK binding) is what
    stored databases and backups hold, so it must not drift between versions; an upgrade
    that changed it would make every stored provider key unreadable."""
    sealed = envelope.Sealed(
        "kek-20250101-00000000",
        bytes.fromhex("cb4867faaecde749d98f972720f4e7b9397eb27b9b4a7210973822367e9a6f9d"
                      "fefaab0bd13eeb620d8d9b977f33e8543f9b044a186b3e43c8014688"),
        bytes.fromhex("e05daec0f274d708c6bbb3e4760cd929ef0e3d5fd0bc6a81ab50f0548ec54f9e5c22c0f96991f182c09274"))
    aad = envelope.provider_aad("uid-kat", 42)
    assert envelope.open_sealed(sealed, aad, bytes(range(32))) == b"sk-known-answer"


def test_rewrap_keeps_ciphertext_and_opens_under_new_kek(vault):
    aad = envelope.provider_aad("u", 1)
    sealed = vault.seal("sk-rotate-me", aad)
    new_key = os.urandom(32)
    moved = envelope.rewrap(sealed, aad, vault.keys[sealed.kek_id].key, "kek-new", new_key)
    assert moved.ciphertext == sealed.ciphertext and moved.kek_id == "kek-new"
    assert envelope.open_sealed(moved, aad, new_key) == b"sk-rotate-me"
    with pytest.raises(envelope.SealError):
        envelope.open_sealed(moved, aad, vault.keys[sealed.kek_id].key)


def test_keyring_file_is_private_and_reloads(tmp_path, vault):
    path = tmp_path / "keyring.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    again = Vault.load(path)
    assert again.primary == vault.primary and again.keys[vault.primary].key == vault.keys[vault.primary].key


def test_missing_keyring_is_not_recreated_when_secrets_exist(tmp_path):
    with pytest.raises(KeyringError, match="missing") as err:
        open_or_create(tmp_path / "keyring.json", allow_create=False)
    assert str(tmp_path / "keyring.json") in str(err.value)
    assert not (tmp_path / "keyring.json").exists()


def test_damaged_keyring_is_reported_and_left_untouched(tmp_path):
    path = tmp_path / "keyring.json"
    path.write_text('{"format": "infer0-keyring/1", "keys": [')
    with pytest.raises(KeyringError, match="damaged") as err:
        open_or_create(path, allow_create=True)
    assert str(path) in str(err.value)
    assert path.read_text() == '{"format": "infer0-keyring/1", "keys": ['
    data = json.loads(Vault.create(tmp_path / "k2.json").to_json())
    data["keys"][0]["key"] = "short"
    path.write_text(json.dumps(data))
    with pytest.raises(KeyringError, match="damaged"):
        Vault.load(path)


def test_a_secret_sealed_under_a_kek_added_by_another_process_opens_after_a_reload(tmp_path, vault):
    """A rotation (CLI or TUI, another process) adds a KEK and seals under it; this process
    has not loaded it yet, so `open` re-reads the keyring instead of failing (mutation testing
    found this path untested by the fast tests)."""
    import secrets as _secrets
    import time

    from infer0app.vault.keyring import Kek, new_kek_id

    other = Vault.load(tmp_path / "keyring.json")
    kek = Kek(new_kek_id(), _secrets.token_bytes(32), time.time() + 1, "active")
    other.keys[kek.id] = kek
    other.primary = kek.id
    other.save()
    aad = envelope.provider_aad("uid-reload", 7)
    sealed = other.seal("sk-sealed-elsewhere", aad)
    assert kek.id not in vault.keys
    assert vault.open(sealed, aad) == "sk-sealed-elsewhere"
    assert kek.id in vault.keys
    with pytest.raises(envelope.SealError, match="kek-nowhere is not in the keyring"):
        vault.open(dataclasses.replace(sealed, kek_id="kek-nowhere"), aad)


def test_refusals_say_what_failed(vault):
    """The errors an operator reads in `kek rotate` output and the logs name the failure."""
    sealed = vault.seal("sk-x", envelope.provider_aad("uid-a", 1))
    with pytest.raises(envelope.SealError, match="does not open under this key-encryption key and row"):
        vault.open(sealed, envelope.provider_aad("uid-b", 1))


def test_a_new_keyring_never_replaces_one_that_appeared_meanwhile(tmp_path):
    """Two instances starting at once on one shared --keyring-file: the second must use the first's
    keyring, not write its own over it (secrets sealed by the first would then never open)."""
    path = tmp_path / "shared" / "keyring.json"
    first = open_or_create(path, allow_create=True, given=True)
    racer = Vault.create(tmp_path / "elsewhere.json")  # a keyring made in the same instant elsewhere
    racer.path = path
    with pytest.raises(FileExistsError):
        racer.save(exclusive=True)
    assert Vault.load(path).primary == first.primary
    assert open_or_create(path, allow_create=True, given=True).primary == first.primary
    assert not list(path.parent.glob(".keyring-*"))  # the loser's temp file is gone


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o644])
def test_a_named_keyring_file_readable_by_others_is_refused_and_left_as_it_is(tmp_path, vault, mode):
    path = tmp_path / "keyring.json"
    os.chmod(path, mode)
    with pytest.raises(KeyringError, match="readable by other users") as err:
        open_or_create(path, allow_create=False, given=True)
    assert f"chmod 600 {path}" in str(err.value) and f"{mode:04o}" in str(err.value)
    assert stat.S_IMODE(path.stat().st_mode) == mode  # not the operator's file to change
    os.chmod(path, 0o400)  # a read-only secret mount's mode is fine
    assert open_or_create(path, allow_create=False, given=True).primary == vault.primary
