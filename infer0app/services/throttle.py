"""Failure throttling for sign-in, sign-up, device codes, client registration and OAuth client
authentication, counted in the database so every process and instance shares one count.

Sliding windows of recent failures, counted three ways, so that a stranger's failures cannot
lock out the real user (issue 12 §3):

- per (account, address): the tight limit. Guessing one account from one address is slowed
  down; the owner signing in from their own address is not affected by it.
- per address: a looser cap over all accounts, so one address cannot spray many accounts.
- per account, over all addresses (optional, much higher): a distributed guess at one account.
  Its remedy differs: addresses that have signed in to the account successfully (within
  `trust_for` seconds) are let through, so the owner keeps access while the botnet is refused.

Past a limit, further attempts are refused without checking the password (guessing costs the
attacker time, not us CPU), and `retry_after` says for how long.

Shared, not per process (issue 15 §3): with `serve --workers N` or N instances on PostgreSQL,
an attacker would otherwise get N times the tries. Each failure is a row of `throttle_failure`
(m0018), keyed by an HMAC of the throttle's scope and the counted key under the keyring's
hmac_key, so no email, address or client id is stored. Times are wall-clock epoch seconds
(`store.clock`), the one clock all processes share. A check is one indexed SELECT of the keys'
rows in the window (almost always none); successes write nothing unless there is something to
clear or the per-account cap needs the address trusted. Expired rows are pruned by `purge`
(runtime/throttle_purge.py).

Methods take the Store first, so handlers call them as `await store.run(throttle.method, ...)`
and the token endpoint inside its group-committed call (oauth/server.py).
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from ..store.models import ThrottleFailure, ThrottleTrust, non_key_fields

_WINDOW_ROWS = ('SELECT "key_hash", "at" FROM "throttle_failure" WHERE "scope" = ? '
                'AND "key_hash" IN (?, ?, ?) AND "at" > ? ORDER BY "at"')


@dataclass(frozen=True)
class Verdict:
    """What a check found: `wait` seconds until the attempt may be made (0.0: now), and whether
    the pair has failures of record (which a success then clears)."""

    wait: float
    pair_failures: int


class Throttle:
    def __init__(self, scope: str, *, per_pair: int | None = 5, per_address: int = 20,
                 per_account: int | None = None, window: float = 900.0, trust_for: float = 30 * 86400.0,
                 pepper: bytes = b"", clock=None):
        """`scope`: this throttle's name in the table ("sign_in", ...); limits are failures per
        `window` seconds; `pepper`: the HMAC key for the stored key hashes (the keyring's
        hmac_key); `clock`: epoch seconds, default the store's clock."""
        self.scope = scope
        self.per_pair = per_pair
        self.per_address = per_address
        self.per_account = per_account
        self.window = window
        self.trust_for = trust_for
        self._pepper = pepper
        self._clock = clock
        self.refused = 0  # attempts this process turned away (the metrics' infer0_throttled_total)

    def _now(self, store) -> float:
        return (self._clock or store.clock)()

    def _hash(self, key: str) -> str:
        return hmac.new(self._pepper, f"{self.scope}\x00{key}".encode(), hashlib.sha256).hexdigest()

    def _keys(self, account: str, address: str) -> tuple[str, str, str]:
        """(pair, address, account) key hashes."""
        return (self._hash(f"p:{account}@{address}"), self._hash("i:" + address), self._hash("a:" + account))

    # -- checks ----------------------------------------------------------------------------------
    def check(self, store, account: str, address: str) -> Verdict:
        """The attempt's Verdict, from the failures of record in the window (one SELECT)."""
        now = self._now(store)
        pair, addr, acct = self._keys(account, address)
        times: dict[str, list[float]] = {pair: [], addr: [], acct: []}
        for key_hash, at in store.raw().execute(_WINDOW_ROWS, (self.scope, pair, addr, acct, now - self.window)):
            times[key_hash].append(at)
        waits = [self._wait(times[pair], self.per_pair, now), self._wait(times[addr], self.per_address, now)]
        account_wait = self._wait(times[acct], self.per_account, now)
        if account_wait and not self._trusted(store, account, address, now):
            waits.append(account_wait)
        wait = max(waits)
        if wait > 0:
            self.refused += 1
        return Verdict(wait, len(times[pair]))

    def _wait(self, times: list[float], limit: int | None, now: float) -> float:
        """Seconds until fewer than `limit` of `times` (ascending) are in the window (0: not engaged)."""
        if limit is None or len(times) < limit:
            return 0.0
        return max(times[len(times) - limit] + self.window - now, 0.0)

    def _trusted(self, store, account: str, address: str, now: float) -> bool:
        row = ThrottleTrust.get_or_none(ThrottleTrust.key_hash == self._hash(f"t:{account}@{address}"))
        return row is not None and now - row.at < self.trust_for

    def retry_after(self, store, account: str, address: str) -> float:
        """Seconds until `address` may try `account` again; 0.0 if it may try now."""
        return self.check(store, account, address).wait

    def blocked(self, store, account: str, address: str) -> bool:
        return self.check(store, account, address).wait > 0

    # -- outcomes --------------------------------------------------------------------------------
    def failed(self, store, account: str, address: str) -> None:
        """Count a failure against the pair, the address and the account (those with a limit)."""
        at = self._now(store)
        limits = (self.per_pair, self.per_address, self.per_account)
        rows = [{"scope": self.scope, "key_hash": k, "at": at}
                for k, limit in zip(self._keys(account, address), limits) if limit is not None]
        with store.write():
            ThrottleFailure.insert_many(rows).execute()

    def attempt(self, store, account: str, address: str) -> float:
        """A rate limit (api/registration.py) counts every attempt, not only failures: check and
        count in one write transaction, so concurrent attempts in other processes cannot slip
        past the limit between the two. Returns the wait (0.0: allowed, and counted)."""
        with store.write():
            wait = self.retry_after(store, account, address)
            if not wait:
                self.failed(store, account, address)
        return wait

    def succeeded(self, store, account: str, address: str, verdict: Verdict | None = None) -> None:
        """Forget this pair's failures and trust the address for the account. The address's and
        the account's counts stay: a success of one's own must not wipe the record of guesses.
        With the attempt's `verdict`, nothing is written when the pair had no failures and this
        throttle has no per-account cap (the token endpoint's every success)."""
        clear = verdict is None or verdict.pair_failures > 0
        if not clear and self.per_account is None:
            return
        with store.write():
            if clear:
                pair = self._keys(account, address)[0]
                ThrottleFailure.delete().where((ThrottleFailure.scope == self.scope)
                                               & (ThrottleFailure.key_hash == pair)).execute()
            if self.per_account is not None:
                ThrottleTrust.insert(key_hash=self._hash(f"t:{account}@{address}"), scope=self.scope,
                                     at=self._now(store)).on_conflict(
                    conflict_target=[ThrottleTrust.key_hash], preserve=non_key_fields(ThrottleTrust)).execute()

    def purge(self, store) -> int:
        """Delete this throttle's rows nobody counts any more (failures past the window, trust past
        `trust_for`); returns how many."""
        now = self._now(store)
        with store.write():
            gone = ThrottleFailure.delete().where((ThrottleFailure.scope == self.scope)
                                                  & (ThrottleFailure.at <= now - self.window)).execute()
            gone += ThrottleTrust.delete().where((ThrottleTrust.scope == self.scope)
                                                 & (ThrottleTrust.at <= now - self.trust_for)).execute()
        return gone


def minutes_text(seconds: float) -> str:
    """'1 minute', '15 minutes': a wait rounded up to whole minutes, for people."""
    minutes = max(1, -int(-seconds // 60))
    return "1 minute" if minutes == 1 else f"{minutes} minutes"
