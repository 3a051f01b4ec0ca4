"""A short-lived in-memory cache of opened provider targets (decrypted keys stay in memory only).

Keyed by (provider connection, model). runtime/cache_watch.py clears it as soon as any process
changes a provider connection (the database's cache epoch moves), so a replaced key or a
deleted connection is seen within a fraction of a second; TTL only bounds how long an
opened key stays in memory.

Two LRU+TTL caches (cachetools.TTLCache): opened targets, and a small one of its own for
connections that do not exist (None), so lookups of missing connections cannot evict the
targets real requests use.
"""

from __future__ import annotations

import time

from cachetools import TTLCache

from ..services.providers import ProviderTarget
from ..services.targets import load_target

TTL = 60.0
NOT_CACHED = object()  # TargetCache.cached: neither a target nor a known-missing connection
MAX_ENTRIES = 10_000
MISSING_ENTRIES = 1_000


class TargetCache:
    def __init__(self, store, vault, ttl: float = TTL, clock=time.monotonic, max_entries: int = MAX_ENTRIES,
                 missing_entries: int = MISSING_ENTRIES):
        self._store, self._vault = store, vault
        self._found: TTLCache = TTLCache(max_entries, ttl, timer=clock)
        self._missing: TTLCache = TTLCache(missing_entries, ttl, timer=clock)

    async def get(self, provider_id: int, model: str) -> ProviderTarget | None:
        """The opened target for (connection id, model), or None when there is no such connection."""
        target = self.cached(provider_id, model)
        return target if target is not NOT_CACHED else await self.load(provider_id, model)

    async def load(self, provider_id: int, model: str) -> ProviderTarget | None:
        """The target read from the database and kept, after `cached` said NOT_CACHED."""
        key = (provider_id, model or "")
        target = await self._store.run(load_target, self._vault, provider_id, model)
        if target is None:
            self._missing[key] = True
        else:
            self._found[key] = target
        return target

    def cached(self, provider_id: int, model: str) -> ProviderTarget | None | object:
        """`get` from memory only: the target, None (no such connection), or NOT_CACHED."""
        key = (provider_id, model or "")
        try:  # `cache[key]`, not `.get` (two TTL checks): the hot path's one lookup (bench/README.md)
            return self._found[key]
        except KeyError:
            pass
        return None if key in self._missing else NOT_CACHED

    def __len__(self) -> int:
        return len(self._found) + len(self._missing)

    def clear(self) -> None:
        self._found.clear()
        self._missing.clear()
