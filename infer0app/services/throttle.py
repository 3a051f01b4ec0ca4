"""Failure throttling for sign-in, sign-up and OAuth client authentication, in memory.

Sliding windows of recent failures, counted three ways, so that a stranger's failures cannot
lock out the real user (issue 12 §3):

- per (account, address): the tight limit. Guessing one account from one address is slowed
  down; the owner signing in from their own address is not affected by it.
- per address: a looser cap over all accounts, so one address cannot spray many accounts.
- per account, over all addresses (optional, much higher): a distributed guess at one account.
  Its remedy differs: addresses that have signed in to the account successfully (in this
  process, within `trust_for` seconds) are let through, so the owner keeps access while the
  botnet is refused.

Past a limit, further attempts are refused without checking the password (guessing costs the
attacker time, not us CPU), and `retry_after` says for how long. Each server process throttles
what it sees, which is enough for one appliance.
"""

from __future__ import annotations

import time
from collections import defaultdict, deque


class Throttle:
    def __init__(self, *, per_pair: int | None = 5, per_address: int = 20, per_account: int | None = None,
                 window: float = 900.0, trust_for: float = 30 * 86400.0, clock=time.monotonic):
        self.per_pair = per_pair
        self.per_address = per_address
        self.per_account = per_account
        self.window = window
        self.trust_for = trust_for
        self._clock = clock
        self._fails: dict[str, deque[float]] = defaultdict(deque)
        self._trusted: dict[tuple[str, str], float] = {}  # (account, address) -> last success
        self.refused = 0  # attempts `retry_after` turned away (the metrics' infer0_throttled_total)

    def _recent(self, key: str) -> deque[float]:
        q = self._fails.get(key)
        if q is None:
            return deque()
        cutoff = self._clock() - self.window
        while q and q[0] <= cutoff:
            q.popleft()
        return q

    def _wait(self, key: str, limit: int | None) -> float:
        """Seconds until `key` has fewer than `limit` failures in the window (0: not engaged)."""
        if limit is None:
            return 0.0
        q = self._recent(key)
        if len(q) < limit:
            return 0.0
        return max(q[len(q) - limit] + self.window - self._clock(), 0.0)

    def _trusted_address(self, account: str, address: str) -> bool:
        last = self._trusted.get((account, address))
        return last is not None and self._clock() - last < self.trust_for

    def retry_after(self, account: str, address: str) -> float:
        """Seconds until `address` may try `account` again; 0.0 if it may try now."""
        waits = [self._wait(f"p:{account}@{address}", self.per_pair), self._wait("i:" + address, self.per_address)]
        if not self._trusted_address(account, address):
            waits.append(self._wait("a:" + account, self.per_account))
        wait = max(waits)
        if wait > 0:
            self.refused += 1
        return wait

    def blocked(self, account: str, address: str) -> bool:
        return self.retry_after(account, address) > 0

    def failed(self, account: str, address: str) -> None:
        now = self._clock()
        for key in (f"p:{account}@{address}", "i:" + address, "a:" + account):
            self._fails[key].append(now)
        if len(self._fails) > 100_000:  # bound memory under a spray of addresses
            for key in [k for k in list(self._fails) if not self._recent(k)]:
                del self._fails[key]

    #: A rate limit (api/registration.py) counts every attempt, not only failures.
    def count(self, account: str, address: str) -> None:
        self.failed(account, address)

    def succeeded(self, account: str, address: str) -> None:
        """Forget this pair's failures and trust the address for the account. The address's and
        the account's counts stay: a success of one's own must not wipe the record of guesses."""
        self._fails.pop(f"p:{account}@{address}", None)
        if len(self._trusted) > 100_000:
            self._trusted.clear()
        self._trusted[(account, address)] = self._clock()


def minutes_text(seconds: float) -> str:
    """'1 minute', '15 minutes': a wait rounded up to whole minutes, for people."""
    minutes = max(1, -int(-seconds // 60))
    return "1 minute" if minutes == 1 else f"{minutes} minutes"
