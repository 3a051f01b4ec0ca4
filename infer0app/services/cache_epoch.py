"""Reading the cache epoch (see store/migrations/m0006_cache_epoch.py)."""

from __future__ import annotations


def read_epoch(store) -> int:
    row = store.db.execute_sql('SELECT "n" FROM "cache_epoch" WHERE "id" = 1').fetchone()
    return int(row[0]) if row else 0
