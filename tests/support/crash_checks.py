"""What must hold in a data dir after a crash, checked against the ledger of acknowledged answers.

`check_stopped` reads the files while no server runs (the test process opens them itself);
`check_served` asks a freshly restarted server over HTTP (introspection and the bearer check).
Both return a list of broken promises (empty when all hold) so a test can report them all.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import aiohttp

from infer0app.paths import db_path
from infer0app.services import providers
from infer0app.services.datadir import open_data_dir
from infer0app.services.secrets_util import sha256_hex
from infer0app.store.models import ProviderConnection
from tests.support.crash_traffic import Ledger, Scene
from tests.support.oauth import basic


def integrity(path: Path) -> str:
    conn = sqlite3.connect(str(path))
    try:
        return ", ".join(row[0] for row in conn.execute("PRAGMA integrity_check"))
    finally:
        conn.close()


def usage_rows(path: Path, grant_id: int) -> int:
    conn = sqlite3.connect(str(path))
    try:
        return conn.execute('SELECT count(*) FROM "usage_event" WHERE grant_id = ?', (grant_id,)).fetchone()[0]
    finally:
        conn.close()


def check_stopped(data_dir: Path, scene: Scene, ledger: Ledger) -> list[str]:
    """Integrity, the keyring opening, every acknowledged token/revocation/connection in the files."""
    broken = []
    result = integrity(db_path(data_dir))
    if result != "ok":
        return [f"integrity_check: {result}"]
    store, vault = open_data_dir(data_dir, create=False)  # raises if the keyring does not open
    try:
        conn = store.db.connection()
        state = {}
        for access_hash, refresh_hash, revoked in conn.execute(
                'SELECT access_hash, refresh_hash, revoked_at IS NOT NULL FROM "token"'):
            state[access_hash] = state[refresh_hash] = bool(revoked)
        for family in ledger.live():
            for token in (family.access, family.refresh):
                if state.get(sha256_hex(token)) is not False:
                    broken.append(f"acknowledged token {token[:10]}… is {'revoked' if token in state else 'missing'}")
        for token in ledger.dead:
            if state.get(sha256_hex(token)) is not True:
                broken.append(f"acknowledged revocation of {token[:10]}… did not hold")
        rows = {c.name: c for c in ProviderConnection.select().where(ProviderConnection.user == scene.dashboard_user_id)}
        for name, key in ledger.providers.items():
            if name not in rows:
                broken.append(f"acknowledged connection {name} is missing")
            elif providers.open_key(vault, rows[name]) != key:
                broken.append(f"connection {name}'s key does not decrypt to what was saved")
        broken += [f"acknowledged removal of connection {name} did not hold" for name in ledger.removed if name in rows]
    finally:
        store.close()
    return broken


async def check_served(url: str, scene: Scene, ledger: Ledger) -> list[str]:
    """Over HTTP: tokens changed in the last round answer as acknowledged (bearer check and RFC 7662)."""
    broken = []
    auth = {"Authorization": basic(scene.client_id, scene.client_secret)}
    async with aiohttp.ClientSession() as http:
        async def active(token: str) -> bool:
            async with http.post(url + "/v1/oauth/introspect", headers=auth, data={"token": token}) as r:
                return (await r.json())["active"]

        async def bearer_ok(token: str) -> int:
            async with http.get(url + "/v1/me", headers={"Authorization": f"Bearer {token}"}) as r:
                await r.read()
                return r.status

        for family in ledger.live():
            if not family.touched:
                continue
            family.touched = False
            if await bearer_ok(family.access) != 200 or not await active(family.refresh):
                broken.append(f"acknowledged token {family.access[:10]}… refused after restart")
        for token in ledger.new_dead:
            if await active(token) or (token.startswith("i0_at_") and await bearer_ok(token) != 401):
                broken.append(f"revoked token {token[:10]}… accepted after restart")
        ledger.new_dead.clear()
    return broken
