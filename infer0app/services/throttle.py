"""Sign-in throttling, per account and per address, in memory.

A sliding window of recent failures; past the limit, further attempts are refused without
checking the password (so guessing costs the attacker time, not us CPU). Kept in memory:
each server process throttles what it sees, which is enough for one appliance.
"""

from __future__ import annotations

import time
from collections import defaultdict, deque


class Throttle:
    def __init__(self, *, per_account: int = 5, per_address: int = 20, window: float = 900.0,
                 clock=time.monotonic):
        self.per_account = per_account
        self.per_address = per_address
        self.window = window
        self._clock = clock
        self._fails: dict[str, deque[float]] = defaultdict(deque)

    def _recent(self, key: str) -> deque[float]:
        q = self._fails[key]
        cutoff = self._clock() - self.window
        while q and q[0] < cutoff:
            q.popleft()
        return q

    def blocked(self, account: str, address: str) -> bool:
        return (len(self._recent("a:" + account)) >= self.per_account
                or len(self._recent("i:" + address)) >= self.per_address)

    def failed(self, account: str, address: str) -> None:
        now = self._clock()
        self._fails["a:" + account].append(now)
        self._fails["i:" + address].append(now)
        if len(self._fails) > 100_000:  # bound memory under a spray of addresses
            for key in [k for k, q in self._fails.items() if not self._recent(k)]:
                del self._fails[key]

    #: A rate limit (api/registration.py) counts every attempt, not only failures.
    count = failed

    def succeeded(self, account: str) -> None:
        self._fails.pop("a:" + account, None)
