"""A short-lived in-memory cache of opened provider targets (decrypted keys stay in memory only).

Keyed by (provider connection, model). runtime/cache_watch.py clears it as soon as any process
changes a provider connection (the database's cache epoch moves), so a replaced key or a
deleted connection is seen within a fraction of a second; TTL only bounds how long an
opened key stays in memory.
"""

from __future__ import annotations

import time

from ..services.providers import ProviderTarget
from ..services.targets import load_target

TTL = 60.0
MAX_ENTRIES = 10_000


class TargetCache:
    def __init__(self, store, vault, ttl: float = TTL, clock=time.monotonic):
        self._store, self._vault, self._ttl, self._clock = store, vault, ttl, clock
        self._entries: dict[tuple[int, str], tuple[float, ProviderTarget | None]] = {}

    async def get(self, provider_id: int, model: str) -> ProviderTarget | None:
        key = (provider_id, model or "")
        now = self._clock()
        hit = self._entries.get(key)
        if hit is not None and hit[0] > now:
            return hit[1]
        target = await self._store.run(load_target, self._vault, provider_id, model)
        if len(self._entries) >= MAX_ENTRIES:
            self._entries.clear()
        self._entries[key] = (now + self._ttl, target)
        return target

    def clear(self) -> None:
        self._entries.clear()
