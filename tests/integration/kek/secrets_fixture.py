"""A data dir holding many sealed provider keys, and a check that every one of them still opens."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from infer0app.services import accounts, providers
from tests.support.backend import open_data_dir
from infer0app.store.models import ProviderConnection


def make_secrets(data_dir: Path, count: int = 40, *, users: int = 4, kind: str = "openai", base_url: str = "",
                 password: str | None = None, keyring_file: str = "") -> dict[int, str]:
    """`count` connections with distinct keys spread over `users` users; returns {connection id: key}.
    `keyring_file`: seal with that keyring (--keyring-file) instead of the data dir's."""
    store, vault = open_data_dir(data_dir, keyring_file=keyring_file)
    expected = {}
    try:
        ids = [accounts.create_user(store, f"user{u}@example.com", password, actor="cli:test").id for u in range(users)]
        for i in range(count):
            key = f"sk-test-{i:04d}-{'x' * 24}"
            conn = providers.add_connection(store, vault, ids[i % users], kind=kind, name=f"conn {i}", api_key=key,
                                            base_url=base_url, model="m" if base_url else "", actor="cli:test")
            expected[conn.id] = key
    finally:
        store.close()
    return expected


def open_all(data_dir: Path, expected: dict[int, str], store=None, keyring_file: str = "") -> Counter:
    """Asserts every secret decrypts to its key with the keyring on disk (the data dir's, or
    `keyring_file`); returns secrets per KEK id.

    Pass the test's open `store` if it has one: peewee binds the models to the most recently
    opened database, so a second Store in the same process would take them over.
    """
    from infer0app.paths import keyring_path
    from infer0app.vault.keyring import Vault

    own = store is None
    if own:
        store, _ = open_data_dir(data_dir, create=False, keyring_file=keyring_file)
    try:
        vault = Vault.load(Path(keyring_file) if keyring_file else keyring_path(data_dir))
        conns = list(ProviderConnection.select().where(ProviderConnection.id.in_(list(expected))))
        assert len(conns) == len(expected)
        for conn in conns:
            assert providers.open_key(vault, conn) == expected[conn.id], f"connection {conn.id} lost its key"
        return Counter(c.kek_id for c in conns)
    finally:
        if own:
            store.close()
