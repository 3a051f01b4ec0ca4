"""Every change a running server may have cached moves the cache epoch, whoever writes it.

The triggers (migrations 6, 8 and 10) are the promise that "no write path can forget": a
dropped trigger would let a revocation, a disable or a new limit go unseen by running
servers until their caches happen to expire. Each watched change is made here with plain
SQL, as any other process (the CLI, the admin TUI, an operator's sqlite3 shell) could.
"""

from __future__ import annotations

import shutil
import time

import pytest

from infer0app.services.cache_epoch import read_epoch
from infer0app.services.datadir import open_data_dir
from tests.support.seed import seed_grant

NOW = time.time()

# (what changes, the SQL that changes it); {g} grant id, {u} user id, {a} app id, {p} provider id
CHANGES = [
    ("grant revoked", 'UPDATE "grant" SET revoked_at = %s WHERE id = {g}' % NOW),
    ("grant provider", 'UPDATE "grant" SET provider_id = {p2} WHERE id = {g}'),
    ("grant model", 'UPDATE "grant" SET model = \'other\' WHERE id = {g}'),
    ("grant model choice", 'UPDATE "grant" SET allow_model_choice = 1 - allow_model_choice WHERE id = {g}'),
    ("grant embedding model", 'UPDATE "grant" SET embedding_model = \'emb\' WHERE id = {g}'),
    ("token revoked", 'UPDATE "token" SET revoked_at = %s' % NOW),
    ("token expiry", 'UPDATE "token" SET access_expires_at = access_expires_at - 1'),
    ("token hash", 'UPDATE "token" SET access_hash = \'x\' || access_hash'),
    ("user disabled", 'UPDATE "user" SET disabled = 1 WHERE id = {u}'),
    ("app disabled", 'UPDATE "oauth_app" SET disabled = 1 WHERE id = {a}'),
    ("app client id", 'UPDATE "oauth_app" SET client_id = client_id || \'x\' WHERE id = {a}'),
    ("provider changed", 'UPDATE "provider_connection" SET name = \'renamed\' WHERE id = {p}'),
    ("grant limit added", 'INSERT INTO "grant_limit" (grant_id, requests_per_minute, updated_at) '
                          'VALUES ({g}, 5, %s)' % NOW),
    ("grant limit changed", 'UPDATE "grant_limit" SET requests_per_minute = 6'),
    ("grant limit removed", 'DELETE FROM "grant_limit"'),
    ("connection limit added", 'INSERT INTO "connection_limit" (provider_id, spend_per_day_micro_usd, updated_at) '
                               'VALUES ({p}, 1000, %s)' % NOW),
    ("connection limit changed", 'UPDATE "connection_limit" SET spend_per_day_micro_usd = 2000'),
    ("connection limit removed", 'DELETE FROM "connection_limit"'),
    ("price added", 'INSERT INTO "connection_price" (provider_id, model, input_usd_per_mtok, output_usd_per_mtok) '
                    'VALUES ({p}, \'m\', 1, 2)'),
    ("price changed", 'UPDATE "connection_price" SET output_usd_per_mtok = 3'),
    ("price removed", 'DELETE FROM "connection_price"'),
    ("fallback added", 'INSERT INTO "grant_fallback" (grant_id, provider_id, position) VALUES ({g}, {p2}, 2)'),
    ("fallback reordered", 'UPDATE "grant_fallback" SET position = 2'),
    ("fallback removed", 'DELETE FROM "grant_fallback"'),
    ("token deleted", 'DELETE FROM "token"'),
    ("grant deleted", 'DELETE FROM "grant" WHERE id = {g}'),
    ("provider deleted", 'DELETE FROM "provider_connection" WHERE id = {p2}'),
    ("app deleted", 'DELETE FROM "oauth_app" WHERE id = {a}'),
    ("user deleted", 'DELETE FROM "user" WHERE id = {u}'),
]


SCENE = [  # rows for the changes above to change
    'INSERT INTO "grant_limit" (grant_id, requests_per_minute, updated_at) VALUES ({g2}, 5, %s)' % NOW,
    'INSERT INTO "connection_limit" (provider_id, spend_per_day_micro_usd, updated_at) VALUES ({p2}, 1, %s)' % NOW,
    'INSERT INTO "connection_price" (provider_id, model, input_usd_per_mtok, output_usd_per_mtok) '
    'VALUES ({p2}, \'n\', 1, 2)',
    'INSERT INTO "grant_fallback" (grant_id, provider_id, position) VALUES ({g2}, {p}, 1)',
]


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    """One seeded data dir; each test works on a copy of it, so the order of tests is free."""
    path = tmp_path_factory.mktemp("epoch") / "d"
    store, vault = open_data_dir(path)
    s = seed_grant(store, vault, kind="sandbox")
    other = seed_grant(store, vault, kind="sandbox")
    ids = {"g": s.grant_id, "u": s.user_id, "a": s.app_id, "p": s.provider_id, "p2": other.provider_id,
           "g2": other.grant_id}
    with store.write():
        for sql in SCENE:
            store.db.execute_sql(sql.format(**ids))
    store.close()
    return path, ids


@pytest.fixture
def seeded(template, tmp_path):
    path, ids = template
    shutil.copytree(path, tmp_path / "d")
    store, _ = open_data_dir(tmp_path / "d")
    yield store, ids
    store.close()


@pytest.mark.parametrize("what, sql", CHANGES, ids=[c[0] for c in CHANGES])
def test_each_watched_change_moves_the_epoch(seeded, what, sql):
    store, ids = seeded
    before = read_epoch(store)
    with store.write():
        changed = store.db.execute_sql(sql.format(**ids)).rowcount
    assert changed >= 1, f"{what}: the statement changed no row, the test proves nothing"
    assert read_epoch(store) > before, f"{what} did not move the cache epoch"
