"""Store lifecycle: once closed, a store refuses work instead of quietly starting a new pool."""

from __future__ import annotations

import pytest

from infer0app.services import accounts
from infer0app.services.datadir import open_data_dir
from infer0app.store.database import StoreClosed, StoreError


async def test_run_after_close_raises_and_starts_no_executor(tmp_path):
    store, _vault = open_data_dir(tmp_path / "d")
    assert await store.run(accounts.list_users) == []  # works while open
    store.close()
    with pytest.raises(StoreClosed, match="closed") as caught:
        await store.run(accounts.list_users)
    assert isinstance(caught.value, StoreError)
    assert str(store.path) in str(caught.value)
    assert store._executor is None  # no pool was made behind the caller's back


async def test_run_grouped_after_close_raises(tmp_path):
    store, _vault = open_data_dir(tmp_path / "d")
    store.close()
    with pytest.raises(StoreClosed):
        await store.run_grouped(accounts.list_users)
