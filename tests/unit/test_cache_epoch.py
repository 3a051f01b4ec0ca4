"""The cache epoch moves on every write that can invalidate a server's caches, and only then."""

from __future__ import annotations

import time

import pytest

from infer0app.services import accounts, apps, grants, providers
from infer0app.services.cache_epoch import read_epoch
from infer0app.services.usage_log import UsageRecord, insert_batch
from infer0app.store.models import Token
from tests.support.backend import BACKENDS, open_data_dir
from tests.support.seed import seed_grant


@pytest.mark.parametrize("backend", BACKENDS, indirect=True)  # SQLite triggers, PostgreSQL's (m0006)
def test_epoch_moves_on_invalidating_writes_only(tmp_path, backend):
    store, vault = open_data_dir(tmp_path / "d")
    try:
        s = seed_grant(store, vault, kind="sandbox")

        def moved(action) -> bool:
            before = read_epoch(store)
            action()
            return read_epoch(store) > before

        # hot-path writes do not flush caches
        assert not moved(lambda: insert_batch(store, [UsageRecord(s.user_id, s.app_id, s.grant_id, "sandbox",
                                                                   "m", 200, 1.0, False)]))
        assert not moved(lambda: accounts.create_user(store, "new@example.com", None, actor="cli:test"))
        # everything that can make a cached token or target wrong does
        assert moved(lambda: providers.update_connection(store, vault, s.user_id, s.provider_id, name="x",
                                                         base_url="", model="other"))
        assert moved(lambda: grants.update_grant_choice(store, s.user_id, s.grant_id, provider_id=s.provider_id,
                                                        model="other"))
        assert moved(lambda: apps.set_disabled(store, s.client_id, True, actor="cli:test"))
        assert moved(lambda: accounts.set_disabled(store, s.email, True, actor="cli:test"))
        with store.write():
            assert moved(lambda: Token.update(revoked_at=time.time()).execute())
        assert moved(lambda: grants.revoke_grant(store, s.grant_id, "cli:test"))
        assert moved(lambda: providers.delete_connection(store, s.user_id, s.provider_id))
    finally:
        store.close()
